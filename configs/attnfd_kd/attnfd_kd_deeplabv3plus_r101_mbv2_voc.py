# AttnFD + KD (../_base_/methods/attnfd_kd.py): DeepLabV3+-R101-D8 (teacher) ->
# DeepLabV3+-MobileNetV2-D8 (student) on Pascal VOC 2012 aug, layers B + E + D.
# Schedule: as ../_base_/distill/deeplabv3plus_r101_mbv2_voc.py.
#   python tools/train.py \
#       configs/attnfd_kd/attnfd_kd_deeplabv3plus_r101_mbv2_voc.py
_base_ = [
    '../_base_/distill/deeplabv3plus_r101_mbv2_voc.py',
    '../_base_/methods/attnfd_kd.py'
]
model = dict(
    distiller=dict(
        _base_.distiller,
        layers=['B', 'E', 'D'],
        student_layers='deeplabv3plus_mbv2',
        teacher_layers=_base_.teacher_layers))
