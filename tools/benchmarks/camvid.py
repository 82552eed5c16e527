# Copyright (c) attnfd-mm contributors. All rights reserved.
"""CamVid benchmark: a DeepLabV3-R18 student alone and distilled, compared.

    python tools/benchmarks/camvid.py DATA_ROOT [--work-dir DIR] \
        [--size 72x96] [--batch-size 8] [--iters 360] \
        [--teacher-iters 1000] [--teacher-depth 34] [--seeds 0 1] \
        [--methods student kd cwd attnfd [attnfd_sample attnfd_sample_w8 \
        attnfd_w16 attnfd_tcbam attnfd_kd student_same_time]] \
        [--same-time-as METHOD] [--teacher-checkpoint PTH] \
        [--teacher-val-interval N] [--expect-teacher-miou M] \
        [--no-test-split] [--full] [--estimate]

``tools/compare.py`` with this repository's CamVid configs, scaled to a CPU
budget, plus the training of the teacher: a DeepLabV3-D8 of
``--teacher-depth`` (34: the R18 config with a deeper backbone; 50, 101:
``configs/teachers/deeplabv3_r101_camvid.py``) trained ``--teacher-iters``
iterations, or the weights of ``--teacher-checkpoint`` (e.g. another work
dir's ``checkpoints/teacher.pth`` of the same depth). Then for each seed
the student of ``configs/baselines/deeplabv3_r18_camvid.py`` with each
method of ``--methods``, all from scratch (unless ``--pretrained``): images
resized to ``--size``, batch ``--batch-size``, ``--iters`` iterations.

Every model is scored on the val split and, where the root has ``test/``
and ``testannot/`` (unless ``--no-test-split``), on the test split: choose
on val, report test. The teacher is also scored on val every
``--teacher-val-interval`` iterations while it trains (its curve goes into
``results.json``); ``--expect-teacher-miou`` stops the benchmark before any
student trains when the teacher's val mIoU is more than
``--teacher-tolerance`` from it. ``DIR`` holds what ``tools/compare.py``
writes (``results.json`` also the command and the code's commit); score a
student on the test split with

    python tools/test.py DIR/configs/student_test.py \
        DIR/checkpoints/attnfd_seed0.pth --data-root DATA_ROOT

Re-running continues where a killed run stopped; other settings need
another work dir. ``--full`` keeps the configs' own protocol (360x480,
9,175 iterations, batch 8, an R101 teacher) for a GPU. docs/benchmarks.md
describes the protocol and its results.
"""
import argparse
import glob
import json
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:  # a source checkout run without installing
    sys.path.insert(0, ROOT)

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.runner import CheckpointLoader  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402

from attnfd_mm.apis import (distill_config, weights_checkpoint,  # noqa: E402
                            write_config)
from attnfd_mm.apis.runner_config import (config_dicts,  # noqa: E402
                                          set_data_root)
from attnfd_mm.atomic_files import atomic_file  # noqa: E402
from attnfd_mm.comparison import (Arm, Comparison, bind_settings,  # noqa
                                  comparison_parser, run_comparison)
from attnfd_mm.models.algorithms import teacher_checkpoint  # noqa: E402
from attnfd_mm.utils import parse_size  # noqa: E402

#: teacher depth -> config (relative to configs/) whose depth it changes
TEACHER_CONFIGS: Dict[int, str] = {
    34: 'baselines/deeplabv3_r18_camvid.py',
    50: 'teachers/deeplabv3_r101_camvid.py',
    101: 'teachers/deeplabv3_r101_camvid.py',
}
#: the student's config (relative to configs/)
STUDENT_CONFIG = 'baselines/deeplabv3_r18_camvid.py'
#: settings a work dir is bound to: changing one needs a new work dir
BOUND_SETTINGS = ('size', 'batch_size', 'iters', 'teacher_iters',
                  'teacher_depth', 'lr', 'teacher_seed', 'full', 'pretrained',
                  'teacher_checkpoint', 'same_time_as')
