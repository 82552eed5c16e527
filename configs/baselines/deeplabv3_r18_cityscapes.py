# DeepLabV3-R18-D8 alone on Cityscapes: the "student" column, trained under the
# same protocol as its distilled versions.
# Schedule (cityscapes protocol, ../_base_/protocols/cityscapes.py): 200 epochs
# x 2,975 images / batch 6 = 99,167 iterations, LR 0.01.
_base_ = [
    '../_base_/models/deeplabv3_r18-d8.py',
    '../_base_/protocols/cityscapes.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=_base_.num_classes),
    auxiliary_head=dict(num_classes=_base_.num_classes))
