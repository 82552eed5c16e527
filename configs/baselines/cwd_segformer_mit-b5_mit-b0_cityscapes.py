# CWD baseline (../_base_/methods/cwd.py): SegFormer MiT-B5 (teacher, mmseg
# model zoo, 82.25 mIoU) -> SegFormer MiT-B0 (student) on Cityscapes.
# Schedule: as ../_base_/distill/segformer_mit-b5_mit-b0_cityscapes.py.
#   python tools/train.py \
#       configs/baselines/cwd_segformer_mit-b5_mit-b0_cityscapes.py
_base_ = [
    '../_base_/distill/segformer_mit-b5_mit-b0_cityscapes.py',
    '../_base_/methods/cwd.py'
]
model = dict(distiller=_base_.distiller)
