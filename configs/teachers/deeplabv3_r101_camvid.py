# Teacher DeepLabV3-R101-D8 on CamVid, to train before distilling into the
# camvid students (mmseg has no CamVid model-zoo checkpoint).
# Schedule (camvid protocol, ../_base_/protocols/camvid.py): 200 epochs x 367
# images / batch 8 = 9,175 iterations, LR 0.01.
#   python tools/train.py configs/teachers/deeplabv3_r101_camvid.py
_base_ = [
    '../_base_/models/deeplabv3_r101-d8.py',
    '../_base_/protocols/camvid.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=_base_.num_classes),
    auxiliary_head=dict(num_classes=_base_.num_classes))
