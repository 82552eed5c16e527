# Copyright (c) attnfd-mm contributors. All rights reserved.
"""attnfd_mm: Attention-guided Feature Distillation for MMSegmentation.

Importing it (in a config: ``custom_imports = dict(imports=['attnfd_mm'],
allow_failed_imports=False)``) applies the fixes a config needs
(:mod:`attnfd_mm.compat`) and registers the modules listed in
``docs/design.md``, "What ``import attnfd_mm`` registers".
"""
from .compat import apply_import_patches
from .version import __version__

apply_import_patches()

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401,E501

__all__ = ['__version__']
