# Pascal VOC 2012 + SBD aug (10,582 train images, 1,449 val), the authors'
# schedule: 50 epochs at batch 6, SGD LR 0.007.
#   iterations = 50 epochs x 10,582 images / 6 per batch = 88,183.3 -> 88,184
# Batch 6 = 2 GPUs x 3 images (auto_scale_lr rescales the LR for another
# total batch: --cfg-options auto_scale_lr.enable=True). Crop: mmseg's
# 512x512 (the authors' 513 is a TF-DeepLab convention; mmseg's VOC teacher
# was trained at 512).
_base_ = [
    'mmseg::_base_/datasets/pascal_voc12_aug.py',
    'mmseg::_base_/default_runtime.py', '../schedules/authors_sgd_poly.py'
]
num_classes = 21
max_iters = 88184
optim_wrapper = dict(optimizer=dict(lr=0.007))
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
