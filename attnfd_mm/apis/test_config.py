# Copyright (c) attnfd-mm contributors. All rights reserved.
"""What ``tools/test.py`` scores: a segmentor or a distilled student."""
import os.path as osp
from typing import Set, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner import CheckpointLoader

from .student_checkpoint import load_weights


def is_distillation(cfg: Config) -> bool:
    """Whether ``cfg``'s model is a distillation algorithm."""
    return 'architecture' in (cfg.get('model') or {})


def student_test_config(cfg: Config, checkpoint: str,
                        tmp_dir: str) -> Tuple[Config, str]:
    """``cfg`` with its student as the model, and the student's checkpoint
    (``checkpoint`` or its student weights written to ``tmp_dir``)."""
    cfg.model = cfg.model.architecture
    cfg.model.setdefault('_scope_', cfg.default_scope)
    _, weights = load_weights(checkpoint)
    if weights is not None:
        checkpoint = osp.join(tmp_dir, 'student.pth')
        torch.save(weights, checkpoint)
    return cfg, checkpoint


class CheckpointMismatchError(RuntimeError, ValueError):
    """Checkpoint weights that do not fit the model tested or deployed."""


def _examples(keys: Set[str], n: int = 3) -> str:
    shown = sorted(keys)[:n]
    return ', '.join(shown) + (', ...' if len(keys) > n else '')


def check_checkpoint_fits(model: nn.Module, checkpoint: str) -> None:
    """Raise unless ``checkpoint`` holds exactly the weights of ``model``
    (mmengine only warns).

    Raises:
        CheckpointMismatchError: Keys missing or unexpected.
    """
    while hasattr(model, 'module') and isinstance(model.module, nn.Module):
        model = model.module
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = loaded.get('state_dict', loaded)
    keys = {k.removeprefix('module.') for k in state}
    expected = set(model.state_dict())
    missing, unexpected = expected - keys, keys - expected
    if not missing and not unexpected:
        return
    raise CheckpointMismatchError(
        f'{checkpoint} does not fit the model of this config: '
        f'{len(unexpected)} of its {len(keys)} weights are not in the model '
        f'({_examples(unexpected)}) and {len(missing)} of the model\'s '
        f'{len(expected)} are not in it ({_examples(missing)}). Test it '
        'with the config it was trained with (a distillation checkpoint '
        'or student.pth with the distillation config of its work dir or '
        'the student config, a segmentor checkpoint with its config).')
