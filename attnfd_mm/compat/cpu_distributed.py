# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Let mmengine 0.10 start torchrun-launched training on CPU: its launcher
calls ``torch.cuda.set_device``; without CUDA the process group is started
directly."""
from typing import Callable

import torch
import torch.distributed as torch_dist


def cpu_safe_pytorch_launcher(original: Callable) -> Callable:
    """Wrap mmengine's ``_init_dist_pytorch``."""

    def _init_dist_pytorch(backend, init_backend='torch', **kwargs) -> None:
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        torch_dist.init_process_group(backend=backend, **kwargs)

    return _init_dist_pytorch


def allow_cpu_distributed() -> None:
    """Wrap mmengine's torchrun launcher."""
    from mmengine.dist import utils as dist_utils
    dist_utils._init_dist_pytorch = cpu_safe_pytorch_launcher(
        dist_utils._init_dist_pytorch)
