# CWD baseline (../_base_/methods/cwd.py): DeepLabV3-R101-D8 (teacher, mmseg
# model zoo, 80.20 mIoU) -> BiSeNetV2 (real-time student) on Cityscapes.
# Schedule: as ../_base_/distill/deeplabv3_r101_bisenetv2_cityscapes.py.
#   python tools/train.py \
#       configs/baselines/cwd_deeplabv3_r101_bisenetv2_cityscapes.py
_base_ = [
    '../_base_/distill/deeplabv3_r101_bisenetv2_cityscapes.py',
    '../_base_/methods/cwd.py'
]
model = dict(distiller=_base_.distiller)