#: the configs' own protocol, for --full
FULL_PROTOCOL = dict(size=None, iters=9175, teacher_iters=9175, batch_size=8,
                     teacher_depth=101)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = comparison_parser(
        __doc__, methods=['student', 'kd', 'cwd', 'attnfd'], iters=360,
        seeds=[0, 1])
    parser.add_argument('data_root', help='CamVid root (SegNet layout)')
    parser.add_argument('--work-dir', default='work_dirs/benchmarks/camvid')
    parser.add_argument('--size', default='72x96', type=parse_size,
                        help='image size HxW for training and testing')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--teacher-iters', type=int, default=1000)
    parser.add_argument('--teacher-depth', type=int, default=34,
                        choices=sorted(TEACHER_CONFIGS),
                        help='ResNet depth of the DeepLabV3-D8 teacher '
                        '(34: the R18 model\'s head; 50, 101: the R101 '
                        'config\'s)')
    parser.add_argument('--lr', type=float, default=0.01)
    parser.add_argument('--teacher-seed', type=int, default=0)
    parser.add_argument('--teacher-checkpoint',
                        help='weights of the teacher (e.g. another work '
                        'dir\'s checkpoints/teacher.pth, of the same '
                        '--teacher-depth) to use instead of training one; '
                        'it is scored at this run\'s size')
    parser.add_argument('--workers', type=int,
                        help='dataloader workers per loader (default: 0, '
                        'with --full 4)')
    parser.add_argument('--full', action='store_true',
                        help='the configs\' protocol: 360x480, 9,175 '
                        'iterations, batch 8 (a GPU)')
    parser.add_argument('--pretrained', action='store_true',
                        help='keep the configs\' ImageNet initialisation '
                        '(downloads it)')
    parser.add_argument('--teacher-val-interval', type=int, default=500,
                        help='iterations between val scores of the teacher '
                        'while it trains (its curve; 0: none)')
    parser.add_argument('--expect-teacher-miou', type=float, metavar='M',
                        help='the val mIoU a (re-)trained teacher must reach '
                        'within --teacher-tolerance before any student uses '
                        'it (e.g. the one recorded in an earlier '
                        'results.json)')
    parser.add_argument('--teacher-tolerance', type=float, default=1.0)
    parser.add_argument('--no-test-split', dest='test_split',
                        action='store_false',
                        help='score on val only, although the root has a test '
                        'split')
    args = parser.parse_args(argv)
    if args.workers is None:
        args.workers = 4 if args.full else 0
    if args.full:
        for key, value in FULL_PROTOCOL.items():
            setattr(args, key, value)
    if not osp.isdir(args.data_root):
        parser.error(f'CamVid root not found: {args.data_root!r}')
    missing = [d for d in ('train', 'trainannot', 'val', 'valannot')
               if not osp.isdir(osp.join(args.data_root, d))]
    if missing:
        parser.error(f'{args.data_root!r} is not a CamVid root in the SegNet '
                     f'layout: missing {missing}')
    args.data_root = osp.abspath(args.data_root)
    args.test_split = args.test_split and all(
        osp.isdir(osp.join(args.data_root, d)) for d in ('test', 'testannot'))
    args.work_dir = osp.abspath(args.work_dir)  # stages run in the repo root
    if args.teacher_checkpoint is not None:
        args.teacher_checkpoint = osp.abspath(args.teacher_checkpoint)
        own = osp.join(args.work_dir, 'checkpoints', 'teacher.pth')
        if osp.realpath(args.teacher_checkpoint) == osp.realpath(own):
            parser.error('--teacher-checkpoint is this work dir\'s own '
                         'teacher: leave the flag out to reuse it')
        # once adopted, the work dir's copy is used, not the source
        if not osp.isfile(own) and not osp.isfile(args.teacher_checkpoint):
            parser.error('--teacher-checkpoint: no such file: '
                         f'{args.teacher_checkpoint!r}')
    return args


def model_config(kind: str, args: argparse.Namespace) -> Config:
    """The CamVid config of the ``'student'`` or the ``'teacher'`` (its
    depth set) with the benchmark's data, resolution, batch, LR and workers
    (the schedule is the comparison's)."""
    rel = TEACHER_CONFIGS[args.teacher_depth] if kind == 'teacher' \
        else STUDENT_CONFIG
    cfg = Config.fromfile(osp.join(ROOT, 'configs', rel))
    set_data_root(cfg, args.data_root)
    for node in config_dicts(cfg._cfg_dict):
        if args.size is not None:
            h, w = args.size
            if node.get('type') in ('RandomResize', 'Resize'):
                node['scale'] = (w, h)
            elif node.get('type') == 'RandomCrop':
                node['crop_size'] = (h, w)
            elif node.get('type') == 'SegDataPreProcessor':
                node['size'] = (h, w)
        if 'pretrained' in node and not args.pretrained:
            node['pretrained'] = None
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.num_workers = args.workers
        loader.persistent_workers = args.workers > 0
    cfg.train_dataloader.batch_size = args.batch_size
    cfg.optim_wrapper.optimizer.lr = args.lr
    if kind == 'teacher':
        cfg.model.backbone.depth = args.teacher_depth
    return cfg


