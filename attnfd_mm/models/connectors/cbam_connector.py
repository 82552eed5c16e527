# Copyright (c) attnfd-mm contributors. All rights reserved.
"""CBAM connector: channel-then-spatial attention refinement of a feature."""
from typing import Dict, Optional, Tuple

import torch
from mmcv.cnn import build_norm_layer
from mmrazor.registry import MODELS
from torch import Tensor, nn

from attnfd_mm.models.losses.channel_maps import (AlignedMap, ChannelMap,
                                                  GatedMap, TensorMap,
                                                  chunkable_align)
from attnfd_mm.utils import DEFAULT_CHUNK_ELEMENTS, channel_chunks
from .attention_connector import AttentionConnector


@MODELS.register_module()
class CBAMConnector(AttentionConnector):
    r"""Attention refinement of `AttnFD <https://arxiv.org/abs/2403.05451>`_
    with the Convolutional Block Attention Module
    (`CBAM <https://arxiv.org/abs/1807.06521>`_), channel first, then spatial.

    .. math::
        F' = M_C(F) \otimes F, \qquad F'' = M_S(F') \otimes F'

    Learnable gates (``learnable=True``, the student side):

    - :math:`M_C(F) = \sigma(\mathrm{MLP}(\mathrm{avg}(F))
      + \mathrm{MLP}(\mathrm{max}(F)))`, MLP = Linear(c, c/r) - ReLU -
      Linear(c/r, c), both with bias;
    - :math:`M_S(F') = \sigma(\mathrm{BN}(\mathrm{Conv}_{7\times7}
      ([\max_c F'; \mathrm{mean}_c F'])))`, conv without bias, BN(1).

    Parameter-free gates (``learnable=False``, the teacher side; works with
    any stock teacher checkpoint):
    :math:`M_C(F) = \sigma(\mathrm{avg}(F) + \mathrm{max}(F))` and
    :math:`M_S(F') = \sigma(\max_c F' + \mathrm{mean}_c F')`.

    Args:
        in_channels (int): Channels of the input feature.
        out_channels (int, optional): Channels after alignment
            (:func:`build_channel_align`, student only). Defaults to None.
        reduction (int): MLP reduction ratio r. Defaults to 16.
        spatial_kernel (int): Odd kernel size of the spatial conv.
            Defaults to 7.
        learnable (bool): Learnable gates (student) or parameter-free gates
            (teacher). Defaults to True.
        norm_cfg (dict): Norm of the learnable spatial gate. Defaults to
            ``dict(type='BN', eps=1e-5, momentum=0.01)`` (the paper's).
        align_norm_cfg (dict): Norm of the channel alignment, e.g.
            ``dict(type='GN', num_groups=1)`` (independent of the batch
            split). Defaults to ``dict(type='BN')``.
        init_cfg (dict, optional): mmengine init config. Defaults to None.

    Shapes:
        - input: (B, in_channels, H, W)
        - output: (B, out_channels or in_channels, H, W)
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: Optional[int] = None,
                 reduction: int = 16,
                 spatial_kernel: int = 7,
                 learnable: bool = True,
                 norm_cfg: Dict = dict(type='BN', eps=1e-5, momentum=0.01),
                 align_norm_cfg: Dict = dict(type='BN'),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, learnable, init_cfg)
        if spatial_kernel % 2 != 1:
            raise ValueError('CBAMConnector: spatial_kernel must be odd, got '
                             f'{spatial_kernel}.')
        if learnable:
            self.channel_mlp = self.build_channel_mlp(reduction)
            self.spatial_conv = nn.Conv2d(
                2, 1, spatial_kernel, padding=spatial_kernel // 2, bias=False)
            self.spatial_bn = build_norm_layer(norm_cfg, 1)[1]
        self.init_align(out_channels, align_norm_cfg)

    def channel_gate(self, x: Tensor) -> Tensor:
        """:math:`M_C`, shape (B, C, 1, 1)."""
        avg, mx = x.mean(dim=(2, 3)), x.amax(dim=(2, 3))
        if self.learnable:
            logits = self.channel_mlp(avg) + self.channel_mlp(mx)
        else:
            logits = avg + mx
        return torch.sigmoid(logits)[:, :, None, None]

    def spatial_gate(self, x: Tensor) -> Tensor:
        """:math:`M_S`, shape (B, 1, H, W)."""
        mx, mean = x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)
        if self.learnable:
            logits = self.spatial_bn(
                self.spatial_conv(torch.cat([mx, mean], dim=1)))
        else:
            logits = mx + mean
        return torch.sigmoid(logits)

    def attend(self, feature: Tensor) -> Tensor:
        refined = feature * self.channel_gate(feature)
        return refined * self.spatial_gate(refined)

    def channel_map(self, feature: Tensor) -> ChannelMap:
        """The output for ``feature`` as a channel map for ``AttnFDLoss``."""
        if not self.learnable:
            return GatedMap(feature, *self.factored_gates(feature))
        if not chunkable_align(self.align):  # also without an alignment
            return TensorMap(self(feature))
        self.check_feature(feature)
        return AlignedMap(self.attend(feature), self.align)

    @torch.no_grad()
    def factored_gates(
            self,
            feature: Tensor,
            chunk_elements: int = DEFAULT_CHUNK_ELEMENTS
    ) -> Tuple[Tensor, Tensor]:
        """:math:`(M_C, M_S)`, (B, C, 1, 1) and (B, 1, H, W), of a
        parameter-free connector, a few channels at a time, without grad."""
        if self.learnable or self.align is not None:
            raise ValueError(
                'CBAMConnector.factored_gates needs a parameter-free '
                'connector (learnable=False) without alignment.')
        self.check_feature(feature)
        channel_gate = self.channel_gate(feature)
        batch, channels, height, width = feature.shape
        top, total = None, 0
        for start, end in channel_chunks(channels, batch * height * width,
                                         chunk_elements):
            part = feature[:, start:end] * channel_gate[:, start:end]
            part_max = part.amax(dim=1, keepdim=True)
            top = part_max if top is None else torch.maximum(top, part_max)
            total = total + part.sum(dim=1, keepdim=True, dtype=torch.float64)
        mean = (total / channels).to(feature.dtype)
        return channel_gate, torch.sigmoid(top + mean)
