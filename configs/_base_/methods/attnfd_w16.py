# AttnFD with the whole-batch normalisation at loss weight 16 (2 x batch size
# 8): at batch 8 each image gets about the weight it has with per-sample
# normalisation at weight 2 (the weight does not follow other batch sizes).
_base_ = ['./attnfd.py']
method = dict(
    label='AttnFD, weight 16', description='AttnFD at loss weight 16')
distiller = dict(loss=dict(loss_weight=16.0))
