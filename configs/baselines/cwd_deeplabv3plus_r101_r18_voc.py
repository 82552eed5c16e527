# CWD baseline: DeepLabV3+-R101-D8 -> DeepLabV3+-R18-D8 on Pascal VOC 2012 aug,
# channel-wise distillation of the logits with MMRazor's ChannelWiseDivergence
# (tau 1, weight 5, as MMRazor's own CWD segmentation config).
# Schedule (voc protocol, ../_base_/protocols/voc.py): 50 epochs x 10,582
# images / batch 6 = 88,184 iterations, LR 0.007.
_base_ = [
    '../baselines/deeplabv3plus_r18_voc.py',
    '../_base_/teachers/deeplabv3plus_r101_voc.py'
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
        loss_name='loss_cwd',
        loss=dict(type='ChannelWiseDivergence', tau=1, loss_weight=5)))
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
