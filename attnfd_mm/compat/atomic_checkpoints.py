# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Checkpoints written whole or not at all.

mmengine 0.10 writes a checkpoint straight to its final name, so a job
killed during the write leaves a truncated ``iter_N.pth``. The runner's
local checkpoints are written to ``<name>.tmp``, flushed to disk and moved
into place with ``os.replace`` (atomic on POSIX); ``CheckpointHook`` updates
``last_checkpoint`` after the save returns, so it never names a partial
file. Remote paths (``s3://``, ...) are left to mmengine.
"""
import os
from typing import Callable


def atomic_save(save: Callable) -> Callable:
    """Wrap mmengine's ``save_checkpoint(checkpoint, filename, ...)``."""

    def save_checkpoint(checkpoint, filename, *args, **kwargs) -> None:
        if '://' in str(filename):
            return save(checkpoint, filename, *args, **kwargs)
        tmp = f'{filename}.tmp'
        save(checkpoint, tmp, *args, **kwargs)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, filename)

    return save_checkpoint


def make_checkpoint_saves_atomic() -> None:
    """Wrap the ``save_checkpoint`` the runner calls."""
    from mmengine.runner import runner as runner_module
    runner_module.save_checkpoint = atomic_save(runner_module.save_checkpoint)
