# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Let ``torch.load(weights_only=True)`` read mmengine's own checkpoints.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True`` and only
unpickles allow-listed globals. mmengine 0.10.7 saves, beside tensors, its
``MessageHub`` state (``HistoryBuffer`` objects holding numpy arrays) and
numpy scalars in ``meta``, so ``load_checkpoint`` and ``--resume`` fail.

The fix here keeps ``weights_only=True`` and adds to torch's allow-list
only the few data-only globals that mmengine's checkpoints contain:
``mmengine.logging.HistoryBuffer`` and numpy's array/dtype/scalar
reconstruction functions. A ``HistoryBuffer`` pickles its statistics
methods as ``getattr(HistoryBuffer, 'mean')``; instead of allowing
``builtins.getattr``, that name is mapped to a getattr that resolves only
those methods. Any other pickled object is still refused by torch,
including in checkpoints the user did not produce.
"""
import pickle
from typing import Any, List, Tuple, Union

import numpy as np
import torch
from mmengine.utils import digit_version

#: First torch release whose ``torch.load`` defaults to ``weights_only=True``.
WEIGHTS_ONLY_DEFAULT_SINCE = '2.6.0'

SafeGlobal = Union[Any, Tuple[Any, str]]


def needs_checkpoint_allowlist(torch_version: str = torch.__version__) -> bool:
    """Whether ``torch_version`` loads checkpoints with weights_only=True."""
    return digit_version(torch_version) >= digit_version(
        WEIGHTS_ONLY_DEFAULT_SINCE)


def history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to ``HistoryBuffer``'s statistics methods.

    Stands for ``builtins.getattr`` while torch unpickles a checkpoint.
    """
    from mmengine.logging import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)  # custom registered
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'Refusing getattr({obj!r}, {name!r}) in a checkpoint: only '
        'HistoryBuffer statistics methods are allowed.')


def mmengine_checkpoint_globals() -> List[SafeGlobal]:
    """The data-only globals found in mmengine's own checkpoints."""
    from mmengine.logging import HistoryBuffer

    try:
        from numpy._core import multiarray  # numpy >= 2 (shim in 1.26)
    except ImportError:
        from numpy.core import multiarray
    safe: List[SafeGlobal] = [
        HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct,
        multiarray.scalar, (history_buffer_getattr, 'builtins.getattr'),
        (history_buffer_getattr, '__builtin__.getattr')
    ]
    # Checkpoints written under numpy 1.x name ``numpy.core.*`` and under
    # numpy 2.x ``numpy._core.*``: accept both spellings.
    for prefix in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        safe.append((multiarray._reconstruct, f'{prefix}._reconstruct'))
        safe.append((multiarray.scalar, f'{prefix}.scalar'))
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25
    if dtypes is not None:
        safe += [
            obj for obj in vars(dtypes).values()
            if isinstance(obj, type) and issubclass(obj, np.dtype)
        ]
    return safe


def allow_mmengine_checkpoints() -> bool:
    """Add mmengine's checkpoint globals to torch's weights_only allow-list.

    Returns:
        bool: True when the allow-list was extended, False when this torch
        does not need it (a no-op).
    """
    if not needs_checkpoint_allowlist():
        return False
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())
    return True
