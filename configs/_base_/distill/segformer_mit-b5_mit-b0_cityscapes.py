# SegFormer MiT-B5 (teacher, mmseg model zoo, 82.25 mIoU) -> SegFormer MiT-B0
# (student) on Cityscapes: the frozen teacher and the student of the configs
# named after this pair in configs/attnfd/, configs/attnfd_kd/ and
# configs/baselines/ (kd_, cwd_), each of which adds a method of ../methods/.
# Schedule (the student's stock mmseg recipe,
# segformer_mit-b0_8xb1-160k_cityscapes-1024x1024): 160,000 iterations at batch
# 8 (8 GPUs x 1), AdamW LR 6e-5 (head 10x; connectors too in the AttnFD
# configs), 1,500 warm-up iterations, poly decay.
_base_ = [
    'mmseg::segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py',
    '../teachers/segformer_mit-b5_cityscapes.py'
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
    teacher_ckpt=_base_.teacher_ckpt)
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# random states in checkpoints: a resumed run continues the same run
custom_hooks = [dict(type='RandomStateHook')]
