# KD baseline: DeepLabV3-R101-D8 -> DeepLabV3-MobileNetV2-D8 on COCO-VOC21,
# pixel-wise KL of the logits (Hinton KD, T=1) with MMRazor's KLDivergence. Its
# 'mean' reduction averages over N*C*H*W; loss_weight=num_classes makes it the
# KL per pixel.
# Schedule (coco_voc21 protocol, ../_base_/protocols/coco_voc21.py): 30 epochs
# at batch 6 (epoch loop: 30 x N_kept / 6 iterations), LR 0.1.
_base_ = [
    '../baselines/deeplabv3_mbv2_coco.py',
    '../_base_/teachers/deeplabv3_r101_coco.py'
]
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FrozenTeacherDistill',
    architecture=_base_.model,
    # the student's (the runner would otherwise pass the top-level one)
    data_preprocessor=dict(_base_.model.data_preprocessor, _scope_='mmseg'),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    distiller=dict(
        type='LogitsDistiller',
        loss_name='loss_kd',
        loss=dict(
            type='KLDivergence',
            tau=1.0,
            reduction='mean',
            loss_weight=_base_.num_classes)))
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
