# AttnFD (../_base_/methods/attnfd.py): SegFormer MiT-B5 (teacher, mmseg model
# zoo, 82.25 mIoU) -> SegFormer MiT-B0 (student) on Cityscapes. Layers B + E
# are found in the built models ('auto'): B = MiT stage 4 (1/32), E = the
# SegFormer head's fused feature (the input of conv_seg, 1/4).
# Schedule: as ../_base_/distill/segformer_mit-b5_mit-b0_cityscapes.py.
#   python tools/train.py configs/attnfd/segformer_mit-b5_mit-b0_cityscapes.py
_base_ = [
    '../_base_/distill/segformer_mit-b5_mit-b0_cityscapes.py',
    '../_base_/methods/attnfd.py'
]
model = dict(distiller=_base_.distiller)
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={'distiller.connectors': dict(lr_mult=10.)}))
