# Copyright (c) attnfd-mm contributors. All rights reserved.
"""A user's training schedule shortened to a number of iterations."""
from typing import Dict

from mmengine.config import Config, ConfigDict


class ScheduleError(ValueError):
    """A schedule that cannot be shortened."""


def _scaled(value: float, factor: float) -> int:
    return int(round(value * factor))


def shorten_scheduler(scheduler: Dict, length: Dict[bool, int],
                      iters: int) -> ConfigDict:
    """``scheduler`` scaled from the loop's ``length`` (``{by_epoch:
    epochs or iterations}``) to ``iters`` iterations, ``by_epoch=False``."""
    scheduler = ConfigDict(scheduler)
    by_epoch = bool(scheduler.get('by_epoch', True))
    total = length.get(by_epoch)
    if total is None:
        unit = 'epochs' if by_epoch else 'iterations'
        raise ScheduleError(
            f'The scheduler {scheduler.get("type")} counts {unit}, but the '
            f'train loop does not give its length in {unit}: give the '
            'schedule and the loop in the same unit.')
    factor = iters / total
    begin = _scaled(scheduler.get('begin', 0), factor)
    end = _scaled(min(scheduler.get('end', total), total), factor)
    scheduler.update(begin=begin, end=max(end, begin + 1), by_epoch=False)
    scheduler.pop('convert_to_iter_based', None)
    if 'milestones' in scheduler:
        scheduler.milestones = [
            _scaled(m, factor) for m in scheduler.milestones]
    if 'T_max' in scheduler:
        scheduler.T_max = max(1, _scaled(scheduler.T_max, factor))
    return scheduler


def shorten_schedule(cfg: Config, iters: int,
                     checkpoint_interval: int = 100) -> None:
    """Make ``cfg`` train ``iters`` iterations, its schedulers compressed to
    that length, without validation, logging by iteration and checkpointing
    every ``checkpoint_interval`` iterations and at the end."""
    if iters < 1:
        raise ScheduleError(f'iters must be >= 1, got {iters}.')
    loop = cfg.get('train_cfg') or {}
    unit = 'max_iters' if 'max_iters' in loop else 'max_epochs'
    if unit not in loop:
        raise ScheduleError(
            'The config\'s train_cfg gives neither max_iters nor max_epochs '
            f'({dict(loop)}): set one so that its schedule can be shortened.')
    length = {unit == 'max_epochs': int(loop[unit])}
    schedulers = cfg.get('param_scheduler') or []
    cfg.param_scheduler = [shorten_scheduler(s, length, iters) for s in (
        [schedulers] if isinstance(schedulers, dict) else schedulers)]
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    hooks = cfg.setdefault('default_hooks', ConfigDict())
    hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False,
        interval=min(checkpoint_interval, iters), max_keep_ckpts=2)
    logger = hooks.get('logger') or dict(type='LoggerHook')
    logger.update(interval=min(int(logger.get('interval', 50)), 10),
                  log_metric_by_epoch=False)
    hooks.logger = logger
    cfg.log_processor = dict(cfg.get('log_processor') or {}, by_epoch=False)
