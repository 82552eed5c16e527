# Copyright (c) attnfd-mm contributors. All rights reserved.
from .layer_finder import (ATTNFD_LAYER_PRESETS, CONTEXT_MODULES,
                           LayerNotFoundError, find_layers, find_logits,
                           resolve_layers)
from .seg_distiller import (AUTO, AttnFDDistiller, CheckedDistiller,
                            LogitsDistiller, SegDistiller,
                            check_recorder_sources)

__all__ = ['AUTO', 'AttnFDDistiller', 'CheckedDistiller',
           'check_recorder_sources', 'CONTEXT_MODULES', 'LayerNotFoundError',
           'find_layers', 'find_logits', 'ATTNFD_LAYER_PRESETS',
           'resolve_layers', 'LogitsDistiller', 'SegDistiller']
