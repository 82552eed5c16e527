# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Tiny data and configs for tests and the CPU demo."""
from .synthetic_shapes import SHAPES_CLASSES, make_synthetic_shapes
from .tiny_configs import (attnfd_distiller, stock_segmentor,
                           tiny_runner_config)

__all__ = [
    'SHAPES_CLASSES', 'make_synthetic_shapes', 'stock_segmentor',
    'attnfd_distiller', 'tiny_runner_config'
]
