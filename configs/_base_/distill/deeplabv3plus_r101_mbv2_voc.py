# DeepLabV3+-R101-D8 (teacher) -> DeepLabV3+-MobileNetV2-D8 (student) on Pascal
# VOC 2012 aug: the frozen teacher and the student of the configs named after
# this pair in configs/attnfd/, configs/attnfd_kd/ and configs/baselines/ (kd_,
# cwd_), each of which adds a method of ../methods/.
# Schedule (voc protocol, ../protocols/voc.py): 50 epochs x 10,582 images /
# batch 6 = 88,184 iterations, LR 0.007.
_base_ = [
    '../../baselines/deeplabv3plus_mbv2_voc.py',
    '../teachers/deeplabv3plus_r101_voc.py'
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
