# KD (Hinton et al., https://arxiv.org/abs/1503.02531) on the logits: the KL
# divergence of each pixel's class distribution at T=1, summed over the
# classes and averaged over the pixels.
method = dict(
    label='KD', description='pixel-wise KL of the logits, T=1, per pixel')
distiller = dict(
    type='LogitsDistiller',
    loss_name='loss_kd',
    loss=dict(type='PixelKLDivergence', tau=1.0))
