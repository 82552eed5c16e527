# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Checkpoints written whole or not at all.

mmengine 0.x writes a checkpoint straight to its final name
(``LocalBackend.put``), so a job killed during the write (pre-emption, a full
disk) leaves a truncated ``iter_N.pth`` behind. This step, applied by
``import attnfd_mm``, makes the runner write local checkpoints to
``<name>.tmp``, flush them to disk and move them into place with
``os.replace`` (atomic on POSIX). mmengine's ``CheckpointHook`` updates
``last_checkpoint`` only after the save returns, so the pointer never names
a file that is not whole. Remote paths (``s3://``, ...) are left to
mmengine.
"""
import os
from typing import Callable

import mmengine
from mmengine.utils import digit_version

#: First mmengine release whose runner this step has not been checked
#: against; on it the step does nothing.
FIRST_UNCHECKED_MMENGINE = '1.0.0'
_PATCH_FLAG = '_attnfd_atomic_save'


def needs_atomic_saves(mmengine_version: str = mmengine.__version__) -> bool:
    """Whether this mmengine is one whose runner the step was checked
    against (0.x)."""
    return digit_version(mmengine_version) < digit_version(
        FIRST_UNCHECKED_MMENGINE)


def atomic_save(save: Callable) -> Callable:
    """Wrap mmengine's ``save_checkpoint(checkpoint, filename, ...)``."""

    def save_checkpoint(checkpoint, filename, *args, **kwargs):
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

    save_checkpoint.__doc__ = save.__doc__
    setattr(save_checkpoint, _PATCH_FLAG, True)
    return save_checkpoint


def make_checkpoint_saves_atomic() -> bool:
    """Make the runner's checkpoint saves atomic (once); return whether
    this mmengine needed it."""
    if not needs_atomic_saves():
        return False
    from mmengine.runner import runner as runner_module
    if not getattr(runner_module.save_checkpoint, _PATCH_FLAG, False):
        runner_module.save_checkpoint = atomic_save(
            runner_module.save_checkpoint)
    return True
