# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Stock mmseg models and runner configs shrunk for CPU tests and demos."""
import copy
from typing import Any, Dict, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.hub import get_config

from .synthetic_shapes import SHAPES_CLASSES, SHAPES_PALETTE

#: Stock mmseg DeepLabV3-D8 configs by backbone.
DEEPLABV3_CONFIGS: Dict[str, str] = {
    'r18': 'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    'r50': 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    'r101':
    'mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-40k_cityscapes-512x1024.py',
}

# (source, record_idx, channels) of AttnFD's layers B and E in stock mmseg
# DeepLabV3 models: B is the pre-ReLU output of the last residual block
# (the input of its ``relu`` at the block's last call), E the ASPP output.
DEEPLABV3_LAYERS: Dict[str, Dict[str, Tuple[str, int, int]]] = {
    'r18': dict(
        B=('backbone.layer4.1.relu', 1, 512),
        E=('decode_head.bottleneck', 0, 128)),
    'r50': dict(
        B=('backbone.layer4.2.relu', 2, 2048),
        E=('decode_head.bottleneck', 0, 512)),
    'r101': dict(
        B=('backbone.layer4.2.relu', 2, 2048),
        E=('decode_head.bottleneck', 0, 512)),
}


def _sync_bn_to_bn(node: Any) -> Any:
    """Return ``node`` with every SyncBN norm config turned into BN."""
    if isinstance(node, dict):
        node = {k: _sync_bn_to_bn(v) for k, v in node.items()}
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
        return node
    if isinstance(node, (list, tuple)):
        return type(node)(_sync_bn_to_bn(v) for v in node)
    return node


def stock_segmentor(cfg_path: str,
                    num_classes: int = len(SHAPES_CLASSES),
                    crop_size: Tuple[int, int] = (64, 64)) -> Dict:
    """The model dict of a stock mmseg config, for tiny CPU runs.

    No pretrained weights, BN instead of SyncBN, ``num_classes`` classes and
    ``crop_size`` padding; everything else as the stock config says.

    Args:
        cfg_path (str): e.g. ``'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_'
            'cityscapes-512x1024.py'``.
    """
    model = get_config(cfg_path).model.to_dict()
    model = _sync_bn_to_bn(model)
    model['_scope_'] = 'mmseg'
    model['pretrained'] = None
    model['backbone'].pop('init_cfg', None)
    model['data_preprocessor']['size'] = tuple(crop_size)
    for head in ('decode_head', 'auxiliary_head'):
        heads = model.get(head)
        for h in heads if isinstance(heads, list) else [heads]:
            if h is not None:
                h['num_classes'] = num_classes
    return model


def attnfd_distiller(student_layers: Dict[str, Tuple[str, int, int]],
                     teacher_layers: Dict[str, Tuple[str, int, int]],
                     layers: Sequence[str] = ('B', 'E'),
                     loss_weight: float = 2.0,
                     normalize: str = 'batch',
                     teacher_learnable: bool = False) -> Dict:
    """A ``ConfigurableDistiller`` dict distilling ``layers`` with AttnFD.

    Student side: learnable ``CBAMConnector`` with channel alignment;
    teacher side: parameter-free ``CBAMConnector``, or a learnable one
    trained through the loss (``teacher_learnable=True``).
    """
    recorders_s, recorders_t, connectors, losses, mappings = ({}, {}, {},
                                                              {}, {})
    for name in layers:
        s_src, s_idx, s_ch = student_layers[name]
        t_src, t_idx, t_ch = teacher_layers[name]
        for src, recorders in ((s_src, recorders_s), (t_src, recorders_t)):
            kind = 'PreForwardInputs' if src.endswith('relu') else \
                'ModuleOutputs'
            recorders[name] = dict(type=kind, source=src)
        t_conn = dict(
            type='CBAMConnector', in_channels=t_ch,
            learnable=teacher_learnable)
        connectors[f'{name}_s'] = dict(
            type='CBAMConnector',
            in_channels=s_ch,
            out_channels=None if s_ch == t_ch else t_ch)
        connectors[f'{name}_t'] = t_conn
        losses[f'loss_attnfd_{name}'] = dict(
            type='AttnFDLoss',
            loss_weight=loss_weight,
            normalize=normalize,
            detach_teacher=not teacher_learnable)

        def record(src: str, idx: int, student: bool) -> Dict:
            out = dict(recorder=name, from_student=student,
                       connector=f'{name}_{"s" if student else "t"}')
            if src.endswith('relu'):
                out.update(record_idx=idx, data_idx=0)
            return out

        mappings[f'loss_attnfd_{name}'] = dict(
            s_feature=record(s_src, s_idx, True),
            t_feature=record(t_src, t_idx, False))
    return dict(
        type='ConfigurableDistiller',
        student_recorders=recorders_s,
        teacher_recorders=recorders_t,
        connectors=connectors,
        distill_losses=losses,
        loss_forward_mappings=mappings)


