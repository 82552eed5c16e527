# PSPNet-R18-D8 alone on COCO-VOC21: the "student" column, trained under the
# same protocol as its distilled versions (../_base_/protocols/coco_voc21.py).
_base_ = [
    '../_base_/models/pspnet_r18-d8.py',
    '../_base_/protocols/coco_voc21.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=_base_.num_classes),
    auxiliary_head=dict(num_classes=_base_.num_classes))
