# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Let ``torch.load(weights_only=True)`` (torch >= 2.6's default) read
mmengine 0.10's checkpoints: only their data-only globals are allowed, and
the ``getattr`` a ``HistoryBuffer`` pickles only for its statistics."""
import pickle
from typing import Any

import numpy as np
import torch


def history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to ``HistoryBuffer``'s statistics methods."""
    from mmengine.logging import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)  # custom registered
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'Refusing getattr({obj!r}, {name!r}) in a checkpoint: only '
        'HistoryBuffer statistics methods are allowed.')


def allow_mmengine_checkpoints() -> None:
    """Add the data-only globals of mmengine's checkpoints to torch's
    weights_only allow-list."""
    from mmengine.logging import HistoryBuffer
    try:
        from numpy._core import multiarray  # numpy >= 2 (shim in 1.26)
    except ImportError:
        from numpy.core import multiarray
    safe = [HistoryBuffer, np.ndarray, np.dtype,
            (history_buffer_getattr, 'builtins.getattr'),
            (history_buffer_getattr, '__builtin__.getattr')]
    # written under numpy 1.x as numpy.core.*, under 2.x as numpy._core.*
    for prefix in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        safe.append((multiarray._reconstruct, f'{prefix}._reconstruct'))
        safe.append((multiarray.scalar, f'{prefix}.scalar'))
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25
    if dtypes is not None:
        safe += [obj for obj in vars(dtypes).values()
                 if isinstance(obj, type) and issubclass(obj, np.dtype)]
    torch.serialization.add_safe_globals(safe)
