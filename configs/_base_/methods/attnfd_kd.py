# AttnFD + KD in one distiller: the AttnFD terms of ./attnfd_sample_w8.py
# (per-sample normalisation at loss weight 8, the best AttnFD setting of the
# CamVid benchmark) plus the KD term of ./kd.py on the logits.
_base_ = ['./attnfd_sample_w8.py']
method = dict(
    label='AttnFD + KD',
    description='AttnFD (per-image norm, weight 8) plus the KD term (the '
    'default)')
distiller = dict(
    logits_loss=dict(type='PixelKLDivergence', tau=1.0),
    logits_loss_name='loss_kd')
