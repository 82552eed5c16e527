# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Seconds per training step and peak memory, written to the work dir."""
import os.path as osp
import resource
import time
from typing import Dict, Optional

import mmengine
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from attnfd_mm.atomic_files import atomic_file

#: the file the hook writes in the work dir
STEP_TIMES_FILE = 'step_times.json'


def load_step_times(work_dir: str) -> Optional[Dict]:
    """What :class:`StepTimeHook` wrote in ``work_dir``, or None."""
    path = osp.join(work_dir, STEP_TIMES_FILE)
    return mmengine.load(path) if osp.isfile(path) else None


@HOOKS.register_module()
class StepTimeHook(Hook):
    """Write ``<work_dir>/step_times.json`` at every checkpoint and at the
    end of training (main process)::

        {"seconds": {"1": 0.41, "2": 0.38, ...}, "peak_memory_mib": 812.0,
         "device": "cpu"}

    ``seconds``: the wall time of each iteration (data, forward, backward,
    update, hooks) by its number, added to what a resumed run's first part
    wrote; the peak memory: ``torch.cuda.max_memory_allocated`` on CUDA, the
    peak resident set on CPU.
    """

    # before the checkpoint hook: a checkpoint's file holds its own iteration
    priority = 'NORMAL'

    def __init__(self) -> None:
        self.seconds: Dict[str, float] = {}
        self.peak = 0.0
        self._last: Optional[float] = None

    def before_train(self, runner) -> None:
        saved = load_step_times(runner.work_dir)
        if saved:
            self.seconds = dict(saved['seconds'])
            self.peak = float(saved['peak_memory_mib'])
        self._last = time.perf_counter()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        now = time.perf_counter()
        self.seconds[str(runner.iter + 1)] = now - self._last
        self._last = now

    def after_train(self, runner, checkpoint: Optional[Dict] = None) -> None:
        """Write the file (also before each checkpoint is saved)."""
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
        self.peak = max(
            self.peak, torch.cuda.max_memory_allocated() / 2**20
            if device == 'cuda' else
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        if not is_main_process():
            return
        path = osp.join(runner.work_dir, STEP_TIMES_FILE)
        with atomic_file(path) as tmp:
            mmengine.dump(dict(seconds=self.seconds, peak_memory_mib=self.peak,
                               device=device), tmp, file_format='json')

    before_save_checkpoint = after_train
