# Copyright (c) attnfd-mm contributors. All rights reserved.
from .attnfd_distiller import AttnFDDistiller
from .checked_distiller import CheckedDistiller, check_recorder_sources
from .layer_presets import ATTNFD_LAYER_PRESETS, resolve_layers

__all__ = [
    'AttnFDDistiller', 'CheckedDistiller', 'check_recorder_sources',
    'ATTNFD_LAYER_PRESETS', 'resolve_layers'
]
