# AttnFD + KD (../_base_/methods/attnfd_kd.py): DeepLabV3-R101-D8 (teacher,
# mmseg model zoo, 80.20 mIoU) -> BiSeNetV2 (real-time student) on Cityscapes.
# Layers B + E are found in the built models ('auto'): for BiSeNetV2, B = the
# bilateral guided aggregation output (1/8, what its head reads), E = the FCN
# head's feature.
# Schedule: as ../_base_/distill/deeplabv3_r101_bisenetv2_cityscapes.py.
#   python tools/train.py \
#       configs/attnfd_kd/attnfd_kd_deeplabv3_r101_bisenetv2_cityscapes.py
_base_ = [
    '../_base_/distill/deeplabv3_r101_bisenetv2_cityscapes.py',
    '../_base_/methods/attnfd_kd.py'
]
model = dict(distiller=_base_.distiller)
