# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Random states in checkpoints, so that a resumed run is the same run."""
import random
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save each process's Python, numpy, torch (and CUDA) random states with
    every checkpoint and restore them right before the first resumed
    iteration: mmengine re-seeds a resumed run, whose dropout masks would
    otherwise differ from those of a run never interrupted."""

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: Optional[Dict] = None

    def before_save_checkpoint(self, runner, checkpoint: Dict) -> None:
        states = dict(python=random.getstate(), numpy=np.random.get_state(),
                      torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            states['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['random_states'] = states

    def after_load_checkpoint(self, runner, checkpoint: Dict) -> None:
        self._pending = checkpoint.get('random_states')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        states, self._pending = self._pending, None
        if states is not None:
            random.setstate(states['python'])
            np.random.set_state(states['numpy'])
            torch.set_rng_state(states['torch'])
            if 'cuda' in states and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(states['cuda'])
