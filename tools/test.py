# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Test (evaluate) a checkpoint on a config's test set (mmseg's flags).

A distillation config scores its student, as mmseg's test loop does, from a
distillation checkpoint or from the exported ``student.pth``; the teacher
is neither built nor loaded, so its file is not needed. The checkpoint is
scored as given: never resumed, and its weights must be exactly the model's
(``CheckpointMismatchError`` otherwise). Nothing in the work dir is
rewritten: the config is dumped as ``<timestamp>.py``.
"""
import argparse
import json
import os
import os.path as osp
import tempfile
from typing import Dict

from mmengine.dist import is_main_process
from mmengine.logging import print_log

from attnfd_mm.apis import (add_runner_args, build_runner,
                            load_runner_config, parse_runner_args)
from attnfd_mm.apis.config_files import ConfigNotFoundError
from attnfd_mm.apis.runner_config import keep_config_files
from attnfd_mm.apis.test_config import (CheckpointMismatchError,
                                        check_checkpoint_fits,
                                        is_distillation, student_test_config)
from attnfd_mm.compat import apply_entry_point_patches


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate a segmentor or a distilled student.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        type=str,
        help='the dir to save the predicted masks (as PNG files)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='the dir to save painted predictions for visual inspection')
    parser.add_argument(
        '--wait-time', type=float, default=2,
        help='the interval of --show (s)')
    parser.add_argument(
        '--tta', action='store_true',
        help='test-time augmentation (the config\'s tta_model and '
        'tta_pipeline)')
    parser.add_argument(
        '--metrics-out',
        help='write the metrics (with IoU.<class> when the evaluator is '
        'PerClassIoUMetric) to this JSON file, for '
        'tools/analysis/per_class_iou.py')
    add_runner_args(parser)
    return parse_runner_args(parser)


def dump_metrics(metrics: Dict, path: str) -> None:
    """Write ``metrics`` (floats) to ``path`` as JSON."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump({k: float(v) for k, v in metrics.items()}, f, indent=2)


def main() -> None:
    apply_entry_point_patches()
    args = parse_args()
    try:
        metrics = evaluate(args)
    except (CheckpointMismatchError, ConfigNotFoundError) as e:
        raise SystemExit(f'[test] {type(e).__name__}: {e}')
    if args.metrics_out and is_main_process():
        dump_metrics(metrics, args.metrics_out)


def evaluate(args: argparse.Namespace) -> Dict:
    """Score ``args.checkpoint`` with ``args.config``; return the metrics.
    """
    if not osp.isfile(args.checkpoint) and '://' not in args.checkpoint:
        raise FileNotFoundError(f'Checkpoint not found: {args.checkpoint!r}.')
    cfg = load_runner_config(args.config, args.work_dir, args.cfg_options,
                             args.launcher, args.data_root)
    # a test config of its own: dumped as <timestamp>.py, never resumed
    cfg = keep_config_files(cfg, always=True)
    cfg.resume = False
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = args.checkpoint
        if is_distillation(cfg):
            cfg, checkpoint = student_test_config(cfg, checkpoint, tmp)
            print_log('Distillation config: scoring its student (the '
                      'teacher is neither built nor loaded).',
                      logger='current')
        cfg.load_from = checkpoint
        if args.show or args.show_dir:
            cfg.default_hooks.setdefault(
                'visualization', dict(type='SegVisualizationHook'))
            visualization = cfg.default_hooks.visualization  # the stored one
            visualization.update(draw=True, interval=1)
            if args.show:
                visualization.update(show=True, wait_time=args.wait_time)
            if args.show_dir:
                if not cfg.get('visualizer'):  # mmseg's default runtime's
                    cfg.visualizer = dict(
                        type='SegLocalVisualizer', name='visualizer',
                        vis_backends=[dict(type='LocalVisBackend')])
                cfg.visualizer.save_dir = args.show_dir
        if args.tta:
            if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
                raise ValueError(
                    '--tta needs tta_model and tta_pipeline in the config '
                    "(mmseg's configs inherit them from their dataset "
                    'base).')
            cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
            cfg.tta_model.module = cfg.model
            cfg.model = cfg.tta_model
        if args.out:
            cfg.test_evaluator.update(
                output_dir=args.out, keep_results=True)
        runner = build_runner(cfg)
        check_checkpoint_fits(runner.model, checkpoint)
        return runner.test()


if __name__ == '__main__':
    main()
