# AttnFD with per-sample normalisation at loss weight 8 instead of 2: a
# stronger feature term.
_base_ = ['./attnfd_sample.py']
method = dict(
    label='AttnFD, per-image norm, weight 8',
    description='AttnFD, loss normalised per image, weight 8')
distiller = dict(loss=dict(loss_weight=8.0))
