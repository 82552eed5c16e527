# SPEC option: a learnable teacher-side CBAM trained jointly through the
# AttnFD loss (the teacher network itself stays frozen), B+E+D,
# DeepLabV3+-R101 -> DeepLabV3+-R18 on VOC aug. AttnFDDistiller then sets
# AttnFDLoss(detach_teacher=False).
_base_ = ['../attnfd/deeplabv3plus_r101_r18_voc.py']
model = dict(
    distiller=dict(
        teacher_connector=dict(type='CBAMConnector', learnable=True)))
