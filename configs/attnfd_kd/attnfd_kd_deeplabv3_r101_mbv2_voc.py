# AttnFD + KD: the AttnFD config ../attnfd/deeplabv3_r101_mbv2_voc.py with,
# in the same distiller, the logit term of the KD baseline
# ../baselines/kd_deeplabv3_r101_mbv2_voc.py (pixel-wise KL of the logits,
# T=1, MMRazor's KLDivergence at loss weight num_classes: the KL per pixel).
# The AttnFD terms use per-sample normalisation at loss weight 8
# (normalize='sample', the best AttnFD setting of the CamVid benchmark; the
# paper's is the whole-batch norm at weight 2).
# Schedule: as ../attnfd/deeplabv3_r101_mbv2_voc.py.
#   python tools/train.py \
#       configs/attnfd_kd/attnfd_kd_deeplabv3_r101_mbv2_voc.py
_base_ = ['../attnfd/deeplabv3_r101_mbv2_voc.py']
model = dict(
    distiller=dict(
        loss=dict(type='AttnFDLoss', loss_weight=8.0, normalize='sample'),
        logits_loss=dict(
            type='KLDivergence',
            tau=1.0,
            reduction='mean',
            loss_weight=_base_.num_classes),
        logits_loss_name='loss_kd'))
