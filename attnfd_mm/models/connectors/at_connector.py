# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AT connector: parameter-free spatial attention map (Table 6 ablation)."""
from typing import Dict, Optional

from mmrazor.models.architectures.connectors.base_connector import \
    BaseConnector
from mmrazor.registry import MODELS
from torch import Tensor

from attnfd_mm.utils import check_feature_channels


@MODELS.register_module()
class ATConnector(BaseConnector):
    r"""Activation-based attention of `Paying More Attention to Attention
    (Zagoruyko & Komodakis, ICLR 2017) <https://arxiv.org/abs/1612.03928>`_,
    the "AT" row of AttnFD's attention ablation (Table 6).

    .. math:: A(F) = \frac{1}{C} \sum_c |F_c|^p

    The map has one channel on both sides, so student and teacher maps are
    comparable whatever their channel counts, and ``AttnFDLoss`` on it is
    the AT loss with AttnFD's normalisation. No parameters.

    Args:
        in_channels (int): Channels of the input feature (checked).
        out_channels (int, optional): Ignored: the map has no channel
            dimension to align. Defaults to None.
        p (float): Exponent. Defaults to 2.
        init_cfg (dict, optional): mmengine init config. Defaults to None.

    Shapes:
        - input: (B, in_channels, H, W)
        - output: (B, 1, H, W)
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: Optional[int] = None,
                 p: float = 2.0,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.p = p

    def forward_train(self, feature: Tensor) -> Tensor:
        """Channel-aggregated attention map of ``feature``."""
        check_feature_channels(feature, self.in_channels, type(self).__name__)
        return feature.abs().pow(self.p).mean(dim=1, keepdim=True)
