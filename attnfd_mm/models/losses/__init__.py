# Copyright (c) attnfd-mm contributors. All rights reserved.
from .attnfd_loss import AttnFDLoss
from .channel_maps import (AlignedMap, ChannelMap, GatedMap, TensorMap,
                           chunkable_align)

__all__ = [
    'AttnFDLoss', 'AlignedMap', 'ChannelMap', 'GatedMap', 'TensorMap',
    'chunkable_align'
]
