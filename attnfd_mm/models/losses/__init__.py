# Copyright (c) attnfd-mm contributors. All rights reserved.
from .attnfd_loss import AttnFDLoss
from .channel_maps import (AlignedMap, ChannelMap, GatedMap, TensorMap,
                           chunkable_align)
from .pixel_kl_divergence import PixelKLDivergence

__all__ = ['AttnFDLoss', 'AlignedMap', 'ChannelMap', 'GatedMap', 'TensorMap',
           'chunkable_align', 'PixelKLDivergence']
