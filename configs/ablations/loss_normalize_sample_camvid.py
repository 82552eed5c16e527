# SPEC option on CamVid: AttnFD B+E with per-sample normalisation
# (../_base_/methods/attnfd_sample.py), DeepLabV3-R101 -> DeepLabV3-R18; the
# CamVid benchmark compares it with the default (--methods ... attnfd_sample).
# Schedule: as ../_base_/distill/deeplabv3_r101_r18_camvid.py.
_base_ = [
    '../_base_/distill/deeplabv3_r101_r18_camvid.py',
    '../_base_/methods/attnfd_sample.py'
]
model = dict(
    distiller=dict(
        _base_.distiller,
        student_layers='deeplabv3_r18',
        teacher_layers=_base_.teacher_layers))
