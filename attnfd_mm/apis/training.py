# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Run a training config (``tools/train.py``, ``tools/distill.py``)."""
import glob
import logging
import os.path as osp
import re
from typing import List, Optional, Tuple

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import (CheckpointLoader, Runner,
                             find_latest_checkpoint)

from attnfd_mm.compat import apply_entry_point_patches

from .distill_config import add_custom_hook
from .init_weights import check_init_weights
from .test_config import is_distillation


class NoGoodCheckpointError(RuntimeError):
    """Every checkpoint of a work dir fails to load."""


def resume_checkpoint(work_dir: str) -> Tuple[Optional[str], List[str]]:
    """The newest checkpoint of ``work_dir`` that loads (``last_checkpoint``'s,
    then ``iter|epoch_N.pth`` by decreasing N) or None, and warnings.

    Raises:
        NoGoodCheckpointError: There are checkpoints but none loads.
    """
    numbered = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        found = re.fullmatch(r'(?:iter|epoch)_(\d+)\.pth', osp.basename(path))
        if found:
            numbered.append((int(found.group(1)), path))
    named = find_latest_checkpoint(work_dir)
    candidates = ([named] if named else []) + [
        p for _, p in sorted(numbered, reverse=True)
        if not named or osp.abspath(p) != osp.abspath(named)]
    bad: List[Tuple[str, str]] = []
    for path in candidates:
        if not osp.isfile(path):
            bad.append((path, 'missing'))
            continue
        try:
            loaded = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        except Exception as err:  # noqa: BLE001  (any reader failure)
            bad.append((path, f'{type(err).__name__}: {str(err)[:120]}'))
            continue
        if isinstance(loaded, dict) and 'state_dict' in loaded:
            return path, [
                f'--resume: skipping {p}, which does not load ({why}).'
                for p, why in bad
            ] + [f'--resume: resuming from {path}.']
        bad.append((path, 'no state_dict'))
    if bad:
        raise NoGoodCheckpointError(
            f'--resume: no checkpoint of {work_dir} loads: ' +
            '; '.join(f'{p} ({why})' for p, why in bad) + '. Start over '
            'without --resume (or in another --work-dir), or restore a '
            'checkpoint there.')
    return None, []


def enable_amp(cfg: Config) -> None:
    """Turn on automatic mixed precision, as mmseg's ``--amp`` does.

    Raises:
        ValueError: The optimizer wrapper is not ``(Amp)OptimWrapper``.
        RuntimeError: No CUDA, NPU, MLU or MUSA device.
    """
    from mmengine.device import get_device
    if get_device() == 'cpu':
        raise RuntimeError(
            '--amp: automatic mixed precision in mmengine needs a CUDA, NPU, '
            'MLU or MUSA device, and this machine has none; train without '
            '--amp on CPU.')
    optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if optim_wrapper == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in your config.',
                  logger='current')
    elif optim_wrapper != 'OptimWrapper':
        raise ValueError('--amp needs optim_wrapper.type OptimWrapper '
                         f'or AmpOptimWrapper, got {optim_wrapper}.')
    else:
        cfg.optim_wrapper.update(type='AmpOptimWrapper', loss_scale='dynamic')


def add_student_hooks(cfg: Config) -> None:
    """Add ``StudentExportHook`` and ``StudentCostHook`` (with a teacher) to a
    distillation config, unless ``export_student`` / ``measure_student_cost``
    is False."""
    if not is_distillation(cfg):
        return
    if cfg.get('export_student', True):
        add_custom_hook(cfg, dict(type='StudentExportHook'))
    if 'teacher' in cfg.model and cfg.get('measure_student_cost', True):
        add_custom_hook(cfg, dict(type='StudentCostHook'))


def build_runner(cfg: Config) -> Runner:
    """The runner of ``cfg`` (its ``runner_type``), version fixes applied.

    The runner writes ``cfg`` without yapf formatting (mmengine's
    ``format_python_code=False``): it writes the config several times per run
    (log, work dir, visualizer, run info, each checkpoint), and formatting
    a distillation config takes about half a second each time.
    """
    apply_entry_point_patches()
    cfg = Config(cfg.to_dict(), cfg_text=cfg.text, filename=cfg.filename,
                 format_python_code=False)
    return (Runner.from_cfg(cfg)
            if 'runner_type' not in cfg else RUNNERS.build(cfg))


def train(cfg: Config, resume: bool = False, amp: bool = False) -> Runner:
    """Train ``cfg`` (:func:`load_runner_config`'s); return the runner.
    ``resume``: from ``cfg.load_from``, else :func:`resume_checkpoint`.

    Raises:
        WeightsUnavailableError: Initial weights cannot be read.
    """
    check_init_weights(cfg)
    if amp:
        enable_amp(cfg)
    add_student_hooks(cfg)
    warnings = []
    if resume and not cfg.get('load_from'):
        cfg.load_from, warnings = resume_checkpoint(cfg.work_dir)
    cfg.resume = resume
    runner = build_runner(cfg)
    for message in warnings:  # in the run's own log
        print_log(message, logger='current', level=logging.WARNING)
    runner.train()
    return runner
