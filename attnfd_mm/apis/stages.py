# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Train and score one stage in a process of its own (the stages of
:mod:`attnfd_mm.comparison`): ``train CONFIG WORK_DIR EXPORT_PTH
[--keep-checkpoints] [--score CONFIG WORK_DIR METRICS_JSON]...``
(:func:`train_and_export`, then :func:`score` of the export) or ``test
CHECKPOINT --score CONFIG WORK_DIR METRICS_JSON [--score ...]``."""
import argparse
import glob
import json
import os
import os.path as osp
from typing import List, Optional

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


def score(checkpoint: str, scores: List[List[str]]) -> None:
    """Write the metrics of ``checkpoint`` (:func:`check_checkpoint_fits`)
    for each ``[config, work_dir, metrics_json]`` of ``scores``."""
    for config, work_dir, out in scores:
        cfg = keep_config_files(load_runner_config(config, work_dir), True)
        cfg.update(resume=False, load_from=checkpoint)
        runner = build_runner(cfg)
        check_checkpoint_fits(runner.model, checkpoint)
        metrics = {k: float(v) for k, v in runner.test().items()}
        with atomic_file(out) as tmp, open(tmp, 'w') as f:
            json.dump(metrics, f, indent=2)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    trains = commands.add_parser('train')
    for name in ('config', 'work_dir', 'export'):
        trains.add_argument(name)
    trains.add_argument('--keep-checkpoints', action='store_true')
    tests = commands.add_parser('test')
    tests.add_argument('checkpoint')
    for sub in (trains, tests):
        sub.add_argument('--score', nargs=3, action='append', default=[],
                         required=sub is tests,
                         metavar=('CONFIG', 'WORK_DIR', 'METRICS_JSON'))
    args = parser.parse_args(argv)  # load_config applies the patches
    try:
        if args.command == 'train':
            train_and_export(args.config, args.work_dir, args.export,
                             args.keep_checkpoints)
        score(args.export if args.command == 'train' else args.checkpoint,
              args.score)
    except (ConfigNotFoundError, WeightsUnavailableError) as e:
        raise SystemExit(f'[{args.command}] {type(e).__name__}: {e}')


if __name__ == '__main__':
    main()
