# AttnFD across model families: SegFormer MiT-B5 (teacher, mmseg model zoo,
# 82.25 mIoU) -> SegFormer MiT-B0 (student) on Cityscapes. Layers B + E are
# found in the built models ('auto'): B = MiT stage 4 (1/32), E = the
# SegFormer head's fused feature (the input of conv_seg, 1/4).
# Schedule (the student's stock mmseg recipe, segformer_mit-b0_8xb1-160k_
# cityscapes-1024x1024): 160,000 iterations at batch 8 (8 GPUs x 1), AdamW
# LR 6e-5 (head and connectors 10x), 1,500 warm-up iterations, poly decay.
#   python tools/train.py configs/attnfd/segformer_mit-b5_mit-b0_cityscapes.py
_base_ = [
    'mmseg::segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py',
    '../_base_/teachers/segformer_mit-b5_cityscapes.py'
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
    distiller=dict(type='AttnFDDistiller', layers=['B', 'E']))
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={'distiller.connectors': dict(lr_mult=10.)}))
# random states in checkpoints: a resumed run continues the same run
custom_hooks = [dict(type='RandomStateHook')]
