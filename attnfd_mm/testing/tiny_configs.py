# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Stock mmseg models and runner configs shrunk for CPU tests and demos."""
import copy
import functools
import itertools
from typing import Dict, Optional, Tuple

from mmengine.config import Config

from attnfd_mm.apis.config_files import load_config
from attnfd_mm.apis.methods import METHODS
from attnfd_mm.apis.runner_config import (config_dicts, dataset_dicts,
                                          sync_bn_to_bn)
from .synthetic_shapes import SHAPES_CLASSES

#: DeepLabV3-D8 configs by backbone (R34: the quick start's).
DEEPLABV3_CONFIGS: Dict[str, str] = {
    'r18': 'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    'r34': 'attnfd_mm::quickstart/deeplabv3_r34_shapes.py',
    'r50': 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    'r101':
    'mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-40k_cityscapes-512x1024.py',
}


def stock_segmentor(cfg_path: str, num_classes: int = len(SHAPES_CLASSES),
                    crop_size: Tuple[int, int] = (64, 64)) -> Dict:
    """A config's model dict for tiny CPU runs: no initial weights, BN."""
    model = sync_bn_to_bn(load_config(cfg_path).model.to_dict())
    model['_scope_'] = 'mmseg'
    model['pretrained'] = None
    model['backbone'].pop('init_cfg', None)
    model['data_preprocessor']['size'] = tuple(crop_size)
    for head in config_dicts([model.get('decode_head'),
                              model.get('auxiliary_head')]):
        if 'num_classes' in head:
            head['num_classes'] = num_classes
        head.pop('class_weight', None)
    return model


def deeplabv3_segmentor(backbone: str, **kwargs) -> Dict:
    """:func:`stock_segmentor` of :data:`DEEPLABV3_CONFIGS` ``[backbone]``."""
    if backbone not in DEEPLABV3_CONFIGS:
        raise KeyError(f'Unknown DeepLabV3 backbone {backbone!r}; valid '
                       f'ones: {sorted(DEEPLABV3_CONFIGS)}.')
    return stock_segmentor(DEEPLABV3_CONFIGS[backbone], **kwargs)


def tiny_distill_model(student: str = 'r18', teacher: str = 'r50',
                       algorithm: str = 'FrozenTeacherDistill',
                       teacher_ckpt: Optional[str] = None,
                       method: str = 'attnfd') -> Dict:
    """An algorithm dict distilling DeepLabV3 ``teacher`` (random unless
    ``teacher_ckpt``) into ``student`` with ``method``, on layer presets."""
    distiller = copy.deepcopy(METHODS[method].distiller)
    distiller.update(student_layers=f'deeplabv3_{student}',
                     teacher_layers=f'deeplabv3_{teacher}')
    model = dict(_scope_='mmrazor', type=algorithm,
                 architecture=deeplabv3_segmentor(student),
                 teacher=deeplabv3_segmentor(teacher), distiller=distiller)
    if teacher_ckpt is not None:
        model['teacher_ckpt'] = teacher_ckpt
    elif algorithm == 'FrozenTeacherDistill':
        model['random_teacher'] = True
    return model


@functools.lru_cache(maxsize=None)
def _quickstart() -> Dict:
    return load_config(
        'attnfd_mm::quickstart/deeplabv3_r18_shapes.py').to_dict()


#: numbers the runs of :func:`tiny_runner_config` in this process
_RUN_NUMBERS = itertools.count()


def tiny_runner_config(work_dir: str, data_root: str, model: Dict,
                       max_iters: int = 4, batch_size: int = 2,
                       val_interval: Optional[int] = None,
                       checkpoint_interval: Optional[int] = None,
                       lr: float = 0.01) -> Config:
    """The quick-start config training ``model`` on the shapes at
    ``data_root``: no flip, logs at WARNING, no ``StudentCostHook``.

    Each config has its own ``experiment_name``: mmengine names a run's
    logger, visualizer and message hub after it (by default the time, to the
    second), and a process may build several tiny runs a second.
    """
    cfg = Config(copy.deepcopy(_quickstart()))
    cfg.merge_from_dict({
        'train_dataloader.batch_size': batch_size,
        'train_dataloader.dataset.pipeline': cfg.test_pipeline,
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': val_interval or max_iters,
        'param_scheduler.0.end': max_iters,
        'optim_wrapper.optimizer.lr': lr,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': checkpoint_interval or max_iters,
        'env_cfg.cudnn_benchmark': False,
        'env_cfg.dist_cfg.backend': 'gloo',
    })
    for dataset in dataset_dicts(cfg):
        dataset['data_root'] = data_root
    for key in ('model', 'norm_cfg', 'data_preprocessor', 'vis_backends',
                'visualizer', 'crop_size', 'data_root', 'metainfo',
                'train_pipeline', 'test_pipeline', 'dataset', 'max_iters'):
        cfg.pop(key)
    cfg.update(work_dir=work_dir, model=model, launcher='none',
               custom_hooks=[dict(type='RandomStateHook')],
               log_level='WARNING', measure_student_cost=False,
               experiment_name=f'tiny_run_{next(_RUN_NUMBERS)}',
               randomness=dict(seed=0, deterministic=False))
    return cfg