def tiny_distill_model(student: str = 'r18',
                       teacher: str = 'r50',
                       algorithm: str = 'FrozenTeacherDistill',
                       teacher_ckpt: Optional[str] = None,
                       **distiller_kwargs) -> Dict:
    """An MMRazor algorithm dict distilling stock DeepLabV3 models with
    AttnFD at tiny size; ``distiller_kwargs`` go to
    :func:`attnfd_distiller`."""
    model = dict(
        _scope_='mmrazor',
        type=algorithm,
        architecture=stock_segmentor(DEEPLABV3_CONFIGS[student]),
        teacher=stock_segmentor(DEEPLABV3_CONFIGS[teacher]),
        distiller=attnfd_distiller(DEEPLABV3_LAYERS[student],
                                   DEEPLABV3_LAYERS[teacher],
                                   **distiller_kwargs))
    if teacher_ckpt is not None:
        model['teacher_ckpt'] = teacher_ckpt
    return model


def tiny_runner_config(work_dir: str,
                       data_root: str,
                       model: Dict,
                       max_iters: int = 4,
                       batch_size: int = 2,
                       val_interval: Optional[int] = None,
                       checkpoint_interval: Optional[int] = None,
                       lr: float = 0.01,
                       seed: int = 0) -> Config:
    """A full runner config training ``model`` on the synthetic shapes.

    Iteration-based, SGD + poly LR as mmseg's schedules, CPU-friendly
    (no workers), logs every iteration, ``default_scope='mmseg'``.
    """
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    dataset = dict(
        type='BaseSegDataset',
        data_root=data_root,
        img_suffix='.png',
        seg_map_suffix='.png',
        metainfo=dict(classes=SHAPES_CLASSES, palette=SHAPES_PALETTE),
        pipeline=pipeline)

    def loader(split: str, shuffle: bool, bs: int) -> Dict:
        ds = copy.deepcopy(dataset)
        ds['data_prefix'] = dict(
            img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}')
        return dict(
            batch_size=bs,
            num_workers=0,
            sampler=dict(type='InfiniteSampler' if shuffle else
                         'DefaultSampler', shuffle=shuffle),
            dataset=ds)

    val_interval = val_interval or max_iters
    cfg = dict(
        default_scope='mmseg',
        work_dir=work_dir,
        model=model,
        train_dataloader=loader('train', True, batch_size),
        val_dataloader=loader('val', False, 1),
        test_dataloader=loader('val', False, 1),
        val_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        test_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        train_cfg=dict(
            type='IterBasedTrainLoop',
            max_iters=max_iters,
            val_interval=val_interval),
        val_cfg=dict(type='ValLoop'),
        test_cfg=dict(type='TestLoop'),
        optim_wrapper=dict(
            type='OptimWrapper',
            optimizer=dict(
                type='SGD', lr=lr, momentum=0.9, weight_decay=5e-4)),
        param_scheduler=[
            dict(
                type='PolyLR',
                eta_min=1e-4,
                power=0.9,
                begin=0,
                end=max_iters,
                by_epoch=False)
        ],
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(
                type='LoggerHook', interval=1, log_metric_by_epoch=False),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(
                type='CheckpointHook',
                by_epoch=False,
                interval=checkpoint_interval or max_iters),
            sampler_seed=dict(type='DistSamplerSeedHook')),
        env_cfg=dict(
            cudnn_benchmark=False,
            mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
            dist_cfg=dict(backend='gloo')),
        log_processor=dict(by_epoch=False),
        log_level='WARNING',
        randomness=dict(seed=seed, deterministic=False),
        launcher='none')
    return Config(cfg)
