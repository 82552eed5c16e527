# Copyright (c) attnfd-mm contributors. All rights reserved.
"""attnfd_mm: Attention-guided Feature Distillation for MMSegmentation.

Importing the package applies the version-gated fixes a config's
``custom_imports`` needs (see :mod:`attnfd_mm.compat`), then registers the
plugin's modules in the OpenMMLab registries:

- MMRazor ``MODELS``: the losses ``AttnFDLoss`` and ``PixelKLDivergence``;
  the connectors ``CBAMConnector`` and, for the attention ablation,
  ``ATConnector``, ``SAConnector``, ``BAMConnector``, ``EMAConnector``; the
  distiller ``SegDistiller`` (also as ``AttnFDDistiller``, with AttnFD's
  defaults, and the builder ``LogitsDistiller``) and its base
  ``CheckedDistiller``; the algorithm ``FrozenTeacherDistill``;
- MMRazor ``TASK_UTILS``: the recorders ``PreForwardInputsRecorder`` and
  ``OutputElementRecorder`` (``type='PreForwardInputs'`` and
  ``type='OutputElement'`` in a distiller's recorder dicts);
- MMEngine ``HOOKS``: ``ConnectorWarmupHook``, ``RandomStateHook``,
  ``StudentExportHook``, ``StudentCostHook``;
- MMSegmentation ``DATASETS``: ``CamVidDataset``, ``COCOVOC21Dataset``;
- MMSegmentation ``METRICS``: ``PerClassIoUMetric``.

In a config: ``custom_imports = dict(imports=['attnfd_mm'],
allow_failed_imports=False)``.
"""
from .compat import apply_import_patches
from .version import __version__

apply_import_patches()

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401,E501

__all__ = ['__version__']
