# AttnFD with per-sample normalisation (AttnFDLoss normalize='sample'): each
# image's refined map is scaled to unit norm on its own, so the loss does not
# shrink with the batch size (with the whole-batch norm each image carries
# about 1/B of it).
_base_ = ['./attnfd.py']
method = dict(
    label='AttnFD, per-image norm',
    description='AttnFD with the loss normalised per image')
distiller = dict(loss=dict(normalize='sample'))
