# AttnFD: DeepLabV3-R101-D8 (teacher) -> DeepLabV3-R18-D8 (student) on CamVid,
# layers B + E (no distinct D); CBAM on both sides (learnable on the student,
# parameter-free on the teacher), AttnFDLoss weight 2.
# Schedule (camvid protocol, ../_base_/protocols/camvid.py): 200 epochs x 367
# images / batch 8 = 9,175 iterations, LR 0.01.
#   python tools/train.py configs/attnfd/deeplabv3_r101_r18_camvid.py
_base_ = [
    '../baselines/deeplabv3_r18_camvid.py',
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
        type='AttnFDDistiller',
        student_layers='deeplabv3_r18',
        teacher_layers=_base_.teacher_layers,
        layers=['B', 'E']))
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
