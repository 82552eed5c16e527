# AttnFD (../_base_/methods/attnfd.py): DeepLabV3-R101-D8 (teacher) ->
# PSPNet-R18-D8 (student) on Cityscapes, layers B + E.
# Schedule: as ../_base_/distill/deeplabv3_r101_pspnet_r18_cityscapes.py.
#   python tools/train.py \
#       configs/attnfd/deeplabv3_r101_pspnet_r18_cityscapes.py
_base_ = [
    '../_base_/distill/deeplabv3_r101_pspnet_r18_cityscapes.py',
    '../_base_/methods/attnfd.py'
]
model = dict(
    distiller=dict(
        _base_.distiller,
        student_layers='pspnet_r18',
        teacher_layers=_base_.teacher_layers))
