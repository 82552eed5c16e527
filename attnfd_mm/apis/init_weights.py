# Copyright (c) attnfd-mm contributors. All rights reserved.
"""A config's initial weights, checked before anything is built."""
import os.path as osp
from typing import Any, Iterator, Tuple

from mmengine.config import Config

#: The key prefix of the student in a distillation config.
STUDENT_KEY = 'model.architecture.'


class WeightsUnavailableError(RuntimeError):
    """Initial weights of a model that cannot be read or downloaded."""


def init_weight_files(node: Any, key: str = 'model') -> \
        Iterator[Tuple[str, str]]:
    """``(config key, path or URL)`` of every pretrained file of the model
    dict ``node``, none of a frozen teacher."""
    if isinstance(node, (list, tuple)):
        for value in node:
            yield from init_weight_files(value, key)
    elif isinstance(node, dict):
        if node.get('type') == 'Pretrained' and isinstance(
                node.get('checkpoint'), str):
            yield key, node['checkpoint']
            return
        frozen = str(node.get('type', '')).endswith('FrozenTeacherDistill') \
            and bool(node.get('teacher_ckpt') or node.get('random_teacher'))
        for name, value in node.items():
            if frozen and name == 'teacher':
                continue
            if name == 'pretrained' and isinstance(value, str) and value:
                yield f'{key}.{name}', value
            elif isinstance(value, (dict, list, tuple)):
                yield from init_weight_files(value, f'{key}.{name}')


def check_init_weights(cfg: Config) -> None:
    """Check that every initial weight file of ``cfg.model`` exists or
    downloads (into training's cache).

    Raises:
        WeightsUnavailableError: One cannot.
    """
    from mmengine.runner import CheckpointLoader
    for key, path in init_weight_files(cfg.get('model', None) or {}):
        if '://' not in path:
            if osp.isfile(path):
                continue
            cause = 'no such file'
        else:
            try:
                CheckpointLoader.load_checkpoint(
                    path, map_location='cpu', logger='silent')
                continue
            except Exception as err:  # noqa: BLE001  (any download failure)
                cause = f'{type(err).__name__}: {str(err)[:200]}'
        fix = f'--cfg-options {key}=None'
        if key.startswith(STUDENT_KEY):
            fix += (' (tools/distill.py and tools/compare.py change the '
                    'student config: --cfg-options '
                    f'model.{key[len(STUDENT_KEY):]}=None)')
        raise WeightsUnavailableError(
            f'{key} = {path!r} cannot be loaded ({cause}). Give a local '
            f'file instead ({key}=/path/to/weights.pth, downloaded where '
            'there is network access), or train without these initial '
            f'weights: {fix}.')
