# AttnFD B+E on CamVid with the authors' whole-batch normalisation at loss
# weight 16 (2 x batch size 8) instead of 2: with that norm each image
# carries about 1/8 of it, so at batch 8 this gives each image about the
# weight it has with per-sample normalisation at weight 2 (the weight does
# not follow other batch sizes).
# DeepLabV3-R101 -> DeepLabV3-R18; the CamVid benchmark compares it with the
# default (--methods ... attnfd_w16).
# Schedule: as ../attnfd/deeplabv3_r101_r18_camvid.py.
_base_ = ['../attnfd/deeplabv3_r101_r18_camvid.py']
model = dict(
    distiller=dict(
        loss=dict(type='AttnFDLoss', loss_weight=16.0, normalize='batch')))
