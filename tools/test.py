# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Test (evaluate) a checkpoint on a config's test set (mmseg's flags)."""
import argparse
import json
import os
import os.path as osp
from typing import Dict

from mmengine.dist import is_main_process

import attnfd_mm  # noqa: F401  (compat fixes + registers the plugin)
from attnfd_mm.apis import (add_runner_args, build_runner,
                            load_runner_config, parse_runner_args)


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
        '--show-dir',
        help='the dir to save painted predictions for visual inspection')
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
    args = parse_args()
    if not osp.isfile(args.checkpoint) and '://' not in args.checkpoint:
        raise FileNotFoundError(f'Checkpoint not found: {args.checkpoint!r}.')
    cfg = load_runner_config(args.config, args.work_dir, args.cfg_options,
                             args.launcher, args.data_root)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        visualization = cfg.default_hooks.setdefault(
            'visualization', dict(type='SegVisualizationHook'))
        visualization.update(draw=True, interval=1)
        cfg.visualizer.save_dir = args.show_dir
    if args.out:
        cfg.test_evaluator.update(
            output_dir=args.out, keep_results=True)
    runner = build_runner(cfg)
    metrics = runner.test()
    if args.metrics_out and is_main_process():
        dump_metrics(metrics, args.metrics_out)


if __name__ == '__main__':
    main()
