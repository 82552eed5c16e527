# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFD loss: distance between L2-normalised, attention-refined features."""
from typing import Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from attnfd_mm.utils import (DEFAULT_CHUNK_ELEMENTS, channel_chunks,
                             check_loss_weight)
from .channel_maps import ChannelMap, TensorMap

_NORMALIZE_MODES: Tuple[str, ...] = ('batch', 'sample')


@MODELS.register_module()
class AttnFDLoss(nn.Module):
    r"""Loss of `Attention-guided Feature Distillation for Semantic
    Segmentation <https://arxiv.org/abs/2403.05451>`_ (AttnFD, AAAI 2025).

    For one distilled layer with refined student map :math:`S` and teacher
    map :math:`T` (both :math:`B \times C \times H \times W`):

    .. math::
        L_{Attn} = \alpha \cdot \frac{1}{B}
            \sum \Big( \frac{S}{\|S\|_2} - \frac{T}{\|T\|_2} \Big)^2

    The student map is resized (bilinear) to the teacher's size; the distance
    is summed in float64 over checkpointed blocks of channels
    (``docs/design.md``, Memory of the AttnFD terms).

    Args:
        loss_weight (float): :math:`\alpha`, the weight of the loss.
            Defaults to 2.0 (``attn_lambda`` in the authors' code).
        normalize (str): :math:`\|\cdot\|_2` over the whole batch
            (``'batch'``, the authors' code: the value depends on the batch
            size) or over each sample (``'sample'``). Defaults to ``'batch'``.
        detach_teacher (bool): Stop gradients at the teacher map; False for
            a learnable teacher-side connector. Defaults to True.
        eps (float): Lower bound of a norm, against division by zero.
            Defaults to 1e-12.
        chunk_elements (int): Elements of one block of channels. Defaults
            to 2**21 (8 MiB in float32).

    Shapes:
        - s_feature: (B, C, H', W'), a tensor or a ``ChannelMap``
        - t_feature: (B, C, H, W), a tensor or a ``ChannelMap``
        - output: scalar, of the student map's dtype
    """

    def __init__(self,
                 loss_weight: float = 2.0,
                 normalize: str = 'batch',
                 detach_teacher: bool = True,
                 eps: float = 1e-12,
                 chunk_elements: int = DEFAULT_CHUNK_ELEMENTS) -> None:
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)
        if normalize not in _NORMALIZE_MODES:
            raise ValueError(
                f'AttnFDLoss: unknown normalize={normalize!r}; use one of '
                f'{list(_NORMALIZE_MODES)}.')
        self.normalize = normalize
        self.detach_teacher = detach_teacher
        self.eps = eps
        channel_chunks(1, 1, chunk_elements)  # a named error if < 1
        self.chunk_elements = chunk_elements

    def forward(self, s_feature: Union[Tensor, ChannelMap],
                t_feature: Union[Tensor, ChannelMap]) -> Tensor:
        """The loss of the refined student and teacher maps."""
        s_map, t_map = (x if isinstance(x, ChannelMap) else TensorMap(x)
                        for x in (s_feature, t_feature))
        self._check_shapes(s_map.shape, t_map.shape)
        batch, channels, height, width = t_map.shape
        per_sample = self.normalize == 'sample'
        s_sq = t_sq = s_t = 0
        for start, end in channel_chunks(channels, batch * height * width,
                                         self.chunk_elements):
            args = (s_map, t_map, start, end, per_sample)
            sums = checkpoint(self._block_sums, *args, use_reentrant=False) \
                if torch.is_grad_enabled() else self._block_sums(*args)
            s_sq, t_sq, s_t = (a + b for a, b in zip((s_sq, t_sq, s_t), sums))
        # the norms clamped at eps, as x / max(|x|, eps) does
        s_norm = s_sq.clamp_min(self.eps**2).sqrt()
        t_norm = t_sq.clamp_min(self.eps**2).sqrt()
        distance = s_sq / s_norm**2 - 2 * s_t / (s_norm * t_norm) + \
            t_sq / t_norm**2
        return (self.loss_weight / batch * distance.sum()).to(s_map.dtype)

    def _block_sums(self, s_map: ChannelMap, t_map: ChannelMap, start: int,
                    end: int, per_sample: bool) -> Tuple[Tensor, ...]:
        """``|S|^2``, ``|T|^2`` and ``<S, T>`` of channels ``start:end``
        (the student's resized to the teacher's size), in float64."""
        s = s_map.channels(start, end)
        size = t_map.shape[-2:]
        if s.shape[-2:] != size:
            s = F.interpolate(s, size=size, mode='bilinear',
                              align_corners=False)
        t = t_map.channels(start, end)
        if self.detach_teacher:
            t = t.detach()
        s_sq, s_t = _dot(s, s, per_sample), _dot(s, t, per_sample)
        # last: a recomputation stops once it has what the backward needs
        # (with a detached teacher, |T|^2 is not recomputed)
        return s_sq, _dot(t, t, per_sample), s_t

    @staticmethod
    def _check_shapes(s_shape: Sequence[int], t_shape: Sequence[int]) -> None:
        """Raise a named error unless the maps can be compared."""
        if len(s_shape) != 4 or len(t_shape) != 4:
            raise ValueError(
                'AttnFDLoss expects 4-D maps (B, C, H, W); got student '
                f'{s_shape} and teacher {t_shape}.')
        if s_shape[0] != t_shape[0]:
            raise ValueError(
                'AttnFDLoss: student and teacher batch sizes differ: '
                f'{s_shape} vs {t_shape}.')
        if s_shape[1] != t_shape[1]:
            raise ValueError(
                f'AttnFDLoss: channel mismatch between student {s_shape} '
                f'and teacher {t_shape}. Set out_channels={t_shape[1]} on '
                "the student-side connector (e.g. dict(type='CBAMConnector', "
                f'in_channels={s_shape[1]}, out_channels={t_shape[1]})).')


def _dot(x: Tensor, y: Tensor, per_sample: bool) -> Tensor:
    """Inner product of (B, c, H, W) ``x`` and ``y``, in all or per sample,
    over pixels in float32 (or wider), then in float64 (no full-size one)."""
    prod = x * y
    part = prod.sum(dim=(2, 3), dtype=torch.promote_types(
        prod.dtype, torch.float32)).double()
    return part.sum(1) if per_sample else part.sum()
