# SPEC option on CamVid: AttnFD B+E with a learnable teacher-side CBAM
# (../_base_/methods/attnfd_tcbam.py), DeepLabV3-R101 -> DeepLabV3-R18; the
# CamVid benchmark compares it with the default parameter-free teacher-side
# gates (--methods ... attnfd_tcbam).
# Schedule: as ../_base_/distill/deeplabv3_r101_r18_camvid.py.
_base_ = [
    '../_base_/distill/deeplabv3_r101_r18_camvid.py',
    '../_base_/methods/attnfd_tcbam.py'
]
model = dict(
    distiller=dict(
        _base_.distiller,
        student_layers='deeplabv3_r18',
        teacher_layers=_base_.teacher_layers))
