# Copyright (c) attnfd-mm contributors. All rights reserved.
"""A segmentor for inference from its config and a checkpoint: a plain
mmseg checkpoint (``student.pth``) or any distillation checkpoint."""
import os.path as osp
from typing import Optional, Union

from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope
from torch import nn

from attnfd_mm.apis.config_files import load_config
from attnfd_mm.apis.runner_config import sync_bn_to_bn
from attnfd_mm.apis.student_checkpoint import load_weights
from attnfd_mm.apis.test_config import CheckpointMismatchError
from attnfd_mm.utils import without_init


def build_segmentor_from(config: Union[str, Config]) -> nn.Module:
    """The segmentor of ``config`` (a file, ``mmseg::...``, a Config; a
    distillation config gives its student; a model given as MMRazor's
    ``cfg_path`` is read from that config), in eval mode on CPU, with no
    pretrained weights loaded and SyncBN as BN."""
    cfg = load_config(config)
    from mmseg.registry import MODELS
    model = cfg.model
    if 'architecture' in model:
        model = model.architecture
    if 'cfg_path' in model:
        from mmengine.hub import get_config
        model = get_config(model['cfg_path']).model
    model = sync_bn_to_bn(without_init(model))
    scope = model.get('_scope_') or cfg.get('default_scope') or 'mmseg'
    import mmseg.models  # noqa: F401  (registers the segmentors)
    with DefaultScope.overwrite_default_scope(scope):
        segmentor = MODELS.build(model)
    return revert_sync_batchnorm(segmentor).eval()


def load_segmentor(config: Union[str, Config],
                   checkpoint: Optional[str] = None) -> nn.Module:
    """:func:`build_segmentor_from` ``config`` with the weights of
    ``checkpoint`` (plain, or a distillation checkpoint whose student is
    taken); :class:`CheckpointMismatchError` where they do not fit."""
    segmentor = build_segmentor_from(config)
    if checkpoint is None:
        return segmentor
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'Checkpoint not found: {checkpoint!r}.')
    loaded, student = load_weights(checkpoint)
    state = (student or loaded).get('state_dict', loaded)
    own = segmentor.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(k for k in set(own) & set(state)
                    if own[k].shape != state[k].shape)
    if missing or unexpected or shapes:
        raise CheckpointMismatchError(
            f'{checkpoint} does not fit the model of this config: missing '
            f'{missing[:5]} ({len(missing)}), unexpected {unexpected[:5]} '
            f'({len(unexpected)}), other shapes {shapes[:5]}. Pass the '
            'student config the checkpoint was trained with.')
    segmentor.load_state_dict(state)
    return segmentor
