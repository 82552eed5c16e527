# AttnFD (https://arxiv.org/abs/2403.05451) as in the paper: CBAM on both
# sides (learnable on the student, parameter-free on the teacher), AttnFDLoss
# weight 2 with the authors' whole-batch normalisation, layers B + E (a paper
# config with a distinct decoder feature adds D).
method = dict(
    label='AttnFD',
    description="the paper's AttnFD: CBAM both sides, loss weight 2, "
    'whole-batch norm')
distiller = dict(
    type='AttnFDDistiller',
    layers=['B', 'E'],
    loss=dict(type='AttnFDLoss', loss_weight=2.0, normalize='batch'))
