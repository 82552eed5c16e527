# AttnFD: DeepLabV3-R101-D8 (teacher) -> DeepLabV3-R18-D8 (student),
# Pascal VOC 2012 + SBD aug, 512x512 crops, layers B + E (DeepLabV3 has no
# decoder, so no distinct D).
#
# Dataset, schedule (40k iters, 4 GPUs x 4 images, SGD lr 0.01, poly) and
# runtime are mmseg's stock DeepLabV3 VOC-aug config; the student is that
# config's model with the ResNet-18 changes of mmseg's deeplabv3_r18-d8
# configs; the teacher is mmseg's DeepLabV3-R101-D8 VOC-aug model-zoo
# checkpoint (77.92 mIoU, 40k).
#
#   python tools/train.py configs/attnfd/deeplabv3_r101_r18_voc.py
#   bash tools/dist_train.sh configs/attnfd/deeplabv3_r101_r18_voc.py 4
_base_ = ['mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-40k_voc12aug-512x512.py']

custom_imports = dict(imports=['attnfd_mm'], allow_failed_imports=False)

teacher_cfg_path = 'mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512.py'  # noqa: E501
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/deeplabv3_r101-d8_512x512_40k_voc12aug/deeplabv3_r101-d8_512x512_40k_voc12aug_20200613_161432-0017d784.pth'  # noqa: E501

student = _base_.model
student.pretrained = 'open-mmlab://resnet18_v1c'
student.backbone.depth = 18
student.decode_head.in_channels = 512
student.decode_head.channels = 128
student.auxiliary_head.in_channels = 256
student.auxiliary_head.channels = 64

# AttnFD layers (SPEC section 2). B: pre-ReLU output of the last residual
# block = input of its `relu` at the block's last call (BasicBlock: 2nd,
# Bottleneck: 3rd). E: ASPP output after its projection ConvModule.
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FrozenTeacherDistill',
    architecture=student,
    teacher=dict(cfg_path=teacher_cfg_path, pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            B=dict(type='PreForwardInputs', source='backbone.layer4.1.relu'),
            E=dict(type='ModuleOutputs', source='decode_head.bottleneck')),
        teacher_recorders=dict(
            B=dict(type='PreForwardInputs', source='backbone.layer4.2.relu'),
            E=dict(type='ModuleOutputs', source='decode_head.bottleneck')),
        connectors=dict(
            B_s=dict(type='CBAMConnector', in_channels=512, out_channels=2048),
            B_t=dict(type='CBAMConnector', in_channels=2048, learnable=False),
            E_s=dict(type='CBAMConnector', in_channels=128, out_channels=512),
            E_t=dict(type='CBAMConnector', in_channels=512, learnable=False)),
        distill_losses=dict(
            loss_attnfd_B=dict(type='AttnFDLoss', loss_weight=2.0),
            loss_attnfd_E=dict(type='AttnFDLoss', loss_weight=2.0)),
        loss_forward_mappings=dict(
            loss_attnfd_B=dict(
                s_feature=dict(
                    recorder='B', from_student=True, record_idx=1,
                    data_idx=0, connector='B_s'),
                t_feature=dict(
                    recorder='B', from_student=False, record_idx=2,
                    data_idx=0, connector='B_t')),
            loss_attnfd_E=dict(
                s_feature=dict(
                    recorder='E', from_student=True, connector='E_s'),
                t_feature=dict(
                    recorder='E', from_student=False, connector='E_t')))))

find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
