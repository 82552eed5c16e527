# DeepLabV3+-R18-D8: mmseg's DeepLabV3+ model with the ResNet-18 changes of
# mmseg's deeplabv3plus_r18-d8 configs.
_base_ = ['mmseg::_base_/models/deeplabv3plus_r50-d8.py']
model = dict(
    pretrained='open-mmlab://resnet18_v1c',
    backbone=dict(depth=18),
    decode_head=dict(
        c1_in_channels=64, c1_channels=12, in_channels=512, channels=128),
    auxiliary_head=dict(in_channels=256, channels=64))
