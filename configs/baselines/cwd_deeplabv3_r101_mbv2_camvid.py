# CWD baseline: DeepLabV3-R101-D8 -> DeepLabV3-MobileNetV2-D8 on CamVid,
# channel-wise distillation of the logits with MMRazor's ChannelWiseDivergence
# (tau 1, weight 5, as MMRazor's own CWD segmentation config).
# Schedule (camvid protocol, ../_base_/protocols/camvid.py): 200 epochs x 367
# images / batch 8 = 9,175 iterations, LR 0.01.
_base_ = [
    '../baselines/deeplabv3_mbv2_camvid.py',
    '../_base_/teachers/deeplabv3_r101_camvid.py'
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
