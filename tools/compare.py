# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Compare distillation methods on your own teacher, student and data.

    python tools/compare.py STUDENT_CONFIG TEACHER_CONFIG \
        --teacher-checkpoint PATH_OR_URL \
        [--methods student kd cwd attnfd attnfd_kd student_same_time] \
        [--iters 1000] [--seeds 0 1] [--work-dir DIR] [--estimate] \
        [--layers B E] [--same-time-as METHOD] [--data-root DIR] \
        [--no-cost] [--skip-bad-samples] [--cfg-options KEY=VALUE ...]

Each arm trains the student with one method (``student``: alone) on the
student config's data, its schedule compressed to ``--iters`` iterations,
and is scored on its val set, as the teacher is. ``student_same_time`` is
the student alone for as many iterations as the compute of the slowest
distillation arm (or ``--same-time-as``) buys: does distilling beat
training the student longer for the same cost?

``DIR/results.md``, ``results.json`` and ``results.png`` hold mIoU per arm
and seed, the paired differences with the student alone, the same-time
student, KD and CWD (mean and 95 % interval over seeds), and what the
networks cost beside each arm's mIoU (``results_cost.png``; ``--no-cost``
leaves them out); ``DIR/checkpoints/<arm>.pth`` the students' weights in
plain mmseg format. Re-running the same command continues a killed
comparison; methods and seeds may be added to a work dir. ``--estimate``
prints the projected training time. docs/own_pair.md describes it all.
"""
import argparse
import os.path as osp
from typing import List, Optional

from attnfd_mm.apis import load_config
from attnfd_mm.apis.runner_config import config_name, set_data_root
from attnfd_mm.comparison import (Comparison, comparison_parser,
                                  run_comparison)
from attnfd_mm.compat import apply_entry_point_patches
from mmengine.config import DictAction


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = comparison_parser(__doc__, methods=[
        'student', 'kd', 'cwd', 'attnfd', 'attnfd_kd', 'student_same_time'
    ], iters=1000, seeds=[0, 1])
    parser.add_argument('student', help='student config (file, mmseg::..., '
                        'attnfd_mm::...): model, data, schedule, runtime')
    parser.add_argument('teacher', help='teacher config (only its model is '
                        'used)')
    parser.add_argument('--teacher-checkpoint', required=True,
                        help='path or URL of the teacher\'s weights')
    parser.add_argument('--work-dir', help='default: work_dirs/compare_'
                        '<student config name>')
    parser.add_argument('--layers', nargs='+', metavar='LAYER',
                        help='AttnFD layers (B, E, D; default B E)')
    parser.add_argument('--no-cost', action='store_true',
                        help='do not measure what the student and the '
                        'teacher cost (parameters, FLOPs, CPU latency)')
    parser.add_argument('--data-root', help='dataset root of every '
                        'dataloader of the student config')
    parser.add_argument('--skip-bad-samples', action='store_true',
                        help='log and skip training samples whose image or '
                        'label file is bad instead of stopping')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides of the student config, key=value')
    args = parser.parse_args(argv)
    if args.work_dir is None:
        args.work_dir = osp.join('work_dirs',
                                 f'compare_{config_name(args.student)}')
    return args


def build(args: argparse.Namespace) -> Comparison:
    student = load_config(args.student)
    if args.cfg_options:
        student.merge_from_dict(args.cfg_options)
    if args.data_root is not None:
        set_data_root(student, osp.abspath(args.data_root))
    return Comparison(
        student, args.teacher, args.teacher_checkpoint, args.work_dir,
        methods=args.methods, seeds=args.seeds, iters=args.iters,
        layers=args.layers, same_time_as=args.same_time_as,
        checkpoint_interval=args.checkpoint_interval,
        keep_train_checkpoints=args.keep_train_checkpoints,
        measure_cost=not args.no_cost,
        skip_bad_samples=args.skip_bad_samples)


def main(argv: Optional[List[str]] = None) -> None:
    apply_entry_point_patches()
    args = parse_args(argv)
    comparison = run_comparison(
        lambda: build(args), '[compare]', args.estimate,
        lambda _: dict(preamble=[
            f'Student {args.student}, teacher {args.teacher} '
            f'({args.teacher_checkpoint}); each arm {args.iters} iterations '
            f'(the same-time arm: see below), seeds '
            f'{" ".join(map(str, args.seeds))}, scored on the student '
            'config\'s val set.'
        ]))
    if comparison is not None:
        print('[compare] results: '
              f'{osp.join(comparison.work_dir, "results.md")}; student '
              f'weights: {comparison.runner.dirs["checkpoints"]}')


if __name__ == '__main__':
    main()
