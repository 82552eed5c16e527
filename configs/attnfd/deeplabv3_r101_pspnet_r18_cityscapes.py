# AttnFD: DeepLabV3-R101-D8 (teacher) -> PSPNet-R18-D8 (student) on Cityscapes,
# layers B + E (no distinct D); CBAM on both sides (learnable on the student,
# parameter-free on the teacher), AttnFDLoss weight 2.
# Schedule (cityscapes protocol, ../_base_/protocols/cityscapes.py): 200 epochs
# x 2,975 images / batch 6 = 99,167 iterations, LR 0.01.
#   python tools/train.py configs/attnfd/deeplabv3_r101_pspnet_r18_cityscapes.py
_base_ = [
    '../baselines/pspnet_r18_cityscapes.py',
    '../_base_/teachers/deeplabv3_r101_cityscapes.py'
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
        student_layers='pspnet_r18',
        teacher_layers=_base_.teacher_layers,
        layers=['B', 'E']))
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
