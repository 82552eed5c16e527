# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Config handling shared by ``tools/train.py`` and ``tools/test.py``."""
import argparse
import copy
import os
import os.path as osp
from typing import Any, Dict, Iterator, Optional

import torch

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from .config_files import load_config

#: Scope of the runner's registries (distillation models: ``'mmrazor'``).
DEFAULT_SCOPE = 'mmseg'


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add mmseg's shared tool flags and ``--data-root``."""
    parser.add_argument('--work-dir',
                        help='the dir to save logs, models and metrics')
    parser.add_argument('--data-root', help='dataset root for every '
                        'dataloader of the config (e.g. a CamVid root with '
                        'train/, val/, test/ and their *annot/ folders)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value pairs, e.g. '
        'train_cfg.max_iters=100 model.teacher_ckpt=teacher.pth')
    parser.add_argument('--launcher', default='none', help='job launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    # torch.distributed.launch passes --local_rank / --local-rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line; export ``LOCAL_RANK`` as mmseg's tools do."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_runner_config(config: str, work_dir: Optional[str] = None,
                       cfg_options: Optional[Dict] = None,
                       launcher: str = 'none',
                       data_root: Optional[str] = None) -> Config:
    """``config`` (a file, ``mmseg::...``, ``attnfd_mm::...``) loaded as
    mmseg's tools do, its datasets at ``data_root``, for ``Runner.from_cfg``.

    Raises:
        ConfigNotFoundError: ``config`` does not exist (closest names).
    """
    cfg = load_config(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if data_root is not None:
        set_data_root(cfg, data_root)
    cfg.work_dir = work_dir or cfg.get('work_dir', None) or osp.join(
        './work_dirs', config_name(config))
    cfg.default_scope = cfg.get('default_scope', None) or DEFAULT_SCOPE
    if launcher != 'none' and not torch.cuda.is_available():
        configure_cpu_distributed(cfg)
    return keep_config_files(cfg)


def config_name(config: str) -> str:
    """``config``'s file name (path or ``pkg::path``) without ``.py``."""
    return osp.splitext(osp.basename(config.split('::')[-1]))[0]


def keep_config_files(cfg: Config, always: bool = False) -> Config:
    """``cfg`` without its file name (so dumped as ``<timestamp>.py``) if
    ``always`` or the work dir has a file of that name."""
    if cfg.filename is not None and (always or osp.exists(
            osp.join(cfg.work_dir, osp.basename(cfg.filename)))):
        return Config(cfg.to_dict())
    return cfg


def config_dicts(node: Any) -> Iterator[Dict]:
    """Every dict of the config tree ``node``, parents first."""
    if isinstance(node, (list, tuple)):
        for value in node:
            yield from config_dicts(value)
    elif isinstance(node, dict):
        yield node
        yield from config_dicts(list(node.values()))


def dataset_dicts(cfg: Config) -> Iterator[Dict]:
    """The datasets of every dataloader of ``cfg``, wrapped ones included."""

    def visit(dataset: Any) -> Iterator[Dict]:
        for d in dataset if isinstance(dataset, (list, tuple)) else [dataset]:
            if isinstance(d, dict):
                yield d
                yield from visit(d.get('dataset'))
                yield from visit(d.get('datasets'))

    for split in ('train', 'val', 'test'):
        yield from visit((cfg.get(f'{split}_dataloader', None) or {}).get(
            'dataset'))


def set_data_root(cfg: Config, data_root: str) -> None:
    """Point every dataset of :func:`dataset_dicts` at ``data_root`` (which
    ``--cfg-options data_root=...`` cannot: the file's variable is parsed)."""
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'Dataset root not found: {data_root!r}.')
    cfg.data_root = data_root
    for dataset in dataset_dicts(cfg):
        if 'data_root' in dataset or not {'dataset', 'datasets'} & {*dataset}:
            dataset['data_root'] = data_root


def _is_local(path: Any) -> bool:
    return isinstance(path, str) and bool(path) and '://' not in path


def absolute_paths(cfg: Config) -> None:
    """Make the local paths of ``cfg`` absolute: it runs from anywhere."""
    for dataset in dataset_dicts(cfg):
        if _is_local(dataset.get('data_root')):
            dataset['data_root'] = osp.abspath(dataset['data_root'])
    for key in ('data_root', 'work_dir', 'load_from'):
        if _is_local(cfg.get(key, None)):
            cfg[key] = osp.abspath(cfg[key])
    for node in config_dicts(cfg.get('model', None)):
        if _is_local(node.get('teacher_ckpt')):
            node['teacher_ckpt'] = osp.abspath(node['teacher_ckpt'])
        for key in ('pretrained', 'checkpoint'):
            if _is_local(node.get(key)) and osp.exists(node[key]):
                node[key] = osp.abspath(node[key])


def sync_bn_to_bn(node: Any) -> Any:
    """A copy of the config tree ``node`` with BN for every SyncBN."""
    node = copy.deepcopy(node)
    for cfg in config_dicts(node):
        if cfg.get('type') == 'SyncBN':
            cfg['type'] = 'BN'
    return node


def configure_cpu_distributed(cfg: Config) -> None:
    """Multi-process training without CUDA: gloo, no ``device_ids``, BN."""
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
