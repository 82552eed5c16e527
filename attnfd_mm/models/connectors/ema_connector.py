# Copyright (c) attnfd-mm contributors. All rights reserved.
"""EMA connector: efficient multi-scale attention (Table 6 ablation)."""
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmrazor.models.architectures.connectors.base_connector import \
    BaseConnector
from mmrazor.registry import MODELS
from torch import Tensor, nn

from attnfd_mm.utils import check_feature_channels
from .channel_align import optional_channel_align


@MODELS.register_module()
class EMAConnector(BaseConnector):
    r"""Refinement with Efficient Multi-scale Attention (`EMA, Ouyang et
    al., ICASSP 2023 <https://arxiv.org/abs/2305.13563>`_), the "EMA" row of
    AttnFD's attention ablation (Table 6).

    The channels are split into ``groups``; for each group :math:`G`
    (c/g channels):

    1. 1x1 branch: directional pools along H and W go through a shared
       Conv1x1 and gate the group, :math:`X_1 = \mathrm{GN}(G \otimes
       \sigma(a_h) \otimes \sigma(a_w))`;
    2. 3x3 branch: :math:`X_2 = \mathrm{Conv}_{3\times3}(G)`;
    3. cross-spatial learning: each branch's pooled, softmaxed channel
       descriptor weights the other branch's pixels,
       :math:`W = \mathrm{softmax}(\mathrm{avg}(X_1))^\top X_2 +
       \mathrm{softmax}(\mathrm{avg}(X_2))^\top X_1`;
    4. output :math:`G \otimes \sigma(W)`.

    Parameter-free (teacher): the convs are identities and GN has no affine
    parameters.

    Args:
        in_channels (int): Channels of the input feature; divisible by
            ``groups``.
        out_channels (int, optional): Channels after the student-side
            Conv1x1 + BN alignment. Defaults to None (no alignment).
        groups (int): Channel groups g. Defaults to 8.
        learnable (bool): Learnable (student) or parameter-free (teacher)
            attention. Defaults to True.
        init_cfg (dict, optional): mmengine init config. Defaults to None.

    Shapes:
        - input: (B, in_channels, H, W)
        - output: (B, out_channels or in_channels, H, W)
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: Optional[int] = None,
                 groups: int = 8,
                 learnable: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        if groups < 1 or in_channels % groups != 0:
            raise ValueError(
                f'EMAConnector: in_channels={in_channels} must be divisible '
                f'by groups={groups}.')
        self.in_channels = in_channels
        self.groups = groups
        self.learnable = learnable
        width = in_channels // groups
        if learnable:
            self.direction_conv = nn.Conv2d(width, width, 1)
            self.local_conv = nn.Conv2d(width, width, 3, padding=1)
            self.norm = nn.GroupNorm(width, width)
        self.align = optional_channel_align(
            type(self).__name__, in_channels, out_channels, learnable)

    def forward_train(self, feature: Tensor) -> Tensor:
        """Refine ``feature`` (B, C, H, W), then align its channels."""
        check_feature_channels(feature, self.in_channels, type(self).__name__)
        b, c, h, w = feature.shape
        group = feature.reshape(b * self.groups, c // self.groups, h, w)

        pooled_h = group.mean(dim=3, keepdim=True)  # (bg, c', h, 1)
        pooled_w = group.mean(dim=2, keepdim=True).transpose(2, 3)
        directions = torch.cat([pooled_h, pooled_w], dim=2)
        if self.learnable:
            directions = self.direction_conv(directions)
        gate_h, gate_w = directions.split([h, w], dim=2)
        gated = group * gate_h.sigmoid() * gate_w.transpose(2, 3).sigmoid()
        if self.learnable:
            branch1 = self.norm(gated)
            branch2 = self.local_conv(group)
        else:
            branch1 = F.group_norm(gated, gated.shape[1])
            branch2 = group

        def descriptor(x: Tensor) -> Tensor:
            return x.mean(dim=(2, 3)).softmax(dim=1).unsqueeze(1)

        weights = (descriptor(branch1) @ branch2.flatten(2) +
                   descriptor(branch2) @ branch1.flatten(2))
        refined = group * weights.view(b * self.groups, 1, h, w).sigmoid()
        refined = refined.reshape(b, c, h, w)
        if self.align is not None:
            refined = self.align(refined)
        return refined
