# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Config handling shared by ``tools/train.py`` and ``tools/test.py``."""
import os.path as osp
from typing import Dict, Optional

from mmengine.config import Config

#: Scope of the runner's registries: datasets, metrics, hooks and visual
#: tools come from mmseg; distillation models carry ``_scope_='mmrazor'``.
DEFAULT_SCOPE = 'mmseg'


def load_runner_config(config: str,
                       work_dir: Optional[str] = None,
                       cfg_options: Optional[Dict] = None,
                       launcher: str = 'none') -> Config:
    """Load ``config`` as mmseg's and mmrazor's tools do.

    ``--cfg-options`` are merged, ``work_dir`` defaults to
    ``./work_dirs/<config name>`` and ``default_scope`` to ``'mmseg'``.

    Args:
        config (str): Path of the config file.
        work_dir (str, optional): Overrides ``cfg.work_dir``.
        cfg_options (dict, optional): Key-value pairs merged into the config.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        Config: The config, ready for ``Runner.from_cfg``.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'Config file not found: {config!r}.')
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    if cfg.get('default_scope', None) is None:
        cfg.default_scope = DEFAULT_SCOPE
    return cfg
