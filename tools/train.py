# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Train a segmentor or a distillation algorithm (mmseg's flags)."""
import argparse

from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import attnfd_mm  # noqa: F401  (compat fixes + registers the plugin)
from attnfd_mm.apis import (add_runner_args, load_runner_config,
                            parse_runner_args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train a segmentor, or distil a teacher into a student '
        'with attnfd_mm.')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir '
        '(student, connectors, optimizer and scheduler states)')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    add_runner_args(parser)
    return parse_runner_args(parser)


def main() -> None:
    args = parse_args()
    cfg = load_runner_config(args.config, args.work_dir, args.cfg_options,
                             args.launcher, args.data_root)
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in your config.',
                      logger='current')
        elif optim_wrapper != 'OptimWrapper':
            raise ValueError('--amp needs optim_wrapper.type OptimWrapper '
                             f'or AmpOptimWrapper, got {optim_wrapper}.')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    cfg.resume = args.resume
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    runner.train()


if __name__ == '__main__':
    main()
