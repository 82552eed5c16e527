# CamVid (367 train images, 101 val, 233 test; 360x480). The paper gives no
# CamVid schedule; this one follows its Cityscapes setting (SGD LR 0.01,
# 200 epochs) at batch 8 and full resolution:
#   iterations = 200 epochs x 367 images / 8 per batch = 9,175
# Batch 8 = 4 GPUs x 2 images.
_base_ = [
    '../datasets/camvid.py', 'mmseg::_base_/default_runtime.py',
    '../schedules/authors_sgd_poly.py'
]
num_classes = 11
max_iters = 9175
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000))
auto_scale_lr = dict(enable=False, base_batch_size=8)
