# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Distil a teacher into a student from their two configs, in one command.

    python tools/distill.py STUDENT_CONFIG TEACHER_CONFIG \
        --teacher-checkpoint PATH_OR_URL [--method attnfd_kd] \
        [--layers B E D] [--work-dir DIR] [--resume] [--amp] \
        [--skip-bad-samples] \
        [--data-root DIR] [--cfg-options KEY=VALUE ...] \
        [--launcher none|pytorch|slurm]

Configs are local files, ``mmseg::...`` or ``attnfd_mm::...``. The student
config brings data, schedule and runtime, as when the student is trained
alone; the teacher config only its model. The distillation config (frozen
teacher loaded from the checkpoint, layers and logits found in the built
models, the method's losses, lossless ``--resume``) is written to
``DIR/distill_config.py``, then trained (``--cfg-options`` and
``--data-root`` change the student config before it is composed); ``tools/train.py
DIR/distill_config.py`` re-runs it unchanged. ``--print-config`` only
writes and prints it. Default work dir:
``work_dirs/<student config name>_<method>``. Several processes:
``bash tools/dist_distill.sh STUDENT TEACHER GPUS [options]`` (torchrun)
or ``tools/slurm_distill.sh``.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from attnfd_mm.apis import (DEFAULT_METHOD, METHODS, ConfigNotFoundError,
                            WeightsUnavailableError, add_runner_args,
                            distill_config, load_config, load_runner_config,
                            parse_runner_args, train, write_config)
from attnfd_mm.apis.runner_config import (absolute_paths, config_name,
                                          set_data_root)
from attnfd_mm.compat import apply_entry_point_patches

#: name of the composed config in the work dir
CONFIG_NAME = 'distill_config.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    methods = '; '.join(f'{name}: {row.description}'
                        for name, row in METHODS.items()
                        if row.distiller is not None)
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    parser.add_argument('student', help='student config (file, mmseg::..., '
                        'attnfd_mm::...): model, data, schedule, runtime')
    parser.add_argument('teacher', help='teacher config (only its model is '
                        'used)')
    parser.add_argument('--teacher-checkpoint', required=True,
                        help='path or URL of the teacher\'s weights (an '
                        'mmseg checkpoint of the teacher config)')
    parser.add_argument(
        '--method', default=DEFAULT_METHOD,
        choices=[m for m, row in METHODS.items() if row.distiller],
        help=f'a method file of configs/_base_/methods/; default: '
        f'{DEFAULT_METHOD}. {methods}')
    parser.add_argument('--layers', nargs='+', metavar='LAYER',
                        help='AttnFD layers (B, E, D; default B E)')
    parser.add_argument('--resume', action='store_true',
                        help='resume from the latest checkpoint of the work '
                        'dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic-mixed-precision training')
    parser.add_argument('--skip-bad-samples', action='store_true',
                        help='log and skip samples whose image or label '
                        'file is bad (does not decode, wrong size, values '
                        'outside the classes) instead of stopping')
    parser.add_argument('--print-config', action='store_true',
                        help='write and print the composed config, do not '
                        'train')
    add_runner_args(parser)
    args = (parse_runner_args(parser) if argv is None else
            parser.parse_args(argv))
    if args.work_dir is None:
        args.work_dir = osp.join(
            'work_dirs', f'{config_name(args.student)}_{args.method}')
    return args


def compose(args: argparse.Namespace, command: str = '') -> str:
    """Write the distillation config of ``args`` into the work dir; return
    its path. With ``--resume`` the work dir's config must be the same, and
    is kept as it is.

    Raises:
        SystemExit: ``--resume`` in a work dir whose config differs.
    """
    student = load_config(args.student)
    if args.cfg_options:
        student.merge_from_dict(args.cfg_options)
    if args.data_root is not None:
        set_data_root(student, osp.abspath(args.data_root))
    cfg = distill_config(student, args.teacher, method=args.method,
                         teacher_ckpt=args.teacher_checkpoint,
                         layers=args.layers,
                         skip_bad_samples=args.skip_bad_samples)
    cfg.work_dir = args.work_dir
    absolute_paths(cfg)  # runs from any directory
    path = osp.join(args.work_dir, CONFIG_NAME)
    if args.resume and osp.isfile(path):
        with open(path) as f:
            written = ''.join(
                line for line in f if not line.startswith('# '))
        if written != cfg.pretty_text:
            raise SystemExit(
                f'--resume: {path} holds another distillation config than '
                'this command composes (other configs, method, layers, '
                'checkpoint or options). Resume with the same command, or '
                'start over in another --work-dir.')
        return path
    header = [
        f'Distillation config written by tools/distill.py: {args.method}',
        f'student: {args.student}', f'teacher: {args.teacher}',
        f'teacher checkpoint: {args.teacher_checkpoint}',
        *([f'command: {command}'] if command else []),
        f'Re-run unchanged: python tools/train.py {path}'
    ]
    return write_config(cfg, path, header)


def main(argv: Optional[List[str]] = None) -> None:
    apply_entry_point_patches()
    args = parse_args(argv)
    command = ' '.join(['python tools/distill.py', *sys.argv[1:]]) \
        if argv is None else ''
    try:
        main_with(args, command)
    except (ConfigNotFoundError, WeightsUnavailableError) as e:
        raise SystemExit(f'[distill] {type(e).__name__}: {e}')


def main_with(args: argparse.Namespace, command: str = '') -> None:
    """Compose, write and (unless ``--print-config``) train."""
    path = compose(args, command)
    if args.print_config:
        with open(path) as f:
            print(f.read())
        return
    print(f'[distill] {args.method}: config written to {path}', flush=True)
    # read back as written; the runner dumps it as <timestamp>.py, not over
    # the written file
    train(load_runner_config(path, args.work_dir, None, args.launcher),
          resume=args.resume, amp=args.amp)


if __name__ == '__main__':
    main()
