# AttnFD + KD (../_base_/methods/attnfd_kd.py): DeepLabV3-R101-D8 (teacher) ->
# DeepLabV3-MobileNetV2-D8 (student) on Cityscapes, layers B + E.
# Schedule: as ../_base_/distill/deeplabv3_r101_mbv2_cityscapes.py.
#   python tools/train.py \
#       configs/attnfd_kd/attnfd_kd_deeplabv3_r101_mbv2_cityscapes.py
_base_ = [
    '../_base_/distill/deeplabv3_r101_mbv2_cityscapes.py',
    '../_base_/methods/attnfd_kd.py'
]
model = dict(
    distiller=dict(
        _base_.distiller,
        student_layers='deeplabv3_mbv2',
        teacher_layers=_base_.teacher_layers))
