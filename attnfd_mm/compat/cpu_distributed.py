# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Let mmengine start PyTorch-launched (torchrun) training on CPU.

mmengine 0.10.x initialises a ``pytorch``-launched process with
``torch.cuda.set_device(LOCAL_RANK)`` before ``init_process_group``. A
CPU-only torch build has no CUDA bindings, so that call raises
``AttributeError`` and ``tools/dist_train.sh`` cannot start with the gloo
backend. Where CUDA is unavailable, the launcher is wrapped to skip that
call; everything else (rank, world size, rendezvous) is mmengine's. With
CUDA available nothing changes.
"""
from typing import Callable

import torch
import torch.distributed as torch_dist

_PATCH_FLAG = '_attnfd_cpu_launcher'


def cpu_safe_pytorch_launcher(original: Callable) -> Callable:
    """Wrap mmengine's ``_init_dist_pytorch``: without CUDA, init the
    process group directly (gloo) instead of selecting a CUDA device."""

    def _init_dist_pytorch(backend, init_backend='torch', **kwargs) -> None:
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        torch_dist.init_process_group(backend=backend, **kwargs)

    setattr(_init_dist_pytorch, _PATCH_FLAG, True)
    return _init_dist_pytorch


def allow_cpu_distributed() -> bool:
    """Apply the wrapper when CUDA is unavailable; return whether it was."""
    if torch.cuda.is_available():
        return False
    from mmengine.dist import utils as dist_utils
    if not getattr(dist_utils._init_dist_pytorch, _PATCH_FLAG, False):
        dist_utils._init_dist_pytorch = cpu_safe_pytorch_launcher(
            dist_utils._init_dist_pytorch)
    return True
