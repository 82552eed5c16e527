# AttnFD with a learnable teacher-side CBAM trained jointly through the loss
# (the teacher network itself stays frozen; AttnFDDistiller then sets
# AttnFDLoss(detach_teacher=False)).
_base_ = ['./attnfd.py']
method = dict(
    label='AttnFD, learnable teacher CBAM',
    description='AttnFD with a learnable teacher-side CBAM')
distiller = dict(teacher_connector=dict(type='CBAMConnector', learnable=True))
