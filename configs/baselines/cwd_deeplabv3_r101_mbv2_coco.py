# CWD baseline (../_base_/methods/cwd.py): DeepLabV3-R101-D8 (teacher) ->
# DeepLabV3-MobileNetV2-D8 (student) on COCO-VOC21.
# Schedule: as ../_base_/distill/deeplabv3_r101_mbv2_coco.py.
#   python tools/train.py configs/baselines/cwd_deeplabv3_r101_mbv2_coco.py
_base_ = [
    '../_base_/distill/deeplabv3_r101_mbv2_coco.py',
    '../_base_/methods/cwd.py'
]
model = dict(distiller=_base_.distiller)