class CamVidBenchmark(Comparison):
    """The teacher stage, then the comparison, of one work dir."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        super().__init__(
            model_config('student', args), model_config('teacher', args),
            osp.join(args.work_dir, 'checkpoints', 'teacher.pth'),
            args.work_dir, methods=args.methods, seeds=args.seeds,
            iters=args.iters, same_time_as=args.same_time_as,
            checkpoint_interval=args.checkpoint_interval,
            keep_train_checkpoints=args.keep_train_checkpoints,
            prefix='[camvid]', test_split=args.test_split, cwd=ROOT)

    def bind(self) -> None:
        """Bind the work dir to the benchmark's settings too; without the
        test split, write the configs that score its checkpoints on one."""
        args = self.args
        settings = {k: getattr(args, k) for k in BOUND_SETTINGS}
        settings['size'] = list(args.size) if args.size else None
        bind_settings(osp.join(args.work_dir, 'benchmark.json'), settings,
                      'a run with other settings',
                      'Use another --work-dir or the same settings.')
        super().bind()
        if not args.test_split:  # else the comparison writes them
            for kind, model in (('student', None),
                                ('teacher', self.teacher_model())):
                write_config(self.val_config(model, 'test'), osp.join(
                    self.runner.dirs['configs'], f'{kind}_test.py'))

    def check(self) -> None:
        """Train (or adopt) and score the teacher first: the arms' checks
        load it."""
        self.train_teacher()
        self.check_teacher()
        super().check()

    def teacher_train_config(self, iters: int) -> Config:
        """The teacher stage's training config: scored on val every
        ``--teacher-val-interval`` iterations, its step times recorded."""
        cfg = distill_config(self.teacher, None, 'student')
        self.shorten(cfg, iters, self.args.teacher_seed)
        interval = self.args.teacher_val_interval
        if interval and interval < iters:
            for key in ('val_dataloader', 'val_evaluator'):
                cfg[key] = self.teacher[key]
            cfg.val_cfg = dict(type='ValLoop')
            cfg.train_cfg.val_interval = interval
        return cfg

    def teacher_curve(self) -> List[Dict]:
        """The teacher's val mIoU while it trained: ``[{iter, mIoU}]``
        from its runs' ``vis_data/scalars.json`` (resumed runs included),
        then its final score."""
        points = {}
        train = osp.join(self.runner.dirs['train'], 'teacher')
        for path in sorted(glob.glob(osp.join(train, '*', 'vis_data',
                                              'scalars.json'))):
            with open(path) as f:
                for line in f:
                    row = json.loads(line)
                    if 'mIoU' in row:
                        points[int(row['step'])] = float(row['mIoU'])
        final = self.runner.metrics_file('teacher')
        if osp.isfile(final) and self.args.teacher_checkpoint is None:
            with open(final) as f:
                points[self.args.teacher_iters] = json.load(f)['mIoU']
        return [dict(iter=k, mIoU=v) for k, v in sorted(points.items())]

    def check_teacher(self) -> None:
        """Stop before any student trains when the teacher's val mIoU is
        not within ``--teacher-tolerance`` of ``--expect-teacher-miou``."""
        expected, tolerance = (self.args.expect_teacher_miou,
                               self.args.teacher_tolerance)
        if expected is None:
            return
        got = self.score_teacher()['val']['mIoU']
        if abs(got - expected) > tolerance:
            raise SystemExit(
                f'[camvid] the teacher scores {got:.2f} val mIoU, '
                f'{got - expected:+.2f} from the expected {expected:.2f} '
                f'(--teacher-tolerance {tolerance}): no student is trained '
                'from it. Check its command and data, or re-train it '
                '(delete checkpoints/teacher.pth and metrics/teacher*.json).')
        print(f'[camvid] teacher: val mIoU {got:.2f}, within {tolerance} of '
              f'the expected {expected:.2f}', flush=True)

    def train_teacher(self) -> None:
        """Train (resuming it) and score the teacher, or adopt
        ``--teacher-checkpoint``, into ``checkpoints/teacher.pth``."""
        if osp.isfile(self.teacher_ckpt):
            return
        if self.args.teacher_checkpoint:
            self.adopt_teacher(self.args.teacher_checkpoint)
        else:
            self.runner.train(
                'teacher', self.teacher_train_config(self.args.teacher_iters),
                self.scored_on('teacher'))

    def adopt_teacher(self, src: str) -> None:
        """Check that ``src`` holds every weight of this run's teacher,
        with its shapes, and save them as ``checkpoints/teacher.pth``."""
        print(f'[camvid] teacher: using {src}', flush=True)
        try:
            plain = weights_checkpoint(
                CheckpointLoader.load_checkpoint(src, map_location='cpu'))
        except ValueError as e:
            raise SystemExit(f'--teacher-checkpoint {src}: {e}')
        with DefaultScope.overwrite_default_scope('mmseg'):
            model = MODELS.build(self.teacher.model)
        try:
            teacher_checkpoint.check_teacher_state(model, plain['state_dict'],
                                                   src)
        except ValueError as e:
            raise SystemExit(
                f'--teacher-checkpoint {src} is not a DeepLabV3-'
                f'R{self.args.teacher_depth}-D8 of this benchmark. {e} '
                'Pass the --teacher-depth it was trained with.')
        with atomic_file(self.teacher_ckpt) as tmp:
            torch.save(plain, tmp)

    def estimate(self, reps: int = 4) -> str:
        """The projected training time of the teacher and of the arms."""
        text = super().estimate(reps)
        args = self.args
        if args.teacher_checkpoint:
            return f'teacher from {args.teacher_checkpoint}; {text}'
        step = self.runner.time_steps(self.teacher_train_config(reps),
                                      'teacher')
        return (f'teacher DeepLabV3-R{args.teacher_depth}: '
                f'{args.teacher_iters} x {step:.2f} s = '
                f'{args.teacher_iters * step / 60:.0f} min; students: {text}')

    def report(self, argv: Optional[List[str]]) -> Dict:
        """The arguments of ``write_results`` for this run."""
        args = self.args
        size = ('360x480 (configs)' if args.size is None else
                f'{args.size[0]}x{args.size[1]}')
        teacher_from = (f'from {args.teacher_checkpoint}'
                        if args.teacher_checkpoint else
                        f'{args.teacher_iters} iterations')
        splits = 'val and test splits' if args.test_split else 'val split'
        init = 'ImageNet-initialised' if args.pretrained else 'from scratch'
        return dict(
            preamble=[
                f'CamVid {splits}, {size}, batch {args.batch_size}, LR '
                f'{args.lr}; student DeepLabV3-R18-D8, {args.iters} '
                f'iterations; teacher DeepLabV3-R{args.teacher_depth}-D8 '
                f'{teacher_from}; {init}.'
            ],
            teacher_label=f'teacher DeepLabV3-R{args.teacher_depth}',
            title='CamVid benchmark',
            extra=dict(teacher_curve=self.teacher_curve(),
                       benchmark=run_record(argv)))


def run_record(argv: Optional[List[str]]) -> Dict:
    """The command and the code's commit (``+dirty`` with local changes),
    for results.json."""
    try:
        commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT,
                                capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain',
                                '--untracked-files=no'], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        commit += '+dirty' if dirty else ''
    except (OSError, subprocess.CalledProcessError):
        commit = None
    args = sys.argv[1:] if argv is None else argv
    return dict(command=' '.join(['python tools/benchmarks/camvid.py',
                                  *args]), commit=commit)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    bench = run_comparison(lambda: CamVidBenchmark(args), '[camvid]',
                           args.estimate, lambda bench: bench.report(argv))
    if bench is None:
        return
    example = Arm(args.methods[-1], args.seeds[0]).stage
    checkpoints = bench.runner.dirs['checkpoints']
    print(f'[camvid] student checkpoints: {checkpoints}; score one on the '
          'test split with: python tools/test.py '
          f'{osp.join(args.work_dir, "configs", "student_test.py")} '
          f'{osp.join(checkpoints, example + ".pth")} '
          f'--data-root {args.data_root}')


if __name__ == '__main__':
    main()
