# Quick start teacher: DeepLabV3-R34-D8 (the R18 model's head) on the same
# synthetic shapes, trained from scratch for twice the student's iterations.
# Schedule: 50 iterations, batch 4, SGD LR 0.01, poly decay.
#   python tools/train.py configs/quickstart/deeplabv3_r34_shapes.py
# The tests' DeepLabV3-R34 (attnfd_mm.testing.deeplabv3_segmentor) is this
# model.
_base_ = ['./deeplabv3_r18_shapes.py']
model = dict(backbone=dict(depth=34))
max_iters = 50
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
