# Copyright (c) attnfd-mm contributors. All rights reserved.
from .checked_distiller import CheckedDistiller, check_recorder_sources
from .layer_finder import (CONTEXT_MODULES, LayerNotFoundError, find_layers,
                           find_logits)
from .layer_presets import ATTNFD_LAYER_PRESETS, resolve_layers
from .seg_distiller import (AUTO, AttnFDDistiller, LogitsDistiller,
                            SegDistiller)

__all__ = ['AUTO', 'AttnFDDistiller', 'CheckedDistiller',
           'check_recorder_sources', 'CONTEXT_MODULES', 'LayerNotFoundError',
           'find_layers', 'find_logits', 'ATTNFD_LAYER_PRESETS',
           'resolve_layers', 'LogitsDistiller', 'SegDistiller']
