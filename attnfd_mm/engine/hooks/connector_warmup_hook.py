# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Warm-up that trains only the distillation connectors at first."""
from typing import List

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import nn


@HOOKS.register_module()
class ConnectorWarmupHook(Hook):
    """Freeze the student for the first ``warmup_iters`` iterations, as
    AttnFD's authors do (only the connectors train in the first epoch)::

        custom_hooks = [dict(type='ConnectorWarmupHook', warmup_iters=1000)]

    The student's trainable parameters get ``requires_grad=False`` (the
    optimizer skips them), by ``runner.iter``, so a resumed run is frozen
    when the original was; parameters a config froze stay frozen. Under
    DDP, keep ``find_unused_parameters=True``.

    Args:
        warmup_iters (int): Iterations during which only connectors train.
    """

    def __init__(self, warmup_iters: int) -> None:
        if isinstance(warmup_iters, bool) or not isinstance(
                warmup_iters, int) or warmup_iters < 0:
            raise ValueError('ConnectorWarmupHook: warmup_iters must be an '
                             f'integer >= 0, got {warmup_iters!r}.')
        self.warmup_iters = warmup_iters
        self._frozen_params: List[nn.Parameter] = []

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        """Freeze or unfreeze the student according to ``runner.iter``."""
        in_warmup = runner.iter < self.warmup_iters
        if in_warmup and not self._frozen_params:
            model = runner.model.module if is_model_wrapper(runner.model) \
                else runner.model
            if not hasattr(model, 'student'):
                raise TypeError(
                    'ConnectorWarmupHook needs a distillation algorithm with '
                    'a `student` (e.g. SingleTeacherDistill); got '
                    f'{type(model).__name__}.')
            self._frozen_params = [
                p for p in model.student.parameters() if p.requires_grad]
            for param in self._frozen_params:
                param.requires_grad_(False)
            runner.logger.info(
                f'ConnectorWarmupHook: student frozen until iter '
                f'{self.warmup_iters} (now {runner.iter}); connectors train.')
        elif not in_warmup and self._frozen_params:
            for param in self._frozen_params:
                param.requires_grad_(True)
            self._frozen_params = []
            runner.logger.info('ConnectorWarmupHook: student unfrozen at '
                               f'iter {runner.iter}.')
