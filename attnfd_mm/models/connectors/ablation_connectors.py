# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The attention variants of AttnFD's Table 6 ablation: AT, SA, BAM, EMA."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS
from torch import Tensor, nn

from .attention_connector import AttentionConnector


@MODELS.register_module()
class ATConnector(AttentionConnector):
    r"""The "AT" row, activation-based attention (`Zagoruyko & Komodakis,
    ICLR 2017 <https://arxiv.org/abs/1612.03928>`_):
    :math:`A(F) = \frac{1}{C} \sum_c |F_c|^p`. No parameters.

    Args:
        in_channels (int): Channels of the input feature (checked).
        out_channels (int, optional): Ignored (one channel on both sides).
        p (float): Exponent. Defaults to 2.
        init_cfg (dict, optional): mmengine init config. Defaults to None.

    Shapes:
        - input: (B, in_channels, H, W)
        - output: (B, 1, H, W)
    """

    def __init__(self, in_channels: int, out_channels: Optional[int] = None,
                 p: float = 2.0, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, init_cfg=init_cfg)
        self.p = p

    def attend(self, feature: Tensor) -> Tensor:
        return feature.abs().pow(self.p).mean(dim=1, keepdim=True)


@MODELS.register_module()
class SAConnector(AttentionConnector):
    r"""The "SA" row, pairwise pixel similarity (`Liu et al., CVPR 2019
    <https://arxiv.org/abs/1903.04197>`_): the cosine similarity
    :math:`A_{ij} = f_i^\top f_j / (\|f_i\| \|f_j\|)` of every pixel pair of
    the feature average-pooled to ``pool_size``. No parameters.

    Args:
        in_channels (int): Channels of the input feature (checked).
        out_channels (int, optional): Ignored (no channel dimension).
        pool_size (tuple[int, int]): Pooled size. Defaults to (16, 16).
        init_cfg (dict, optional): mmengine init config. Defaults to None.

    Shapes:
        - input: (B, in_channels, H, W)
        - output: (B, 1, h*w, h*w) with (h, w) = pool_size
    """

    def __init__(self, in_channels: int, out_channels: Optional[int] = None,
                 pool_size: Tuple[int, int] = (16, 16),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, init_cfg=init_cfg)
        self.pool_size = tuple(pool_size)

    def attend(self, feature: Tensor) -> Tensor:
        pooled = F.adaptive_avg_pool2d(feature, self.pool_size)
        pixels = F.normalize(pooled.flatten(2), dim=1)  # (B, C, N)
        return (pixels.transpose(1, 2) @ pixels).unsqueeze(1)


@MODELS.register_module()
class BAMConnector(AttentionConnector):
    r"""The "BAM" row, the Bottleneck Attention Module (`Park et al., BMVC
    2018 <https://arxiv.org/abs/1807.06514>`_):
    :math:`F' = F + F \otimes \sigma(M_c(F) + M_s(F))`, :math:`M_c` an MLP
    of the average-pooled feature (no BatchNorm1d), :math:`M_s` a dilated
    conv bottleneck; parameter-free: :math:`M_c = \mathrm{avg}(F)`,
    :math:`M_s = \mathrm{mean}_c(F)`.

    Args:
        in_channels (int): Channels of the input feature.
        out_channels (int, optional): Channels after alignment (student).
            Defaults to None.
        reduction (int): Bottleneck ratio r. Defaults to 16.
        dilation (int): Dilation of the spatial 3x3 convs. Defaults to 4.
        learnable (bool): Student (learnable) or teacher. Defaults to True.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: Optional[int] = None,
                 reduction: int = 16, dilation: int = 4,
                 learnable: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, learnable, init_cfg)
        if learnable:
            self.channel_mlp = self.build_channel_mlp(reduction)
            hidden = in_channels // reduction
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
        self.init_align(out_channels)

    def attend(self, feature: Tensor) -> Tensor:
        pooled = feature.mean(dim=(2, 3))
        if self.learnable:
            channel = self.channel_mlp(pooled)[:, :, None, None]
            spatial = self.spatial_branch(feature)
        else:
            channel = pooled[:, :, None, None]
            spatial = feature.mean(dim=1, keepdim=True)
        return feature + feature * torch.sigmoid(channel + spatial)


@MODELS.register_module()
class EMAConnector(AttentionConnector):
    r"""The "EMA" row, Efficient Multi-scale Attention (`Ouyang et al.,
    ICASSP 2023 <https://arxiv.org/abs/2305.13563>`_): per channel group,
    directional gates, a GN branch and a 3x3 branch that weight each other
    (:meth:`attend`). Parameter-free: identity convs, GN without affine.

    Args:
        in_channels (int): Channels of the input feature, divisible by g.
        out_channels (int, optional): Channels after alignment (student).
            Defaults to None.
        groups (int): Channel groups g. Defaults to 8.
        learnable (bool): Student (learnable) or teacher. Defaults to True.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: Optional[int] = None,
                 groups: int = 8, learnable: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, learnable, init_cfg)
        if groups < 1 or in_channels % groups != 0:
            raise ValueError(
                f'EMAConnector: in_channels={in_channels} must be divisible '
                f'by groups={groups}.')
        self.groups = groups
        width = in_channels // groups
        if learnable:
            self.direction_conv = nn.Conv2d(width, width, 1)
            self.local_conv = nn.Conv2d(width, width, 3, padding=1)
            self.norm = nn.GroupNorm(width, width)
        self.init_align(out_channels)

    def attend(self, feature: Tensor) -> Tensor:
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
            branch1, branch2 = self.norm(gated), self.local_conv(group)
        else:
            branch1, branch2 = F.group_norm(gated, gated.shape[1]), group

        def descriptor(x: Tensor) -> Tensor:
            return x.mean(dim=(2, 3)).softmax(dim=1).unsqueeze(1)

        weights = (descriptor(branch1) @ branch2.flatten(2) +
                   descriptor(branch2) @ branch1.flatten(2))
        refined = group * weights.view(b * self.groups, 1, h, w).sigmoid()
        return refined.reshape(b, c, h, w)
