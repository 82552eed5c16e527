# CWD (Shu et al., https://arxiv.org/abs/2011.13256) on the logits: MMRazor's
# ChannelWiseDivergence at tau 1, weight 5, as MMRazor's own CWD segmentation
# config.
method = dict(
    label='CWD',
    description='channel-wise distillation of the logits, tau 1, weight 5')
distiller = dict(
    type='LogitsDistiller',
    loss_name='loss_cwd',
    loss=dict(type='ChannelWiseDivergence', tau=1, loss_weight=5))
