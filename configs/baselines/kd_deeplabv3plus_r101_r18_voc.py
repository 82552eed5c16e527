# KD baseline (../_base_/methods/kd.py): DeepLabV3+-R101-D8 (teacher) ->
# DeepLabV3+-R18-D8 (student) on Pascal VOC 2012 aug.
# Schedule: as ../_base_/distill/deeplabv3plus_r101_r18_voc.py.
#   python tools/train.py configs/baselines/kd_deeplabv3plus_r101_r18_voc.py
_base_ = [
    '../_base_/distill/deeplabv3plus_r101_r18_voc.py',
    '../_base_/methods/kd.py'
]
model = dict(distiller=_base_.distiller)
