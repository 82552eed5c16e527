custom_imports = dict(imports=['attnfd_mm'], allow_failed_imports=False)

# The optimizer of the AttnFD authors: SGD, Nesterov momentum 0.9, weight
# decay 5e-4, poly LR decay (power 0.9) to zero; the decode/auxiliary heads
# and the distillation connectors at 10x the backbone LR. Each protocol sets
# the LR, the schedule length and the PolyLR `end`.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=True),
    paramwise_cfg=dict(
        custom_keys={
            'decode_head': dict(lr_mult=10.),
            'auxiliary_head': dict(lr_mult=10.),
            'distiller.connectors': dict(lr_mult=10.),
        }),
    clip_grad=None)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=4000, max_keep_ckpts=3,
        save_best='mIoU'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
# random states in checkpoints: a resumed run continues the same run
custom_hooks = [dict(type='RandomStateHook')]
