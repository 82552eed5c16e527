# Copyright (c) attnfd-mm contributors. All rights reserved.
"""SA connector: pairwise pixel similarity (Table 6 ablation)."""
from typing import Dict, Optional, Tuple

import torch.nn.functional as F
from mmrazor.models.architectures.connectors.base_connector import \
    BaseConnector
from mmrazor.registry import MODELS
from torch import Tensor

from attnfd_mm.utils import check_feature_channels


@MODELS.register_module()
class SAConnector(BaseConnector):
    r"""Pairwise pixel-similarity map, the "SA" row of AttnFD's attention
    ablation (Table 6), as used by `Structured Knowledge Distillation for
    Semantic Segmentation (Liu et al., CVPR 2019)
    <https://arxiv.org/abs/1903.04197>`_.

    The feature is first average-pooled to ``pool_size`` (the pairwise
    matrix grows with the fourth power of the side), each pixel's channel
    vector is L2-normalised, and the cosine similarity of every pixel pair
    is returned:

    .. math:: A_{ij} = \frac{f_i^\top f_j}{\|f_i\| \|f_j\|}

    The result does not depend on the channel count, so student and teacher
    maps compare directly. No parameters.

    Args:
        in_channels (int): Channels of the input feature (checked).
        out_channels (int, optional): Ignored: the map has no channel
            dimension to align. Defaults to None.
        pool_size (tuple[int, int]): Spatial size the feature is pooled to
            before pairing. Defaults to (16, 16).
        init_cfg (dict, optional): mmengine init config. Defaults to None.

    Shapes:
        - input: (B, in_channels, H, W)
        - output: (B, 1, h*w, h*w) with (h, w) = pool_size
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: Optional[int] = None,
                 pool_size: Tuple[int, int] = (16, 16),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.pool_size = tuple(pool_size)

    def forward_train(self, feature: Tensor) -> Tensor:
        """Cosine similarity between all pixel pairs of ``feature``."""
        check_feature_channels(feature, self.in_channels, type(self).__name__)
        pooled = F.adaptive_avg_pool2d(feature, self.pool_size)
        pixels = F.normalize(pooled.flatten(2), dim=1)  # (B, C, N)
        return (pixels.transpose(1, 2) @ pixels).unsqueeze(1)
