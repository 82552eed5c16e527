# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Tiny data and configs for tests and the CPU demo."""
from .synthetic_shapes import (SHAPES_CLASSES, make_synthetic_shapes,
                               random_batch)
from .tiny_configs import (DEEPLABV3_CONFIGS, deeplabv3_segmentor,
                           stock_segmentor, tiny_distill_model,
                           tiny_runner_config)

__all__ = [
    'random_batch', 'SHAPES_CLASSES', 'make_synthetic_shapes',
    'DEEPLABV3_CONFIGS', 'deeplabv3_segmentor', 'stock_segmentor',
    'tiny_distill_model', 'tiny_runner_config'
]
