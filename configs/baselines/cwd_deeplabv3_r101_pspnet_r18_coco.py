# CWD baseline (../_base_/methods/cwd.py): DeepLabV3-R101-D8 (teacher) ->
# PSPNet-R18-D8 (student) on COCO-VOC21.
# Schedule: as ../_base_/distill/deeplabv3_r101_pspnet_r18_coco.py.
#   python tools/train.py \
#       configs/baselines/cwd_deeplabv3_r101_pspnet_r18_coco.py
_base_ = [
    '../_base_/distill/deeplabv3_r101_pspnet_r18_coco.py',
    '../_base_/methods/cwd.py'
]
model = dict(distiller=_base_.distiller)
