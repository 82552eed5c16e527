# PSPNet-R18-D8 alone on COCO-VOC21: the "student" column, trained under the
# same protocol as its distilled versions.
# Schedule (coco_voc21 protocol, ../_base_/protocols/coco_voc21.py): 30 epochs
# at batch 6 (epoch loop: 30 x N_kept / 6 iterations), LR 0.1.
_base_ = [
    '../_base_/models/pspnet_r18-d8.py',
    '../_base_/protocols/coco_voc21.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=_base_.num_classes),
    auxiliary_head=dict(num_classes=_base_.num_classes))
