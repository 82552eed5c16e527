# Quick start student: DeepLabV3-R18-D8 trained from scratch on the synthetic
# shapes that `python tools/demo.py --data-only` writes to work_dirs/demo/data
# (64 train / 16 val images, 64x64, 4 classes). A CPU smoke run of the
# commands, not a benchmark.
# Schedule: 25 iterations, batch 4, SGD LR 0.01, poly decay.
#   python tools/train.py configs/quickstart/deeplabv3_r18_shapes.py
# The tests' runner config (attnfd_mm.testing.tiny_runner_config) is this one, shrunk.
_base_ = [
    '../_base_/models/deeplabv3_r18-d8.py', 'mmseg::_base_/default_runtime.py'
]
custom_imports = dict(imports=['attnfd_mm'], allow_failed_imports=False)
crop_size = (64, 64)
data_root = 'work_dirs/demo/data'
metainfo = dict(
    classes=('background', 'square', 'disc', 'bar'),
    palette=[[0, 0, 0], [220, 20, 60], [0, 128, 255], [255, 200, 0]])
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=4),
    auxiliary_head=dict(num_classes=4))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
dataset = dict(
    type='BaseSegDataset',
    data_root=data_root,
    img_suffix='.png',
    seg_map_suffix='.png',
    metainfo=metainfo)
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        dataset,
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        dataset,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='PerClassIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
max_iters = 25
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=max_iters))
log_processor = dict(by_epoch=False)
