# DeepLabV3-R101-D8 (teacher) -> DeepLabV3-R18-D8 (student) on Cityscapes: the
# frozen teacher and the student of the configs named after this pair in
# configs/attnfd/, configs/attnfd_kd/ and configs/baselines/ (kd_, cwd_), each
# of which adds a method of ../methods/.
# Schedule (cityscapes protocol, ../protocols/cityscapes.py): 200 epochs x
# 2,975 images / batch 6 = 99,167 iterations, LR 0.01.
_base_ = [
    '../../baselines/deeplabv3_r18_cityscapes.py',
    '../teachers/deeplabv3_r101_cityscapes.py'
]
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
