# Copyright (c) attnfd-mm contributors. All rights reserved.
from .attnfd_distiller import AttnFDDistiller
from .auto_layers_distiller import AUTO, AutoLayersDistiller
from .checked_distiller import CheckedDistiller, check_recorder_sources
from .layer_finder import (CONTEXT_MODULES, LayerNotFoundError, find_layers,
                           find_logits)
from .layer_presets import ATTNFD_LAYER_PRESETS, resolve_layers
from .logits_distiller import LogitsDistiller

__all__ = [
    'AUTO', 'AttnFDDistiller', 'AutoLayersDistiller', 'CheckedDistiller',
    'check_recorder_sources',
    'CONTEXT_MODULES', 'LayerNotFoundError', 'find_layers', 'find_logits',
    'ATTNFD_LAYER_PRESETS', 'resolve_layers', 'LogitsDistiller'
]
