# AttnFD: DeepLabV3+-R101-D8 (teacher) -> DeepLabV3+-MobileNetV2-D8 (student)
# on Pascal VOC 2012 aug, layers B + E + D; CBAM on both sides (learnable on
# the student, parameter-free on the teacher), AttnFDLoss weight 2.
# Schedule (voc protocol, ../_base_/protocols/voc.py): 50 epochs x 10,582
# images / batch 6 = 88,184 iterations, LR 0.007.
#   python tools/train.py configs/attnfd/deeplabv3plus_r101_mbv2_voc.py
_base_ = [
    '../baselines/deeplabv3plus_mbv2_voc.py',
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
        type='AttnFDDistiller',
        student_layers='deeplabv3plus_mbv2',
        teacher_layers=_base_.teacher_layers,
        layers=['B', 'E', 'D']))
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
