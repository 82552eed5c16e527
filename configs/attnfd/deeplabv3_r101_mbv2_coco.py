# AttnFD (../_base_/methods/attnfd.py): DeepLabV3-R101-D8 (teacher) ->
# DeepLabV3-MobileNetV2-D8 (student) on COCO-VOC21, layers B + E.
# Schedule: as ../_base_/distill/deeplabv3_r101_mbv2_coco.py.
#   python tools/train.py configs/attnfd/deeplabv3_r101_mbv2_coco.py
_base_ = [
    '../_base_/distill/deeplabv3_r101_mbv2_coco.py',
    '../_base_/methods/attnfd.py'
]
model = dict(
    distiller=dict(
        _base_.distiller,
        student_layers='deeplabv3_mbv2',
        teacher_layers=_base_.teacher_layers))
