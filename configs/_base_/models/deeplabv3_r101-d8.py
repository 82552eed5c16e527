# DeepLabV3-R101-D8, the teacher of every pair (mmseg's r101 changes).
_base_ = ['mmseg::_base_/models/deeplabv3_r50-d8.py']
model = dict(pretrained='open-mmlab://resnet101_v1c', backbone=dict(depth=101))
