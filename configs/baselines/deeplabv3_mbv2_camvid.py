# DeepLabV3-MobileNetV2-D8 alone on CamVid: the "student" column, trained under
# the same protocol as its distilled versions.
# Schedule (camvid protocol, ../_base_/protocols/camvid.py): 200 epochs x 367
# images / batch 8 = 9,175 iterations, LR 0.01.
_base_ = [
    '../_base_/models/deeplabv3_mbv2-d8.py',
    '../_base_/protocols/camvid.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=_base_.num_classes),
    auxiliary_head=dict(num_classes=_base_.num_classes))
