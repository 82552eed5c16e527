# AttnFD B+E on CamVid with the whole-batch normalisation at loss weight 16
# (../_base_/methods/attnfd_w16.py), DeepLabV3-R101 -> DeepLabV3-R18; the
# CamVid benchmark compares it with the default (--methods ... attnfd_w16).
# Schedule: as ../_base_/distill/deeplabv3_r101_r18_camvid.py.
_base_ = [
    '../_base_/distill/deeplabv3_r101_r18_camvid.py',
    '../_base_/methods/attnfd_w16.py'
]
model = dict(
    distiller=dict(
        _base_.distiller,
        student_layers='deeplabv3_r18',
        teacher_layers=_base_.teacher_layers))
