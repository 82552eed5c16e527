# Cityscapes (2,975 train images, 500 val), the authors' schedule: 200
# epochs, SGD LR 0.01, at batch 6 (the only batch size the paper states):
#   iterations = 200 epochs x 2,975 images / 6 per batch = 99,166.7 -> 99,167
# Batch 6 = 2 GPUs x 3 images. Crop: mmseg's 512x1024.
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py', '../schedules/authors_sgd_poly.py'
]
num_classes = 19
max_iters = 99167
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
train_dataloader = dict(batch_size=3)
val_evaluator = dict(type='PerClassIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
auto_scale_lr = dict(enable=False, base_batch_size=6)
