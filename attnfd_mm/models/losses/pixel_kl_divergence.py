# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Pixel-wise KL divergence of segmentation logits (KD for segmentation)."""
from mmrazor.models.losses import KLDivergence
from mmrazor.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class PixelKLDivergence(KLDivergence):
    """`KD <https://arxiv.org/abs/1503.02531>`_ per pixel: the KL divergence
    of each pixel's class distribution, summed over the classes and averaged
    over the pixels (``KLDivergence(reduction='mean')`` times the classes).

    Args:
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        teacher_detach (bool): Detach the teacher's logits. Defaults to
            True.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0,
                 teacher_detach: bool = True) -> None:
        super().__init__(tau, 'mean', loss_weight, teacher_detach)

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """The loss of (N, C, H, W) student and teacher logits."""
        return super().forward(preds_S, preds_T) * preds_S.shape[1]
