# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Small helpers shared by the plugin's modules."""
import argparse
import copy
import math
from numbers import Real
from typing import Any, List, Tuple


def check_loss_weight(loss_weight: float, owner: str) -> float:
    """``loss_weight`` as a float, or an error naming ``owner``."""
    if isinstance(loss_weight, bool) or not isinstance(loss_weight, Real):
        raise TypeError(f'{owner}: loss_weight must be a number, got '
                        f'{loss_weight!r} ({type(loss_weight).__name__}).')
    if not math.isfinite(loss_weight) or loss_weight < 0:
        raise ValueError(f'{owner}: loss_weight must be a finite number '
                         f'>= 0, got {loss_weight!r}.')
    return float(loss_weight)


#: Elements of one channel chunk (B x c x H x W): 8 MiB in float32.
DEFAULT_CHUNK_ELEMENTS = 1 << 21


def channel_chunks(num_channels: int, per_channel: int,
                   chunk_elements: int = DEFAULT_CHUNK_ELEMENTS
                   ) -> List[Tuple[int, int]]:
    """``(start, end)`` ranges of channels of ``per_channel`` elements, each
    about ``chunk_elements`` elements (at least one channel)."""
    if chunk_elements < 1:
        raise ValueError(
            f'chunk_elements must be >= 1, got {chunk_elements!r}.')
    step = max(1, chunk_elements // max(1, per_channel))
    return [(c, min(c + step, num_channels))
            for c in range(0, num_channels, step)]


def parse_size(text: str) -> Tuple[int, int]:
    """``'512x1024'`` -> ``(512, 1024)``: the tools' ``--size`` type."""
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'a size is HxW, e.g. 512x1024; got {text!r}') from None
    return h, w


def without_init(model_cfg: Any) -> Any:
    """A copy of the model dict ``model_cfg`` without pretrained weights (a
    built model: as is)."""
    if not isinstance(model_cfg, dict):
        return model_cfg
    model_cfg = copy.deepcopy(model_cfg)
    for cfg in (model_cfg, model_cfg.get('backbone')):
        if isinstance(cfg, dict) and 'pretrained' in cfg:
            cfg['pretrained'] = None
    if isinstance(model_cfg.get('backbone'), dict):
        model_cfg['backbone'].pop('init_cfg', None)
    return model_cfg
