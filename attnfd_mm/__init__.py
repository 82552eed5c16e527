# Copyright (c) attnfd-mm contributors. All rights reserved.
"""attnfd_mm: Attention-guided Feature Distillation for MMSegmentation.

Importing the package applies the version-gated compatibility fixes for
current PyTorch (see :mod:`attnfd_mm.compat`), then registers the plugin's
modules in the OpenMMLab registries:

- MMRazor ``MODELS``: ``AttnFDLoss``, ``CBAMConnector`` and the ablation
  connectors ``ATConnector``, ``SAConnector``, ``BAMConnector``,
  ``EMAConnector``; the algorithm ``FrozenTeacherDistill``;
- MMRazor ``TASK_UTILS``: the recorder ``PreForwardInputs``;
- MMEngine ``HOOKS``: ``ConnectorWarmupHook``.

In a config: ``custom_imports = dict(imports=['attnfd_mm'],
allow_failed_imports=False)``.
"""
from .compat import apply_compat_patches
from .version import __version__

apply_compat_patches()

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401,E501

__all__ = ['__version__', 'apply_compat_patches']
