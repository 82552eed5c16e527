# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Version-gated fixes for running the OpenMMLab stack on current torch,
for resolving ``attnfd_mm::`` config bases and for writing checkpoints
atomically.

Each fix is a no-op where it is not needed, is applied once by
``import attnfd_mm`` and never edits installed packages.
"""
from typing import Dict

from .atomic_checkpoints import make_checkpoint_saves_atomic
from .checkpoint_loading import allow_mmengine_checkpoints
from .config_bases import enable_config_bases
from .cpu_distributed import allow_cpu_distributed
from .mmrazor_quantization import gate_mmrazor_quantization

_applied: Dict[str, bool] = {}


def apply_compat_patches() -> Dict[str, bool]:
    """Apply every fix once; return which ones were needed."""
    if not _applied:
        _applied['mmrazor_quantization'] = gate_mmrazor_quantization()
        _applied['mmengine_checkpoints'] = allow_mmengine_checkpoints()
        _applied['cpu_distributed'] = allow_cpu_distributed()
        _applied['config_bases'] = enable_config_bases()
        _applied['atomic_checkpoints'] = make_checkpoint_saves_atomic()
    return dict(_applied)


__all__ = [
    'apply_compat_patches', 'allow_cpu_distributed',
    'allow_mmengine_checkpoints', 'enable_config_bases',
    'gate_mmrazor_quantization', 'make_checkpoint_saves_atomic'
]
