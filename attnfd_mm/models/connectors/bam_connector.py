# Copyright (c) attnfd-mm contributors. All rights reserved.
"""BAM connector: bottleneck attention refinement (Table 6 ablation)."""
from typing import Dict, Optional

import torch
from mmrazor.models.architectures.connectors.base_connector import \
    BaseConnector
from mmrazor.registry import MODELS
from torch import Tensor, nn

from attnfd_mm.utils import check_feature_channels
from .channel_align import optional_channel_align


@MODELS.register_module()
class BAMConnector(BaseConnector):
    r"""Refinement with the Bottleneck Attention Module (`BAM, Park et al.,
    BMVC 2018 <https://arxiv.org/abs/1807.06514>`_), the "BAM" row of
    AttnFD's attention ablation (Table 6).

    Channel and spatial branches run in parallel and are added:

    .. math::
        M(F) = \sigma(M_c(F) + M_s(F)), \qquad F' = F + F \otimes M(F)

    Learnable (student): :math:`M_c` = Linear(c, c/r) - ReLU - Linear(c/r, c)
    on the average-pooled feature; :math:`M_s` = Conv1x1(c, c/r) - BN - ReLU
    - 2 x [Conv3x3(dilation d) - BN - ReLU] - Conv1x1(c/r, 1).
    Parameter-free (teacher): :math:`M_c = \mathrm{avg}(F)` and
    :math:`M_s = \mathrm{mean}_c(F)`. The channel MLP has no BatchNorm1d so
    that it also trains with one sample per device.

    Args:
        in_channels (int): Channels of the input feature.
        out_channels (int, optional): Channels after the student-side
            Conv1x1 + BN alignment. Defaults to None (no alignment).
        reduction (int): Bottleneck ratio r. Defaults to 16.
        dilation (int): Dilation of the spatial 3x3 convs. Defaults to 4.
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
                 reduction: int = 16,
                 dilation: int = 4,
                 learnable: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        if learnable and in_channels // reduction < 1:
            raise ValueError(
                f'BAMConnector: in_channels={in_channels} is too small for '
                f'reduction={reduction}; need in_channels >= reduction.')
        self.in_channels = in_channels
        self.learnable = learnable
        if learnable:
            hidden = in_channels // reduction
            self.channel_mlp = nn.Sequential(
                nn.Linear(in_channels, hidden), nn.ReLU(inplace=True),
                nn.Linear(hidden, in_channels))
            layers = [nn.Conv2d(in_channels, hidden, 1),
                      nn.BatchNorm2d(hidden), nn.ReLU(inplace=True)]
            for _ in range(2):
                layers += [
                    nn.Conv2d(hidden, hidden, 3, padding=dilation,
                              dilation=dilation),
                    nn.BatchNorm2d(hidden), nn.ReLU(inplace=True)
                ]
            layers.append(nn.Conv2d(hidden, 1, 1))
            self.spatial_branch = nn.Sequential(*layers)
        self.align = optional_channel_align(
            type(self).__name__, in_channels, out_channels, learnable)

    def forward_train(self, feature: Tensor) -> Tensor:
        """Refine ``feature`` (B, C, H, W), then align its channels."""
        check_feature_channels(feature, self.in_channels, type(self).__name__)
        pooled = feature.mean(dim=(2, 3))
        if self.learnable:
            channel = self.channel_mlp(pooled)[:, :, None, None]
            spatial = self.spatial_branch(feature)
        else:
            channel = pooled[:, :, None, None]
            spatial = feature.mean(dim=1, keepdim=True)
        refined = feature + feature * torch.sigmoid(channel + spatial)
        if self.align is not None:
            refined = self.align(refined)
        return refined
