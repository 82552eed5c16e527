# COCO-VOC21 (COCO 2017 train images kept by the converter, val2017 for
# validation), the authors' schedule: 30 epochs, SGD LR 0.1, batch 6.
#   iterations = 30 epochs x N_kept / 6 per batch
# N_kept depends on the converter's >1,000-pixel filter (it prints it), so
# this protocol counts epochs and decays the LR per iteration
# (convert_to_iter_based), which is exactly that many iterations.
# Batch 6 = 2 GPUs x 3 images.
_base_ = [
    '../datasets/coco_voc21.py', 'mmseg::_base_/default_runtime.py',
    '../schedules/authors_sgd_poly.py'
]
num_classes = 21
max_epochs = 30
optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = [
    dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=max_epochs,
         by_epoch=True, convert_to_iter_based=True)
]
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
train_dataloader = dict(
    batch_size=3, sampler=dict(type='DefaultSampler', shuffle=True))
default_hooks = dict(
    logger=dict(log_metric_by_epoch=True),
    checkpoint=dict(by_epoch=True, interval=1))
log_processor = dict(by_epoch=True)
auto_scale_lr = dict(enable=False, base_batch_size=6)
