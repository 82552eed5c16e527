# AttnFD B+E on CamVid with per-sample normalisation (AttnFDLoss
# normalize='sample') at loss weight 8 instead of 2: a stronger feature term.
# DeepLabV3-R101 -> DeepLabV3-R18; the CamVid benchmark compares it with the
# default (--methods ... attnfd_sample_w8).
# Schedule: as ../attnfd/deeplabv3_r101_r18_camvid.py.
_base_ = ['../attnfd/deeplabv3_r101_r18_camvid.py']
model = dict(
    distiller=dict(
        loss=dict(type='AttnFDLoss', loss_weight=8.0, normalize='sample')))
