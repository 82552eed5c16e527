# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFD loss: distance between L2-normalised, attention-refined features."""
from typing import Tuple

import torch.nn.functional as F
from mmrazor.registry import MODELS
from torch import Tensor, nn

from attnfd_mm.utils import check_loss_weight

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
        self._check_shapes(s_feature, t_feature)
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
        """Divide ``x`` by its L2 norm over the batch or over each sample."""
        if self.normalize == 'batch':
            norm = x.norm(p=2)
        else:
            norm = x.flatten(1).norm(p=2, dim=1).view(-1, *[1] * (x.dim() - 1))
        return x / norm.clamp_min(self.eps)

    @staticmethod
    def _check_shapes(s_feature: Tensor, t_feature: Tensor) -> None:
        """Raise a named error when the two maps cannot be compared."""
        if s_feature.dim() != 4 or t_feature.dim() != 4:
            raise ValueError(
                'AttnFDLoss expects 4-D maps (B, C, H, W); got student '
                f'{tuple(s_feature.shape)} and teacher '
                f'{tuple(t_feature.shape)}.')
        if s_feature.shape[0] != t_feature.shape[0]:
            raise ValueError(
                'AttnFDLoss: student and teacher batch sizes differ: '
                f'{tuple(s_feature.shape)} vs {tuple(t_feature.shape)}.')
        if s_feature.shape[1] != t_feature.shape[1]:
            raise ValueError(
                'AttnFDLoss: channel mismatch between student '
                f'{tuple(s_feature.shape)} and teacher '
                f'{tuple(t_feature.shape)}. Set out_channels='
                f'{t_feature.shape[1]} on the student-side connector '
                f"(e.g. dict(type='CBAMConnector', "
                f'in_channels={s_feature.shape[1]}, '
                f'out_channels={t_feature.shape[1]})).')
