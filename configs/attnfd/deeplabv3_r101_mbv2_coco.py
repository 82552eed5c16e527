# AttnFD: DeepLabV3-R101-D8 (teacher) -> DeepLabV3-MobileNetV2-D8 (student) on
# COCO-VOC21, layers B + E (no distinct D); CBAM on both sides (learnable on
# the student, parameter-free on the teacher), AttnFDLoss weight 2.
# Schedule (coco_voc21 protocol, ../_base_/protocols/coco_voc21.py): 30 epochs
# at batch 6 (epoch loop: 30 x N_kept / 6 iterations), LR 0.1.
#   python tools/train.py configs/attnfd/deeplabv3_r101_mbv2_coco.py
_base_ = [
    '../baselines/deeplabv3_mbv2_coco.py',
    '../_base_/teachers/deeplabv3_r101_coco.py'
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
        student_layers='deeplabv3_mbv2',
        teacher_layers=_base_.teacher_layers,
        layers=['B', 'E']))
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
