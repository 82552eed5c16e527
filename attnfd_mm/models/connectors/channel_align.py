# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Student-to-teacher channel alignment shared by the attention connectors."""
import math
from typing import Dict, Optional

from mmcv.cnn import build_norm_layer
from torch import nn


def build_channel_align(in_channels: int,
                        out_channels: int,
                        norm_cfg: Dict = dict(type='BN')) -> nn.Sequential:
    """Conv1x1 (no bias) + norm (BN by default) mapping ``in_channels`` to
    ``out_channels``.

    The conv is initialised with N(0, sqrt(2 / (k * k * out_channels))),
    k = 1, and the norm with weight 1 and bias 0, as in AttnFD's code.
    """
    conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
    nn.init.normal_(conv.weight, 0.0, math.sqrt(2.0 / out_channels))
    bn = build_norm_layer(norm_cfg, out_channels)[1]
    nn.init.ones_(bn.weight)
    nn.init.zeros_(bn.bias)
    return nn.Sequential(conv, bn)


def optional_channel_align(owner: str, in_channels: int,
                           out_channels: Optional[int],
                           learnable: bool,
                           norm_cfg: Dict = dict(type='BN')
                           ) -> Optional[nn.Sequential]:
    """The student-side alignment of a connector, or None.

    Raises a named error when ``out_channels`` is asked of a parameter-free
    (teacher-side) connector.
    """
    if out_channels is None:
        return None
    if not learnable:
        raise ValueError(
            f'{owner}: out_channels (channel alignment) needs '
            'learnable=True; align the student side to the teacher.')
    return build_channel_align(in_channels, out_channels, norm_cfg)
