# Copyright (c) attnfd-mm contributors. All rights reserved.
"""CPU demo: teacher, student alone and student + AttnFD on synthetic data.

Generates a small deterministic dataset of coloured shapes (no download),
trains a DeepLabV3-R34-D8 teacher, a DeepLabV3-R18-D8 student alone and the
same student distilled with AttnFD (layers B + E) from the teacher, all
built from mmseg's stock configs, then prints their validation mIoU and
writes the paper's Figure 1 (raw and attention-refined feature maps of
teacher and student) for one validation image to ``attention.png``.

The console shows the stages, their figures and where each result went;
each stage's full log is ``<work dir>/<stage>/console.log``, the figures
``<work dir>/results.json``.

Re-running reuses every stage whose final checkpoint exists; ``--force``
retrains. ``--data-only`` writes the dataset (``<work dir>/data``, mmseg's
``img_dir``/``ann_dir`` layout) and stops, for the quick start's configs.

    python tools/demo.py [--work-dir work_dirs/demo] [--iters 150] [--data-only]
"""
import argparse
import json
import logging
import os
import os.path as osp
from contextlib import redirect_stderr, redirect_stdout
from typing import Dict

import mmcv
from mmengine.hooks import Hook
from mmengine.runner import Runner

from attnfd_mm.apis import build_runner, draw_attention_grid
from attnfd_mm.compat import apply_entry_point_patches
from attnfd_mm.testing import (deeplabv3_segmentor, make_synthetic_shapes,
                               tiny_distill_model, tiny_runner_config)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--iters', type=int, default=150,
                        help='training iterations of each stage')
    parser.add_argument('--teacher-iters', type=int, default=300)
    parser.add_argument('--force', action='store_true',
                        help='retrain stages that already have a checkpoint')
    parser.add_argument('--data-only', action='store_true',
                        help='write the synthetic dataset and stop')
    return parser.parse_args()


class _KeepValMetrics(Hook):
    """Keep the metrics of the last validation."""

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics = {k: float(v) for k, v in (metrics or {}).items()}


def draw_attention(runner: Runner, data_root: str, out_file: str) -> None:
    """Figure 1 of the paper for the first validation image."""
    img_dir = osp.join(data_root, 'img_dir', 'val')
    image = mmcv.imread(
        osp.join(img_dir, sorted(os.listdir(img_dir))[0]),
        channel_order='rgb')
    draw_attention_grid(runner.model.eval(), image, out_file,
                        title='AttnFD demo: layers B and E')
    print(f'[demo] attention maps -> {out_file}')


def _train_logged(cfg, log_file: str) -> Runner:
    """Train ``cfg`` with its console output (config, hooks, iterations,
    warnings) written to ``log_file``; return the runner."""
    with open(log_file, 'w') as log, redirect_stdout(log), \
            redirect_stderr(log):
        runner = build_runner(cfg)
        keep = _KeepValMetrics()
        runner.register_hook(keep)
        try:
            runner.train()  # validates once, after the last iteration
        finally:
            for handler in list(runner.logger.handlers):
                if type(handler) is logging.StreamHandler:  # to log_file
                    runner.logger.removeHandler(handler)
    runner.val_metrics = keep.metrics
    return runner


def run_stage(name: str, model: Dict, args: argparse.Namespace,
              data_root: str, iters: int) -> Dict:
    """Train (unless done) and evaluate one stage; return its metrics."""
    work_dir = osp.join(args.work_dir, name)
    ckpt = osp.join(work_dir, f'iter_{iters}.pth')
    metrics_file = osp.join(work_dir, 'val_metrics.json')
    if osp.isfile(ckpt) and osp.isfile(metrics_file) and not args.force:
        print(f'[demo] {name}: reusing {ckpt}', flush=True)
        with open(metrics_file) as f:
            return json.load(f)
    os.makedirs(work_dir, exist_ok=True)
    log_file = osp.join(work_dir, 'console.log')
    print(f'[demo] {name}: training {iters} iterations on CPU (log: '
          f'{log_file}) ...', flush=True)
    cfg = tiny_runner_config(
        work_dir, data_root, model, max_iters=iters, batch_size=4,
        lr=0.01, val_interval=iters)
    cfg.default_hooks.logger.interval = 10
    cfg.log_level = 'INFO'
    runner = _train_logged(cfg, log_file)
    metrics = runner.val_metrics
    with open(metrics_file, 'w') as f:
        json.dump(metrics, f)
    print(f'[demo] {name}: val mIoU {metrics["mIoU"]:.2f}; checkpoint '
          f'{ckpt}, metrics {metrics_file}', flush=True)
    if 'distiller' in model:
        draw_attention(runner, data_root,
                       osp.join(args.work_dir, 'attention.png'))
    return metrics


def main() -> None:
    apply_entry_point_patches()
    args = parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    data_root = make_synthetic_shapes(
        osp.join(args.work_dir, 'data'), num_train=64, num_val=16, size=64)
    if args.data_only:
        print(f'synthetic shapes (64 train / 16 val, 64x64): {data_root}')
        return

    results = {}
    results['teacher (DeepLabV3-R34)'] = run_stage(
        'teacher_r34', deeplabv3_segmentor('r34'), args, data_root,
        args.teacher_iters)
    teacher_ckpt = osp.join(args.work_dir, 'teacher_r34',
                            f'iter_{args.teacher_iters}.pth')
    results['student (DeepLabV3-R18)'] = run_stage(
        'student', deeplabv3_segmentor('r18'), args, data_root, args.iters)
    distill = tiny_distill_model('r18', 'r34', teacher_ckpt=teacher_ckpt)
    results['student + AttnFD (B+E)'] = run_stage(
        'student_attnfd_r34', distill, args, data_root, args.iters)

    summary = osp.join(args.work_dir, 'results.json')
    with open(summary, 'w') as f:
        json.dump({name: round(m['mIoU'], 2) for name, m in results.items()},
                  f, indent=2)
    print('\n| model | val mIoU |\n|---|---|')
    for name, metrics in results.items():
        print(f'| {name} | {metrics["mIoU"]:.2f} |')
    print(f'\n[demo] val mIoU of each stage: {summary}; checkpoints and full '
          f'logs: {args.work_dir}/<stage>/')


if __name__ == '__main__':
    main()
