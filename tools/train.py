# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Train a segmentor or a distillation algorithm (mmseg's flags)."""
import argparse

from attnfd_mm.apis import (ConfigNotFoundError, WeightsUnavailableError,
                            add_runner_args, load_runner_config,
                            parse_runner_args, train)
from attnfd_mm.compat import apply_entry_point_patches


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
    apply_entry_point_patches()
    args = parse_args()
    try:
        cfg = load_runner_config(args.config, args.work_dir,
                                 args.cfg_options, args.launcher,
                                 args.data_root)
        train(cfg, resume=args.resume, amp=args.amp)
    except (ConfigNotFoundError, WeightsUnavailableError) as e:
        raise SystemExit(f'[train] {type(e).__name__}: {e}')


if __name__ == '__main__':
    main()
