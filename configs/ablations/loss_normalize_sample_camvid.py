# SPEC option on CamVid: AttnFD B+E with per-sample normalisation
# (AttnFDLoss normalize='sample'): each image's refined map is scaled to unit
# norm on its own, so the loss does not shrink with the batch size (with the
# authors' whole-batch norm each image carries about 1/B of it).
# DeepLabV3-R101 -> DeepLabV3-R18; the CamVid benchmark compares it with the
# default (--methods ... attnfd_sample).
# Schedule: as ../attnfd/deeplabv3_r101_r18_camvid.py.
_base_ = ['../attnfd/deeplabv3_r101_r18_camvid.py']
model = dict(
    distiller=dict(
        loss=dict(type='AttnFDLoss', loss_weight=2.0, normalize='sample')))
