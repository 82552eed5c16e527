# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFD loss: distance between L2-normalised, attention-refined features."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS
from torch import Tensor, nn
from torch.linalg import vector_norm

from attnfd_mm.utils import DEFAULT_CHUNK_ELEMENTS, check_loss_weight
from .chunked_attnfd import TeacherMap, chunked_attnfd_loss

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

    - ``normalize='batch'`` (default, the authors' code): :math:`\|\cdot\|_2`
      is taken over the whole batch tensor. The value then depends on the
      batch size: each sample contributes about :math:`1/B` of the norm.
    - ``normalize='sample'``: each sample is normalised on its own, so the
      loss is the mean over samples of a per-sample distance; it does not
      depend on the batch size or on how a batch is split across processes.

    The teacher map is detached by default. With a learnable teacher-side
    connector trained jointly through this loss (an option of the paper),
    set ``detach_teacher=False``: the teacher network itself still gets no
    gradient (a frozen teacher runs without grad), only its connector does.
    When the spatial sizes differ, the student map is resized to the
    teacher's with bilinear interpolation.

    :meth:`forward_chunked` computes the same value from the student map
    before its channel alignment and the teacher map as its gate factors,
    a few channels at a time (what ``AttnFDDistiller`` does by default).

    Args:
        loss_weight (float): :math:`\alpha`, the weight of the loss.
            Defaults to 2.0 (``attn_lambda`` in the authors' code).
        normalize (str): ``'batch'`` or ``'sample'``. Defaults to ``'batch'``.
        detach_teacher (bool): Stop gradients at the teacher map.
            Defaults to True.
        eps (float): Lower bound of a norm, against division by zero.
            Defaults to 1e-12.
    """

    def __init__(self,
                 loss_weight: float = 2.0,
                 normalize: str = 'batch',
                 detach_teacher: bool = True,
                 eps: float = 1e-12) -> None:
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)
        if normalize not in _NORMALIZE_MODES:
            raise ValueError(
                f'AttnFDLoss: unknown normalize={normalize!r}; use one of '
                f'{list(_NORMALIZE_MODES)}.')
        self.normalize = normalize
        self.detach_teacher = detach_teacher
        self.eps = eps

    def forward(self, s_feature: Tensor, t_feature: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            s_feature (Tensor): Refined student map, shape (B, C, H', W').
            t_feature (Tensor): Refined teacher map, shape (B, C, H, W).

        Returns:
            Tensor: Scalar loss.
        """
        if self.detach_teacher:
            t_feature = t_feature.detach()
        self._check_shapes(s_feature.shape, t_feature.shape)
        if s_feature.shape[-2:] != t_feature.shape[-2:]:
            s_feature = F.interpolate(
                s_feature,
                size=t_feature.shape[-2:],
                mode='bilinear',
                align_corners=False)
        batch_size = s_feature.shape[0]
        diff = self._normalized(s_feature) - self._normalized(t_feature)
        return self.loss_weight * diff.pow(2).sum() / batch_size

    def _normalized(self, x: Tensor) -> Tensor:
        """Divide ``x`` by its L2 norm over the batch or over each sample.

        The norm is accumulated in float64: PyTorch's float32 CPU norm is off
        by 2e-4 to 8e-4 of its value on random 2x2048x64x64 maps.
        """
        if self.normalize == 'batch':
            norm = vector_norm(x, dtype=torch.float64)
        else:
            norm = vector_norm(x.flatten(1), dim=1, dtype=torch.float64)
            norm = norm.view(-1, *[1] * (x.dim() - 1))
        return x / norm.to(x.dtype).clamp_min(self.eps)

    def forward_chunked(
            self,
            s_refined: Tensor,
            s_align: Optional[nn.Sequential],
            t_map: TeacherMap,
            chunk_elements: int = DEFAULT_CHUNK_ELEMENTS) -> Tensor:
        """The loss of ``forward(s_align(s_refined), t_map's map)``
        computed a few channels at a time: neither the aligned student map
        nor the refined teacher map is held at full width, in the forward
        or the backward pass (see
        :func:`~attnfd_mm.models.losses.chunked_attnfd_loss`). Values equal
        :meth:`forward`'s up to float rounding.

        Args:
            s_refined (Tensor): Student map before alignment, (B, Cs, h, w).
            s_align (nn.Sequential, optional): The student connector's
                Conv1x1 + BatchNorm2d alignment, or None.
            t_map (TeacherMap): The refined teacher map (B, C, H, W) as
                ``feature * channel_gate * spatial_gate``; not
                differentiated, so ``detach_teacher`` must be True.
            chunk_elements (int): Elements per channel chunk.

        Returns:
            Tensor: Scalar loss.
        """
        if not self.detach_teacher:
            raise ValueError(
                'AttnFDLoss.forward_chunked does not differentiate the '
                'teacher map; with detach_teacher=False use forward().')
        s_shape = tuple(s_refined.shape)
        if s_align is not None and s_refined.dim() == 4:
            s_shape = (s_shape[0], s_align[0].out_channels, *s_shape[2:])
        self._check_shapes(s_shape, t_map.feature.shape)
        t_map = TeacherMap(*(None if x is None else x.detach()
                             for x in t_map))
        return chunked_attnfd_loss(
            s_refined, s_align, t_map, self.loss_weight,
            self.normalize == 'sample', self.eps, chunk_elements)

    @staticmethod
    def _check_shapes(s_shape: Sequence[int], t_shape: Sequence[int]) -> None:
        """Raise a named error when maps of these shapes cannot be
        compared."""
        s_shape, t_shape = tuple(s_shape), tuple(t_shape)
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
