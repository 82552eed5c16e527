# PSPNet-R18-D8: mmseg's PSPNet model with the ResNet-18 changes of mmseg's
# pspnet_r18-d8 configs.
_base_ = ['mmseg::_base_/models/pspnet_r50-d8.py']
model = dict(
    pretrained='open-mmlab://resnet18_v1c',
    backbone=dict(depth=18),
    decode_head=dict(in_channels=512, channels=128),
    auxiliary_head=dict(in_channels=256, channels=64))
