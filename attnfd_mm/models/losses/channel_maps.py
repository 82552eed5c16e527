# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Feature maps that ``AttnFDLoss`` reads a few channels at a time."""
from typing import Optional, Set, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ChannelMap:
    """A (B, C, H, W) map whose channels are computed by :meth:`channels`."""

    shape: Tuple[int, int, int, int]
    dtype: torch.dtype  # the dtype of the map's source tensor

    def channels(self, start: int, end: int) -> Tensor:
        raise NotImplementedError


class TensorMap(ChannelMap):
    """A map held as one tensor."""

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        self.shape = tuple(tensor.shape)
        self.dtype = tensor.dtype

    def channels(self, start: int, end: int) -> Tensor:
        return self.tensor[:, start:end]


class GatedMap(TensorMap):
    """A parameter-free CBAM's output ``feature * channel_gate *
    spatial_gate`` (gates (B, C, 1, 1) and (B, 1, H, W)), kept as factors."""

    def __init__(self, feature: Tensor, channel_gate: Tensor,
                 spatial_gate: Tensor) -> None:
        super().__init__(feature)
        self.channel_gate, self.spatial_gate = channel_gate, spatial_gate

    def channels(self, start: int, end: int) -> Tensor:
        return (super().channels(start, end) * self.channel_gate[:, start:end]
                * self.spatial_gate)


def chunkable_align(align: Optional[nn.Module]) -> bool:
    """Whether ``align`` is Conv2d 1x1 without bias + BatchNorm2d."""
    if not isinstance(align, nn.Sequential) or len(align) != 2:
        return False
    conv, norm = align
    return (type(conv) is nn.Conv2d and conv.kernel_size == (1, 1)
            and conv.stride == (1, 1) and conv.padding == (0, 0)
            and conv.dilation == (1, 1) and conv.groups == 1
            and conv.bias is None and type(norm) is nn.BatchNorm2d)


class AlignedMap(ChannelMap):
    """``align(refined)`` for a :func:`chunkable_align` alignment, one block
    of output channels at a time; BN counts the batch once and updates its
    statistics once per block (``docs/design.md``)."""

    def __init__(self, refined: Tensor, align: nn.Sequential) -> None:
        if not chunkable_align(align):
            raise ValueError(
                'AlignedMap: the alignment must be Sequential(Conv2d 1x1 '
                f'without bias, BatchNorm2d), got {align!r}; pass the aligned '
                'tensor to AttnFDLoss instead.')
        self.refined, self.dtype = refined, refined.dtype
        self.conv, self.norm = align
        self.shape = (refined.shape[0], self.conv.out_channels,
                      *refined.shape[2:])
        self.computed: Set[Tuple[int, int]] = set()  # blocks
        # BatchNorm2d.forward's once-per-batch count and momentum
        norm, self.momentum = self.norm, 0.0
        if norm.training and norm.track_running_stats:
            if norm.num_batches_tracked is not None:
                norm.num_batches_tracked.add_(1)
            self.momentum = 1.0 / float(norm.num_batches_tracked) \
                if norm.momentum is None else norm.momentum

    def channels(self, start: int, end: int) -> Tensor:
        out = F.conv2d(self.refined, self.conv.weight[start:end])
        norm = self.norm
        batch_stats = norm.training or norm.running_mean is None
        mean = var = None
        if norm.running_mean is not None:
            mean = norm.running_mean[start:end]
            var = norm.running_var[start:end]
            if batch_stats and (start, end) in self.computed:
                # a recomputation: update copies of the updated statistics
                mean, var = mean.clone(), var.clone()
        self.computed.add((start, end))
        return F.batch_norm(
            out, mean, var,
            None if norm.weight is None else norm.weight[start:end],
            None if norm.bias is None else norm.bias[start:end],
            batch_stats, self.momentum, norm.eps)
