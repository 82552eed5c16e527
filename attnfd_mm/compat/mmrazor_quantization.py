# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Let ``import mmrazor.models`` work on torch other than 1.13.x.

mmrazor 1.0.0 builds its quantization backend tables
(``mmrazor.structures.quantization.backend_config``) at import time from
torch 1.13's private quantization APIs (``reverse_sequential_wrapper2``,
``reverse2``/``reverse3``, ``BackendPatternConfig`` internals). On later
torch those imports fail, and since ``mmrazor.models`` imports the
quantizers, every MMRazor model, distillation included, fails to import.

Upstream's fix (unreleased after 1.0.0) builds the tables only on torch
1.13.x and leaves them ``None`` elsewhere. This module does the equivalent
without touching site-packages: before mmrazor is imported, it registers in
``sys.modules`` a stand-in for that one subpackage, whose ``BackendConfigs``
maps every backend to ``None`` and whose ``get_*_backend_config*``
functions raise a clear error. Distillation, pruning and NAS are
unaffected; only mmrazor's quantization (which needs torch 1.13) is
unavailable, as upstream intends.
"""
import sys
import types
from typing import Callable, NoReturn

import torch
from mmengine.utils import digit_version

#: The mmrazor subpackage whose import-time tables need torch 1.13.x.
BACKEND_CONFIG_MODULE = 'mmrazor.structures.quantization.backend_config'
BACKENDS = ('academic', 'native', 'tensorrt', 'openvino')
#: Last mmrazor release that builds the tables unconditionally.
LAST_AFFECTED_MMRAZOR = '1.0.0'


def quantization_tables_supported(
        torch_version: str = torch.__version__) -> bool:
    """Whether mmrazor 1.0.0's backend tables can be built on this torch."""
    version = digit_version(torch_version)
    return digit_version('1.13.0') <= version < digit_version('1.14.0')


def _mmrazor_version() -> str:
    """Version of the installed mmrazor, read without importing it."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version('mmrazor')
    except PackageNotFoundError:
        return '0.0.0'


def needs_quantization_stub(torch_version: str = torch.__version__,
                            mmrazor_version: str = None) -> bool:
    """Whether the stand-in is needed: an affected mmrazor on a torch
    other than 1.13.x."""
    mmrazor_version = mmrazor_version or _mmrazor_version()
    return (not quantization_tables_supported(torch_version)
            and digit_version(mmrazor_version) <= digit_version(
                LAST_AFFECTED_MMRAZOR))


def _unavailable(name: str) -> Callable[..., NoReturn]:

    def getter(*args, **kwargs) -> NoReturn:
        raise RuntimeError(
            f'{name}: mmrazor {LAST_AFFECTED_MMRAZOR} quantization backends '
            f'need torch 1.13.x, this is torch {torch.__version__}. '
            'Distillation does not need them.')

    getter.__name__ = name
    return getter


def build_backend_config_stub() -> types.ModuleType:
    """The stand-in module for mmrazor's ``backend_config`` subpackage."""
    stub = types.ModuleType(BACKEND_CONFIG_MODULE, __doc__)
    stub.BackendConfigs = {name: None for name in BACKENDS}
    names = ['BackendConfigs']
    for backend in BACKENDS:
        for suffix in ('', '_dict'):
            name = f'get_{backend}_backend_config{suffix}'
            setattr(stub, name, _unavailable(name))
            names.append(name)
    stub.__all__ = names
    stub.__attnfd_stub__ = True
    return stub


def gate_mmrazor_quantization() -> bool:
    """Install the stand-in when needed.

    Returns:
        bool: True when the stand-in is in place (now or before), False
        when this torch/mmrazor pair needs none (a no-op).

    Raises:
        RuntimeError: mmrazor's quantization structures were already
            imported (so the fix comes too late): import attnfd_mm first.
    """
    if not needs_quantization_stub():
        return False
    existing = sys.modules.get(BACKEND_CONFIG_MODULE)
    if existing is not None:
        if getattr(existing, '__attnfd_stub__', False):
            return True
        raise RuntimeError(
            f'{BACKEND_CONFIG_MODULE} was imported before attnfd_mm; import '
            'attnfd_mm before mmrazor.models.')
    sys.modules[BACKEND_CONFIG_MODULE] = build_backend_config_stub()
    return True
