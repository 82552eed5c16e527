# KD baseline (../_base_/methods/kd.py): DeepLabV3-R101-D8 (teacher) ->
# PSPNet-R18-D8 (student) on CamVid.
# Schedule: as ../_base_/distill/deeplabv3_r101_pspnet_r18_camvid.py.
#   python tools/train.py \
#       configs/baselines/kd_deeplabv3_r101_pspnet_r18_camvid.py
_base_ = [
    '../_base_/distill/deeplabv3_r101_pspnet_r18_camvid.py',
    '../_base_/methods/kd.py'
]
model = dict(distiller=_base_.distiller)
