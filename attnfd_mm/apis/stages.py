# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Train or score one config in a process of its own (the stages of
:mod:`attnfd_mm.comparison`): ``train CONFIG WORK_DIR EXPORT_PTH
[--keep-checkpoints]`` (:func:`train_and_export`) or ``test CONFIG
CHECKPOINT WORK_DIR METRICS_JSON`` (:func:`evaluate`, written as JSON)."""
import argparse
import glob
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import torch

from attnfd_mm.atomic_files import atomic_file
from .config_files import ConfigNotFoundError
from .init_weights import WeightsUnavailableError
from .runner_config import keep_config_files, load_runner_config
from .student_checkpoint import load_weights, weights_checkpoint
from .test_config import check_checkpoint_fits
from .training import build_runner, train


def train_and_export(config: str, work_dir: str, export: str,
                     keep_checkpoints: bool = False) -> None:
    """Train ``config`` in ``work_dir`` (resumed) unless done, export its
    student's weights, remove the checkpoints unless ``keep_checkpoints``."""
    cfg = load_runner_config(config, work_dir)
    final = osp.join(work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')
    if not osp.isfile(final):
        train(cfg, resume=osp.isfile(osp.join(work_dir, 'last_checkpoint')))
    checkpoint, student = load_weights(final)
    with atomic_file(export) as tmp:
        torch.save(student or weights_checkpoint(checkpoint), tmp)
    if not keep_checkpoints:
        for path in glob.glob(osp.join(work_dir, 'iter_*.pth')):
            os.remove(path)


def evaluate(config: str, checkpoint: str, work_dir: str) -> Dict[str, float]:
    """The metrics of ``checkpoint`` (:func:`check_checkpoint_fits`)."""
    cfg = keep_config_files(load_runner_config(config, work_dir), True)
    cfg.update(resume=False, load_from=checkpoint)
    runner = build_runner(cfg)
    check_checkpoint_fits(runner.model, checkpoint)
    return {k: float(v) for k, v in runner.test().items()}


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    trains = commands.add_parser('train')
    for name in ('config', 'work_dir', 'export'):
        trains.add_argument(name)
    trains.add_argument('--keep-checkpoints', action='store_true')
    tests = commands.add_parser('test')
    for name in ('config', 'checkpoint', 'work_dir', 'metrics'):
        tests.add_argument(name)
    args = parser.parse_args(argv)  # load_config applies the patches
    try:
        if args.command == 'train':
            train_and_export(args.config, args.work_dir, args.export,
                             args.keep_checkpoints)
            return
        metrics = evaluate(args.config, args.checkpoint, args.work_dir)
    except (ConfigNotFoundError, WeightsUnavailableError) as e:
        raise SystemExit(f'[{args.command}] {type(e).__name__}: {e}')
    with atomic_file(args.metrics) as tmp, open(tmp, 'w') as f:
        json.dump(metrics, f, indent=2)


if __name__ == '__main__':
    main()
