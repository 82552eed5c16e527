# Teacher DeepLabV3-R101-D8 on COCO-VOC21, to train before distilling into the
# coco students (mmseg has no COCO-VOC21 model-zoo checkpoint).
# Schedule (coco_voc21 protocol, ../_base_/protocols/coco_voc21.py): 30 epochs
# at batch 6 (epoch loop: 30 x N_kept / 6 iterations), LR 0.1.
#   python tools/train.py configs/teachers/deeplabv3_r101_coco.py
_base_ = [
    '../_base_/models/deeplabv3_r101-d8.py',
    '../_base_/protocols/coco_voc21.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=_base_.num_classes),
    auxiliary_head=dict(num_classes=_base_.num_classes))
