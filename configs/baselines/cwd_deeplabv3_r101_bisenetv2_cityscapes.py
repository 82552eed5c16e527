# CWD baseline across model families: DeepLabV3-R101-D8 (teacher,
# mmseg model zoo, 80.20 mIoU) -> BiSeNetV2 (student)
# on Cityscapes; channel-wise distillation of the logits with
# MMRazor's ChannelWiseDivergence (tau 1, weight 5, as MMRazor's CWD config).
# Schedule (the student's stock mmseg recipe, bisenetv2_fcn_4xb4-160k_
# cityscapes-1024x1024): 160,000 iterations at batch 16 (4 GPUs x 4), SGD
# LR 0.05, 1,000 warm-up iterations, poly decay; 1024x1024 crops.
#   python tools/train.py \
#       configs/baselines/cwd_deeplabv3_r101_bisenetv2_cityscapes.py
_base_ = [
    'mmseg::bisenetv2/bisenetv2_fcn_4xb4-160k_cityscapes-1024x1024.py',
    '../_base_/teachers/deeplabv3_r101_cityscapes.py'
]
custom_imports = dict(imports=['attnfd_mm'], allow_failed_imports=False)
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
# random states in checkpoints: a resumed run continues the same run
custom_hooks = [dict(type='RandomStateHook')]
