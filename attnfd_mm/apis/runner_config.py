# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Config handling shared by ``tools/train.py`` and ``tools/test.py``."""
import argparse
import os
import os.path as osp
from typing import Any, Dict, Optional, Union

import torch

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

#: Scope of the runner's registries: datasets, metrics, hooks and visual
#: tools come from mmseg; distillation models carry ``_scope_='mmrazor'``.
DEFAULT_SCOPE = 'mmseg'


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add the flags ``train.py`` and ``test.py`` share with mmseg's tools
    (``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local_rank``)
    and ``--data-root``."""
    parser.add_argument(
        '--work-dir', help='the dir to save logs, models and metrics')
    parser.add_argument(
        '--data-root',
        help='dataset root for every dataloader of the config (e.g. a CamVid '
        'root with train/, val/, test/ and their *annot/ folders)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value pairs, e.g. '
        'train_cfg.max_iters=100 model.teacher_ckpt=teacher.pth')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local_rank / --local-rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line; export ``LOCAL_RANK`` as mmseg's tools do."""
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_runner_config(config: Union[str, Config],
                       work_dir: Optional[str] = None,
                       cfg_options: Optional[Dict] = None,
                       launcher: str = 'none',
                       data_root: Optional[str] = None) -> Config:
    """Load ``config`` as mmseg's and mmrazor's tools do.

    ``--cfg-options`` are merged, ``work_dir`` defaults to
    ``./work_dirs/<config name>`` and ``default_scope`` to ``'mmseg'``.

    Args:
        config (str | Config): Path of the config file, or a config (used
            as it is; the runner then dumps it as ``<timestamp>.py``).
        work_dir (str, optional): Overrides ``cfg.work_dir``.
        cfg_options (dict, optional): Key-value pairs merged into the config.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        data_root (str, optional): Dataset root of every dataloader (see
            :func:`set_data_root`).

    Returns:
        Config: The config, ready for ``Runner.from_cfg``.
    """
    if isinstance(config, Config):
        cfg = config
        name = 'config'
    else:
        if not osp.isfile(config):
            raise FileNotFoundError(f'Config file not found: {config!r}.')
        cfg = Config.fromfile(config)
        name = osp.splitext(osp.basename(config))[0]
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if data_root is not None:
        set_data_root(cfg, data_root)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', name)
    if cfg.get('default_scope', None) is None:
        cfg.default_scope = DEFAULT_SCOPE
    if launcher != 'none' and not torch.cuda.is_available():
        configure_cpu_distributed(cfg)
    return cfg


def set_data_root(cfg: Config, data_root: str) -> None:
    """Point the datasets of every dataloader of ``cfg`` (and the datasets
    that wrappers such as ``ConcatDataset`` hold) at ``data_root``.

    ``--cfg-options data_root=...`` cannot do this: the config's
    ``data_root`` variable is substituted when the file is parsed.

    Raises:
        FileNotFoundError: ``data_root`` is not a directory.
    """
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'Dataset root not found: {data_root!r}.')

    def visit(dataset: Any) -> None:
        if isinstance(dataset, (list, tuple)):
            for d in dataset:
                visit(d)
        elif isinstance(dataset, dict):
            if 'data_root' in dataset or 'dataset' not in dataset and \
                    'datasets' not in dataset:
                dataset['data_root'] = data_root
            visit(dataset.get('dataset'))
            visit(dataset.get('datasets'))

    cfg.data_root = data_root
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader', None)
        if loader:
            visit(loader.get('dataset'))


def sync_bn_to_bn(node: Any) -> Any:
    """Return ``node`` (a config tree) with every SyncBN norm turned into
    BN."""
    if isinstance(node, dict):
        node = type(node)((k, sync_bn_to_bn(v)) for k, v in node.items())
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
        return node
    if isinstance(node, (list, tuple)):
        return type(node)(sync_bn_to_bn(v) for v in node)
    return node


def configure_cpu_distributed(cfg: Config) -> None:
    """Adapt ``cfg`` to multi-process training without CUDA.

    The gloo backend (NCCL needs CUDA), DDP without ``device_ids`` (CPU
    modules), and BN for the model's SyncBN, which needs CUDA to train;
    mmengine only reverts SyncBN when not distributed. Each process then
    normalises its own batch.
    """
    env = cfg.setdefault('env_cfg', {})
    env.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg', None) or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    wrapper.setdefault('broadcast_buffers', False)  # as mmengine's default
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    cfg.model = sync_bn_to_bn(cfg.model)
    print_log('No CUDA: distributed training on CPU with the gloo backend, '
              'SyncBN as BN.', logger='current')
