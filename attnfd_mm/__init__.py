# Copyright (c) attnfd-mm contributors. All rights reserved.
"""attnfd_mm: Attention-guided Feature Distillation for MMSegmentation.

Importing the package applies the version-gated fixes a config's
``custom_imports`` needs (see :mod:`attnfd_mm.compat`), then registers the
plugin's losses, connectors, distillers, algorithm and recorders (MMRazor),
hooks (MMEngine), datasets, transform and metric (MMSegmentation): the
table "What ``import attnfd_mm`` registers" of ``docs/design.md``.

In a config: ``custom_imports = dict(imports=['attnfd_mm'],
allow_failed_imports=False)``.
"""
from .compat import apply_import_patches
from .version import __version__

apply_import_patches()

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401,E501

__all__ = ['__version__']
