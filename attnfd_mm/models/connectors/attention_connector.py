# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Base of the attention connectors: input check, channel MLP, alignment."""
import math
from typing import Dict, Optional

from mmcv.cnn import build_norm_layer
from mmrazor.models.architectures.connectors.base_connector import \
    BaseConnector
from torch import Tensor, nn


def build_channel_align(in_channels: int, out_channels: int,
                        norm_cfg: Dict = dict(type='BN')) -> nn.Sequential:
    """Conv1x1 (no bias) + norm, initialised as in AttnFD's code: weight
    N(0, sqrt(2 / out_channels)), norm weight 1 and bias 0."""
    conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
    nn.init.normal_(conv.weight, 0.0, math.sqrt(2.0 / out_channels))
    bn = build_norm_layer(norm_cfg, out_channels)[1]
    nn.init.ones_(bn.weight)
    nn.init.zeros_(bn.bias)
    return nn.Sequential(conv, bn)


class AttentionConnector(BaseConnector):
    """Checks its input, refines it (:meth:`attend`) and, on the student
    side, aligns its channels (:meth:`init_align`, after a subclass's layers).

    Args:
        in_channels (int): Channels of the input feature.
        learnable (bool): Student (learnable) or teacher. Defaults to False.
        init_cfg (dict, optional): mmengine init config. Defaults to None.

    Shapes (unless a subclass says otherwise):
        - input: (B, in_channels, H, W)
        - output: (B, out_channels or in_channels, H, W)
    """

    def __init__(self, in_channels: int, learnable: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.learnable = learnable
        self.align: Optional[nn.Sequential] = None

    def init_align(self, out_channels: Optional[int],
                   norm_cfg: Dict = dict(type='BN')) -> None:
        """Align the output to ``out_channels`` (None: no alignment)."""
        if out_channels is None:
            return
        if not self.learnable:
            raise ValueError(
                f'{type(self).__name__}: out_channels (channel alignment) '
                'needs learnable=True; align the student side to the '
                'teacher.')
        self.align = build_channel_align(self.in_channels, out_channels,
                                         norm_cfg)

    def build_channel_mlp(self, reduction: int) -> nn.Sequential:
        """Linear(c, c/r) - ReLU - Linear(c/r, c), c = ``in_channels``."""
        hidden = self.in_channels // reduction
        if hidden < 1:
            raise ValueError(
                f'{type(self).__name__}: in_channels={self.in_channels} is '
                f'too small for reduction={reduction}; need in_channels >= '
                'reduction.')
        return nn.Sequential(
            nn.Linear(self.in_channels, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, self.in_channels))

    def check_feature(self, feature: Tensor) -> None:
        """Raise a named error unless ``feature`` is (B, in_channels, H, W)."""
        if feature.dim() != 4 or feature.shape[1] != self.in_channels:
            raise ValueError(
                f'{type(self).__name__} was built with in_channels='
                f'{self.in_channels} but received a feature of shape '
                f'{tuple(feature.shape)}. Set in_channels to the channel '
                'count of the recorded feature (dim 1).')

    def attend(self, feature: Tensor) -> Tensor:
        """The refined map of a checked ``feature``, before alignment."""
        raise NotImplementedError

    def forward_train(self, feature: Tensor) -> Tensor:
        self.check_feature(feature)
        refined = self.attend(feature)
        return refined if self.align is None else self.align(refined)
