# DeepLabV3+-MobileNetV2-D8 alone on Pascal VOC 2012 aug: the "student" column,
# trained under the same protocol as its distilled versions.
# Schedule (voc protocol, ../_base_/protocols/voc.py): 50 epochs x 10,582
# images / batch 6 = 88,184 iterations, LR 0.007.
_base_ = [
    '../_base_/models/deeplabv3plus_mbv2-d8.py',
    '../_base_/protocols/voc.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=_base_.num_classes),
    auxiliary_head=dict(num_classes=_base_.num_classes))
