# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Checkpoints written whole or not at all: mmengine 0.10 writes one in
place, so a killed job leaves it truncated; a local one is now written to a
synced temporary file moved into place."""
import os
from typing import Callable

from attnfd_mm.atomic_files import atomic_file


def atomic_save(save: Callable) -> Callable:
    """Wrap mmengine's ``save_checkpoint(checkpoint, filename, ...)``."""

    def save_checkpoint(checkpoint, filename, *args, **kwargs) -> None:
        if '://' in str(filename):
            return save(checkpoint, filename, *args, **kwargs)
        with atomic_file(filename) as tmp:
            save(checkpoint, tmp, *args, **kwargs)
            with open(tmp, 'rb') as f:
                os.fsync(f.fileno())

    return save_checkpoint


def make_checkpoint_saves_atomic() -> None:
    """Wrap the ``save_checkpoint`` the runner calls."""
    from mmengine.runner import runner as runner_module
    runner_module.save_checkpoint = atomic_save(runner_module.save_checkpoint)
