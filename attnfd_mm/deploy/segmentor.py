# Copyright (c) attnfd-mm contributors. All rights reserved.
"""A segmentor for inference from its config and a checkpoint: a plain
mmseg checkpoint (``student.pth``) or any distillation checkpoint."""
from typing import Dict, Optional, Union

from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope
from torch import nn

from attnfd_mm.apis.config_files import load_config
from attnfd_mm.apis.runner_config import sync_bn_to_bn
from attnfd_mm.apis.student_checkpoint import (STUDENT_PREFIX,
                                               student_checkpoint)
from attnfd_mm.utils import without_init


class CheckpointMismatchError(ValueError):
    """A checkpoint whose weights do not fit the config's model."""


def _model_dict(cfg: Config) -> Dict:
    """The segmentor dict of ``cfg``: its model, or the student
    (``architecture``) of a distillation config; a model given as MMRazor's
    ``cfg_path`` is read from that config."""
    model = cfg.model
    if 'architecture' in model:
        model = model.architecture
    if 'cfg_path' in model:
        from mmengine.hub import get_config
        model = get_config(model['cfg_path']).model
    return sync_bn_to_bn(without_init(model))


def build_segmentor_from(config: Union[str, Config]) -> nn.Module:
    """The segmentor of ``config`` (a file, ``mmseg::...``, a Config; a
    distillation config gives its student), in eval mode on CPU, with no
    pretrained weights loaded and SyncBN as BN."""
    cfg = load_config(config)
    from mmseg.registry import MODELS
    model = _model_dict(cfg)
    scope = model.get('_scope_') or cfg.get('default_scope') or 'mmseg'
    import mmseg.models  # noqa: F401  (registers the segmentors)
    with DefaultScope.overwrite_default_scope(scope):
        segmentor = MODELS.build(model)
    return revert_sync_batchnorm(segmentor).eval()


def load_segmentor(config: Union[str, Config],
                   checkpoint: Optional[str] = None) -> nn.Module:
    """:func:`build_segmentor_from` ``config`` with the weights of
    ``checkpoint``: a plain mmseg checkpoint or a distillation checkpoint,
    whose student (``architecture.*``) is taken.

    Raises:
        FileNotFoundError: ``checkpoint`` does not exist.
        CheckpointMismatchError: Its weights do not fit the model (missing
            or unexpected keys, other shapes).
    """
    import os.path as osp

    import torch
    from mmengine.runner import CheckpointLoader
    segmentor = build_segmentor_from(config)
    if checkpoint is None:
        return segmentor
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'Checkpoint not found: {checkpoint!r}.')
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = loaded.get('state_dict', loaded)
    if any(k.startswith(STUDENT_PREFIX) for k in state):
        state = student_checkpoint(loaded)['state_dict']
    # the data preprocessor's mean and std are not saved
    state = {k: v for k, v in state.items()
             if not k.startswith('data_preprocessor.')}
    own = {k: v for k, v in segmentor.state_dict().items()
           if not k.startswith('data_preprocessor.')}
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(k for k in set(own) & set(state)
                    if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or shapes:
        raise CheckpointMismatchError(
            f'{checkpoint} does not fit the model of this config: missing '
            f'{missing[:5]} ({len(missing)}), unexpected {unexpected[:5]} '
            f'({len(unexpected)}), other shapes {shapes[:5]}. Pass the '
            'student config the checkpoint was trained with.')
    with torch.no_grad():
        segmentor.load_state_dict(state, strict=False)
    return segmentor.eval()
