# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Let ``import mmrazor.models`` work on torch other than 1.13.x: mmrazor
1.0.0 builds quantization tables at import from torch 1.13's private APIs.
As upstream's unreleased fix, a stand-in maps every backend to ``None``."""
import sys
import types
from typing import NoReturn

import torch

BACKEND_CONFIG_MODULE = 'mmrazor.structures.quantization.backend_config'
BACKENDS = ('academic', 'native', 'tensorrt', 'openvino')


class MMRazorImportedFirstError(RuntimeError):
    """mmrazor's quantization structures were imported before the stand-in."""


def _unavailable(*args, **kwargs) -> NoReturn:
    raise RuntimeError(
        'mmrazor 1.0.0 quantization backends need torch 1.13.x, this is '
        f'torch {torch.__version__}. Distillation does not need them.')


def backend_config_stub() -> types.ModuleType:
    """The stand-in module for mmrazor's ``backend_config`` subpackage."""
    stub = types.ModuleType(BACKEND_CONFIG_MODULE, __doc__)
    stub.BackendConfigs = dict.fromkeys(BACKENDS)
    getters = [f'get_{backend}_backend_config{suffix}'
               for backend in BACKENDS for suffix in ('', '_dict')]
    for name in getters:
        setattr(stub, name, _unavailable)
    stub.__all__ = ['BackendConfigs'] + getters
    stub.is_attnfd_stub = True
    return stub


def stub_backend_config() -> None:
    """Register the stand-in in ``sys.modules`` (or raise
    :class:`MMRazorImportedFirstError`)."""
    existing = sys.modules.get(BACKEND_CONFIG_MODULE)
    if existing is None:
        sys.modules[BACKEND_CONFIG_MODULE] = backend_config_stub()
    elif not getattr(existing, 'is_attnfd_stub', False):
        raise MMRazorImportedFirstError(
            f'{BACKEND_CONFIG_MODULE} was imported before attnfd_mm; import '
            'attnfd_mm before mmrazor.models.')
