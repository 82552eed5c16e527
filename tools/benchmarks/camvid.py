# Copyright (c) attnfd-mm contributors. All rights reserved.
"""CamVid benchmark: a DeepLabV3-R18 student alone, with KD, CWD and AttnFD.

    python tools/benchmarks/camvid.py DATA_ROOT [--work-dir DIR] \
        [--size 120x160] [--iters 1000] [--teacher-iters 1500] \
        [--seeds 0 1] [--methods student kd cwd attnfd \
        [attnfd_tcbam attnfd_sample attnfd_sample_w8 attnfd_w16 \
        attnfd_kd]] [--teacher-checkpoint PTH] [--full]

Runs this repository's CamVid configs, scaled to a CPU budget: first the
teacher (``configs/teachers/deeplabv3_r101_camvid.py`` for ResNet-101 and
-50; ResNet-34 is the R18 model of
``configs/baselines/deeplabv3_r18_camvid.py`` with a deeper backbone), then
for each seed
the student alone (``configs/baselines/deeplabv3_r18_camvid.py``), KD and CWD
(``configs/baselines/{kd,cwd}_deeplabv3_r101_r18_camvid.py``) and AttnFD B+E
(``configs/attnfd/deeplabv3_r101_r18_camvid.py``); opt-in, AttnFD with the
learnable teacher-side CBAM
(``configs/ablations/teacher_cbam_learnable_camvid.py``), with per-sample
normalisation at loss weight 2 and 8
(``configs/ablations/loss_normalize_sample{,_w8}_camvid.py``), at loss
weight 16 (``configs/ablations/loss_weight_16_camvid.py``) and AttnFD
(per-sample norm, weight 8) + KD
(``configs/attnfd_kd/attnfd_kd_deeplabv3_r101_r18_camvid.py``); all
from scratch (no ImageNet weights unless ``--pretrained``) under one
schedule: images resized to ``--size`` (train: random scale 0.5-2 and a
crop of that size; test: that size), SGD + poly LR, batch
``--batch-size``. Each stage is one ``tools/train.py`` run; its config is
written to ``DIR/configs/``.

Afterwards every model is scored on the val split with ``tools/test.py``
(predictions resized back to the full-resolution labels). ``DIR/results.md``
(mIoU per seed, mean, spread, per-class IoU, wall time per stage) and
``DIR/results.json`` hold the results (with, once KD and CWD ran, whether
each other method beats both on the mean and on every seed),
``DIR/results.png`` a bar chart of them; ``DIR/checkpoints/<stage>.pth`` the
weights in plain mmseg format (students only, no teacher or connectors),
scored on the test split with

    python tools/test.py DIR/configs/student_test.py \
        DIR/checkpoints/attnfd_seed0.pth --data-root DATA_ROOT

Re-running continues where a killed run stopped: finished stages are
reused, an interrupted stage resumes from its last checkpoint
(``tools/train.py --resume``). ``--teacher-checkpoint`` takes the teacher
of another work dir (``DIR/checkpoints/teacher.pth``, same
``--teacher-depth``) instead of training one, e.g. to run other arms at
another ``--size`` with the same teacher; it is checked against the
teacher model and scored at this run's size. ``--full`` keeps the
configs' own protocol (360x480, 9,175 iterations, batch 8, an R101
teacher) for a GPU.

The CPU default (72x96, batch 8, an R34 teacher for 1,000 iterations,
students 360 iterations, 2 seeds) is sized for about 150 minutes on 2
cores: ``--estimate`` times one step of each model on this machine and
prints the projected time of a schedule before running it.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import signal
import statistics
import subprocess
import sys
import textwrap
import time
from typing import Dict, List, Optional, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: teacher depth -> config (relative to configs/) whose depth it changes
TEACHER_CONFIGS: Dict[int, str] = {
    34: 'baselines/deeplabv3_r18_camvid.py',
    50: 'teachers/deeplabv3_r101_camvid.py',
    101: 'teachers/deeplabv3_r101_camvid.py',
}
#: stage kind -> config (relative to configs/)
CONFIGS: Dict[str, str] = {
    'student': 'baselines/deeplabv3_r18_camvid.py',
    'kd': 'baselines/kd_deeplabv3_r101_r18_camvid.py',
    'cwd': 'baselines/cwd_deeplabv3_r101_r18_camvid.py',
    'attnfd': 'attnfd/deeplabv3_r101_r18_camvid.py',
    'attnfd_tcbam': 'ablations/teacher_cbam_learnable_camvid.py',
    'attnfd_sample': 'ablations/loss_normalize_sample_camvid.py',
    'attnfd_sample_w8': 'ablations/loss_normalize_sample_w8_camvid.py',
    'attnfd_w16': 'ablations/loss_weight_16_camvid.py',
    'attnfd_kd': 'attnfd_kd/attnfd_kd_deeplabv3_r101_r18_camvid.py',
}
METHODS: Dict[str, str] = {
    'student': 'DeepLabV3-R18 alone',
    'kd': '+ KD',
    'cwd': '+ CWD',
    'attnfd': '+ AttnFD (B+E)',
    'attnfd_tcbam': '+ AttnFD (B+E), learnable teacher CBAM',
    'attnfd_sample': '+ AttnFD (B+E), per-sample norm',
    'attnfd_sample_w8': '+ AttnFD (B+E), per-sample norm, weight 8',
    'attnfd_w16': '+ AttnFD (B+E), weight 16',
    'attnfd_kd': '+ AttnFD (B+E), per-sample norm, weight 8, + KD',
}
#: the methods run unless --methods says otherwise (the AttnFD variants
#: are opt-in)
DEFAULT_METHODS: List[str] = ['student', 'kd', 'cwd', 'attnfd']
#: the baselines a method must beat to be a recipe (see ``verdicts``)
BASELINES = ('kd', 'cwd')
#: settings a work dir is bound to: changing one needs a new work dir
BOUND_SETTINGS = ('size', 'batch_size', 'iters', 'teacher_iters',
                  'teacher_depth', 'lr', 'teacher_seed', 'full', 'pretrained',
                  'teacher_checkpoint')
#: the configs' own protocol, for --full
FULL_PROTOCOL = dict(size=None, iters=9175, teacher_iters=9175, batch_size=8,
                     teacher_depth=101)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    parser.add_argument('data_root', help='CamVid root (SegNet layout)')
    parser.add_argument('--work-dir', default='work_dirs/benchmarks/camvid')
    parser.add_argument('--size', default='72x96',
                        help='image size HxW for training and testing')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--iters', type=int, default=360,
                        help='training iterations of each student')
    parser.add_argument('--teacher-iters', type=int, default=1000)
    parser.add_argument('--teacher-depth', type=int, default=34,
                        choices=sorted(TEACHER_CONFIGS),
                        help='ResNet depth of the DeepLabV3-D8 teacher '
                        '(34: the R18 model\'s head; 50, 101: the R101 '
                        'config\'s)')
    parser.add_argument('--lr', type=float, default=0.01)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--teacher-seed', type=int, default=0)
    parser.add_argument('--teacher-checkpoint',
                        help='weights of the teacher (e.g. another work '
                        'dir\'s checkpoints/teacher.pth, of the same '
                        '--teacher-depth) to use instead of training one; '
                        'it is scored at this run\'s size')
    parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                        default=DEFAULT_METHODS,
                        help='opt-in AttnFD variants: attnfd_tcbam (the '
                        'learnable teacher-side CBAM), attnfd_sample '
                        '(normalize=\'sample\'), attnfd_sample_w8 (the '
                        'same at loss weight 8), attnfd_w16 (loss weight '
                        '16), attnfd_kd (attnfd_sample_w8 + the KD '
                        'baseline\'s loss, configs/attnfd_kd/); finished '
                        'stages of a work dir are reused when methods are '
                        'added')
    parser.add_argument('--workers', type=int,
                        help='dataloader workers per loader (default: 0, '
                        'with --full 4)')
    parser.add_argument('--checkpoint-interval', type=int, default=100,
                        help='iterations between resumable checkpoints')
    parser.add_argument('--full', action='store_true',
                        help='the configs\' protocol: 360x480, 9,175 '
                        'iterations, batch 8 (a GPU)')
    parser.add_argument('--pretrained', action='store_true',
                        help='keep the configs\' ImageNet initialisation '
                        '(downloads it)')
    parser.add_argument('--estimate', action='store_true',
                        help='only time one training step of each stage '
                        'on this machine and print the projected wall time')
    parser.add_argument('--keep-train-checkpoints', action='store_true',
                        help='keep the resumable training checkpoints of '
                        'finished stages (distillation ones hold the '
                        'teacher too)')
    args = parser.parse_args(argv)
    if args.workers is None:
        args.workers = 4 if args.full else 0
    if args.full:
        for key, value in FULL_PROTOCOL.items():
            setattr(args, key, value)
    else:
        args.size = parse_size(args.size)
    if not osp.isdir(args.data_root):
        parser.error(f'CamVid root not found: {args.data_root!r}')
    missing = [d for d in ('train', 'trainannot', 'val', 'valannot')
               if not osp.isdir(osp.join(args.data_root, d))]
    if missing:
        parser.error(f'{args.data_root!r} is not a CamVid root in the SegNet '
                     f'layout: missing {missing}')
    args.data_root = osp.abspath(args.data_root)
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


def parse_size(text: str) -> Tuple[int, int]:
    """``'120x160'`` -> ``(120, 160)`` (height, width)."""
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise SystemExit(f'--size must be HxW, e.g. 120x160; got {text!r}')
    return h, w


def check_settings(args: argparse.Namespace) -> None:
    """Bind the work dir to the settings of its first run."""
    path = osp.join(args.work_dir, 'benchmark.json')
    settings = {k: getattr(args, k) for k in BOUND_SETTINGS}
    settings['size'] = list(settings['size']) if settings['size'] else None
    if osp.isfile(path):
        with open(path) as f:
            saved = json.load(f)
        changed = {k: (saved.get(k), v) for k, v in settings.items()
                   if saved.get(k) != v}
        if changed:
            raise SystemExit(
                f'{args.work_dir} holds a run with other settings '
                f'(setting: (there, now)): {changed}. Use another --work-dir '
                'or the same settings.')
    else:
        os.makedirs(args.work_dir, exist_ok=True)
        with open(path, 'w') as f:
            json.dump(settings, f, indent=2)


def _walk_dicts(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk_dicts(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _walk_dicts(v)


def scale_protocol(cfg, args: argparse.Namespace, iters: int,
                   seed: int) -> None:
    """Apply the benchmark's data, resolution and schedule to ``cfg``."""
    from attnfd_mm.apis.runner_config import set_data_root
    set_data_root(cfg, args.data_root)
    for node in _walk_dicts(cfg._cfg_dict):
        kind = node.get('type')
        if args.size is not None:
            h, w = args.size
            if kind in ('RandomResize', 'Resize'):
                node['scale'] = (w, h)
            elif kind == 'RandomCrop':
                node['crop_size'] = (h, w)
            elif kind == 'SegDataPreProcessor':
                node['size'] = (h, w)
        if 'pretrained' in node and not args.pretrained:
            node['pretrained'] = None
    for split in ('train', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.num_workers = args.workers
        loader.persistent_workers = args.workers > 0
    cfg.train_dataloader.batch_size = args.batch_size
    cfg.optim_wrapper.optimizer.lr = args.lr
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    for scheduler in cfg.param_scheduler:
        scheduler.end = iters
    # scored afterwards with tools/test.py, not during training
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False,
        interval=min(args.checkpoint_interval, iters), max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = 10
    cfg.randomness = dict(seed=seed, deterministic=False)


def config_file(kind: str, teacher_depth: int) -> str:
    """The repository config a stage of ``kind`` starts from."""
    rel = TEACHER_CONFIGS[teacher_depth] if kind == 'teacher' \
        else CONFIGS[kind]
    return osp.join(ROOT, 'configs', rel)


class Benchmark:
    """The stages of one benchmark work dir."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.dirs = {
            name: osp.join(args.work_dir, name)
            for name in ('configs', 'train', 'checkpoints', 'metrics',
                         'eval')
        }
        for d in self.dirs.values():
            os.makedirs(d, exist_ok=True)
        self.timings_file = osp.join(args.work_dir, 'timings.json')

    # ----------------------------------------------------------- configs
    def stage_config(self, stage: str, kind: str, seed: int) -> str:
        """Write the training config of ``stage``; return its path."""
        from mmengine.config import Config
        args = self.args
        cfg = Config.fromfile(config_file(kind, args.teacher_depth))
        iters = args.teacher_iters if kind == 'teacher' else args.iters
        scale_protocol(cfg, args, iters, seed)
        if kind == 'teacher':
            cfg.model.backbone.depth = args.teacher_depth
        elif kind != 'student':
            # the very teacher trained in the teacher stage
            cfg.model.teacher = dict(cfg_path=self.stage_config(
                'teacher', 'teacher', args.teacher_seed))
            cfg.model.teacher_ckpt = self.checkpoint('teacher')
            if kind.startswith('attnfd'):
                cfg.model.distiller.teacher_layers = \
                    f'deeplabv3_r{args.teacher_depth}'
        path = osp.join(self.dirs['configs'], f'{stage}.py')
        cfg.dump(path)
        return path

    def test_config(self, kind: str) -> str:
        """Write the config that scores ``kind`` ('teacher' or 'student')
        checkpoints: the benchmark's resolution, the CamVid test split."""
        from mmengine.config import Config
        path = osp.join(self.dirs['configs'], f'{kind}_test.py')
        cfg = Config.fromfile(config_file(kind, self.args.teacher_depth))
        scale_protocol(cfg, self.args, 1, 0)
        if kind == 'teacher':
            cfg.model.backbone.depth = self.args.teacher_depth
        cfg.test_dataloader.dataset.split = 'test'
        cfg.dump(path)
        return path

    def checkpoint(self, stage: str) -> str:
        return osp.join(self.dirs['checkpoints'], f'{stage}.pth')

    # ------------------------------------------------------------ stages
    def _add_time(self, stage: str, seconds: float) -> None:
        timings = self.timings()
        timings[stage] = timings.get(stage, 0.0) + seconds
        with open(self.timings_file, 'w') as f:
            json.dump(timings, f, indent=2)

    def timings(self) -> Dict[str, float]:
        if not osp.isfile(self.timings_file):
            return {}
        with open(self.timings_file) as f:
            return json.load(f)

    def _run(self, cmd: List[str], stage: str, what: str) -> None:
        """Run a tool of this repository for ``stage``, adding its wall time
        to ``timings.json`` also when it is interrupted (Ctrl-C, SIGTERM),
        in which case the tool is stopped too."""
        print(f'[camvid] {stage}: {what}', flush=True)
        start = time.time()
        proc = subprocess.Popen([sys.executable, *cmd], cwd=ROOT)
        try:
            returncode = proc.wait()
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
            self._add_time(stage, time.time() - start)
        if returncode != 0:
            raise SystemExit(
                f'[camvid] {stage} failed ({what}, exit {returncode}); its '
                f'logs are under {osp.join(self.dirs["train"], stage)}. Fix '
                'the cause and re-run the same command to continue.')

    def train(self, stage: str, kind: str, seed: int) -> None:
        """Train ``stage`` (resuming it if it was interrupted) and export
        its weights; the teacher stage takes ``--teacher-checkpoint``
        instead when it is given."""
        if osp.isfile(self.checkpoint(stage)):
            return
        if kind == 'teacher' and self.args.teacher_checkpoint:
            self.adopt_teacher(self.args.teacher_checkpoint)
            return
        work_dir = osp.join(self.dirs['train'], stage)
        iters = self.args.teacher_iters if kind == 'teacher' \
            else self.args.iters
        final = osp.join(work_dir, f'iter_{iters}.pth')
        if not osp.isfile(final):
            config = self.stage_config(stage, kind, seed)
            cmd = ['tools/train.py', config, '--work-dir', work_dir]
            resume = osp.isfile(osp.join(work_dir, 'last_checkpoint'))
            self._run(cmd + ['--resume'] * resume, stage,
                      f'{"resuming" if resume else "training"} {iters} '
                      'iterations')
        self.export(stage, kind, final, work_dir)

    def export(self, stage: str, kind: str, src: str, work_dir: str) -> None:
        """Save the plain mmseg weights of ``src`` (the student's of a
        distillation checkpoint) as ``checkpoints/<stage>.pth``."""
        from mmengine.runner import CheckpointLoader

        import attnfd_mm  # noqa: F401  (safe checkpoint loading)
        from attnfd_mm.apis import student_checkpoint, weights_checkpoint
        checkpoint = CheckpointLoader.load_checkpoint(src, map_location='cpu')
        self.save_weights(stage, weights_checkpoint(checkpoint)
                          if kind in ('teacher', 'student') else
                          student_checkpoint(checkpoint))
        if not self.args.keep_train_checkpoints:
            for name in os.listdir(work_dir):
                if name.startswith('iter_') and name.endswith('.pth'):
                    os.remove(osp.join(work_dir, name))

    def save_weights(self, stage: str, plain: Dict) -> None:
        """Write ``plain`` as ``checkpoints/<stage>.pth``, atomically."""
        import torch
        tmp = self.checkpoint(stage) + '.tmp'
        torch.save(plain, tmp)
        os.replace(tmp, self.checkpoint(stage))

    def adopt_teacher(self, src: str) -> None:
        """Check that ``src`` holds every weight of this run's teacher,
        with its shapes, and save them as ``checkpoints/teacher.pth``."""
        from mmengine.config import Config
        from mmengine.registry import DefaultScope
        from mmengine.runner import CheckpointLoader
        from mmseg.registry import MODELS

        import attnfd_mm  # noqa: F401  (safe checkpoint loading)
        from attnfd_mm.apis import weights_checkpoint
        from attnfd_mm.models.algorithms.teacher_checkpoint import \
            check_teacher_state
        print(f'[camvid] teacher: using {src}', flush=True)
        try:
            plain = weights_checkpoint(
                CheckpointLoader.load_checkpoint(src, map_location='cpu'))
        except ValueError as e:
            raise SystemExit(f'--teacher-checkpoint {src}: {e}')
        with DefaultScope.overwrite_default_scope('mmseg'):
            model = MODELS.build(
                Config.fromfile(self.test_config('teacher')).model)
        try:
            check_teacher_state(model, plain['state_dict'], src)
        except ValueError as e:
            raise SystemExit(
                f'--teacher-checkpoint {src} is not a DeepLabV3-'
                f'R{self.args.teacher_depth}-D8 of this benchmark. {e} '
                'Pass the --teacher-depth it was trained with.')
        self.save_weights('teacher', plain)

    def score(self, stage: str, kind: str) -> Dict[str, float]:
        """Val-split metrics of ``stage``'s exported weights."""
        out = osp.join(self.dirs['metrics'], f'{stage}.json')
        if not osp.isfile(out):
            config = self.test_config(
                'teacher' if kind == 'teacher' else 'student')
            eval_dir = osp.join(self.dirs['eval'], stage)
            self._run([
                'tools/test.py', config, self.checkpoint(stage),
                '--work-dir', eval_dir, '--metrics-out', out + '.tmp',
                '--cfg-options', 'test_dataloader.dataset.split=val'
            ], stage, 'scoring on val')
            os.replace(out + '.tmp', out)
            shutil.rmtree(eval_dir, ignore_errors=True)
        with open(out) as f:
            return json.load(f)

    def run(self) -> Dict:
        """Every stage, then the results."""
        args = self.args
        teacher = self.stage('teacher', 'teacher', args.teacher_seed)
        students = {m: {} for m in args.methods}
        for seed in args.seeds:
            for method in args.methods:
                students[method][seed] = self.stage(
                    f'{method}_seed{seed}', method, seed)
        return dict(teacher=teacher, students=students)

    def stage(self, stage: str, kind: str, seed: int) -> Dict[str, float]:
        done = osp.isfile(osp.join(self.dirs['metrics'], f'{stage}.json'))
        if done:
            print(f'[camvid] {stage}: reusing its results', flush=True)
        else:
            self.train(stage, kind, seed)
        return self.score(stage, kind)


# -------------------------------------------------------------- estimate
def _overhead_module():
    """``tools/benchmarks/overhead.py``, which times one case per process
    (importable by name, as its spawned processes need)."""
    here = osp.dirname(osp.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    import overhead
    return overhead


def estimate(args: argparse.Namespace) -> str:
    """Median seconds of a training step of each stage on random inputs of
    the benchmark's size and batch, and the projected training time."""
    import tempfile
    overhead = _overhead_module()
    timing = argparse.Namespace(batch=args.batch_size, warmup=1, reps=2,
                                device='cpu')
    size = args.size or (360, 480)
    with tempfile.TemporaryDirectory() as tmp:
        bench = Benchmark(argparse.Namespace(**{**vars(args),
                                                'work_dir': tmp}))
        step = {}
        trained = [] if args.teacher_checkpoint else ['teacher']
        for kind in [*trained, *args.methods]:
            config = bench.stage_config(kind, kind, 0)
            step[kind] = overhead.measure(config, 'step', size, timing)[0]
            print(f'[camvid] {kind}: {step[kind]:.2f} s per step',
                  flush=True)
    if args.teacher_checkpoint:
        teacher, teacher_text = 0.0, f'from {args.teacher_checkpoint}'
    else:
        teacher = args.teacher_iters * step['teacher']
        teacher_text = (f'{args.teacher_iters} x {step["teacher"]:.2f} s = '
                        f'{teacher / 60:.0f} min')
    students = len(args.seeds) * args.iters * sum(
        step[m] for m in args.methods)
    return (f'{size[0]}x{size[1]}, batch {args.batch_size}: teacher '
            f'DeepLabV3-R{args.teacher_depth} {teacher_text}; students '
            f'{len(args.seeds)} seeds x {args.iters} iterations of '
            f'{"/".join(args.methods)} = {students / 60:.0f} min; training '
            f'{(teacher + students) / 60:.0f} min in all (plus start-up and '
            'scoring of each stage).')


# ---------------------------------------------------------------- report
def _mean_spread(values: List[float]) -> Tuple[float, float, float]:
    """(mean, sample std (0 for one value), max - min)."""
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, std, max(values) - min(values)


def summarize(results: Dict, timings: Dict[str, float],
              args: argparse.Namespace) -> Tuple[str, Dict]:
    """The Markdown report and its JSON form."""
    teacher = results['teacher']
    classes = [k[len('IoU.'):] for k in teacher if k.startswith('IoU.')]
    size = ('360x480 (configs)' if args.size is None else
            f'{args.size[0]}x{args.size[1]}')
    teacher_from = (f'from {args.teacher_checkpoint}'
                    if args.teacher_checkpoint else
                    f'{args.teacher_iters} iterations')
    lines = [
        '# CamVid benchmark', '',
        f'Val split, {size}, batch {args.batch_size}, LR {args.lr}, '
        f'students {args.iters} iterations, teacher DeepLabV3-'
        f'R{args.teacher_depth}-D8 {teacher_from}, '
        f'{"ImageNet-initialised" if args.pretrained else "from scratch"}.',
        '', '| model | seeds | mIoU per seed | mean | std | spread '
        '| vs alone |', '|---|---|---|---|---|---|---|',
        f'| teacher DeepLabV3-R{args.teacher_depth} | {args.teacher_seed} | '
        f'{teacher["mIoU"]:.2f} | {teacher["mIoU"]:.2f} | - | - | - |'
    ]
    summary = dict(
        settings={k: getattr(args, k) for k in BOUND_SETTINGS},
        teacher=teacher, methods={}, timings_s=timings)
    alone = None
    if results['students'].get('student'):
        alone = statistics.fmean(
            m['mIoU'] for m in results['students']['student'].values())
    per_class = {'teacher': {c: teacher[f'IoU.{c}'] for c in classes}}
    for method, by_seed in results['students'].items():
        if not by_seed:
            continue
        mious = [m['mIoU'] for m in by_seed.values()]
        mean, std, spread = _mean_spread(mious)
        delta = '-' if alone is None or method == 'student' else \
            f'{mean - alone:+.2f}'
        lines.append(
            f'| {METHODS[method]} | {" ".join(map(str, by_seed))} | '
            f'{" / ".join(f"{v:.2f}" for v in mious)} | {mean:.2f} | '
            f'{std:.2f} | {spread:.2f} | {delta} |')
        per_class[method] = {
            c: statistics.fmean(m[f'IoU.{c}'] for m in by_seed.values())
            for c in classes
        }
        summary['methods'][method] = dict(
            mIoU=dict(zip(map(str, by_seed), mious)), mean=mean, std=std,
            spread=spread, per_class=per_class[method])
    means = {m: v['mean'] for m, v in summary['methods'].items()}
    if alone is not None:
        lines += ['', f'Teacher minus student alone: '
                  f'{teacher["mIoU"] - alone:+.2f} mIoU.']
    others = [m for m in ('student', 'kd', 'cwd') if m in means]
    for attnfd in (m for m in means if m.startswith('attnfd')):
        if others:
            lines.append(
                f'{METHODS[attnfd].lstrip("+ ")} (mean over seeds) minus ' +
                ', '.join(f'{METHODS[m].lstrip("+ ")}: '
                          f'{means[attnfd] - means[m]:+.2f}'
                          for m in others) + ' mIoU.')
    for method, verdict in verdicts(summary['methods']).items():
        summary['methods'][method]['beats_kd_and_cwd'] = verdict
        lines.append(
            f'{METHODS[method].lstrip("+ ")} beats KD and CWD on the mean '
            f'and on every seed: {"yes" if verdict else "no"}.')
    lines += ['', '![mIoU per method](results.png)']
    names = ['teacher'] + [m for m in results['students'] if m in per_class]
    lines += [
        '', 'Per-class IoU (mean over seeds):', '',
        '| class | ' + ' | '.join(
            'teacher' if n == 'teacher' else METHODS[n] for n in names) +
        ' |', '|---' * (len(names) + 1) + '|'
    ]
    for c in classes:
        lines.append(f'| {c} | ' + ' | '.join(
            f'{per_class[n][c]:.2f}' for n in names) + ' |')
    total = sum(timings.values())
    lines += ['', 'Wall time per stage (training + scoring, minutes): ' +
              ', '.join(f'{k} {v / 60:.1f}' for k, v in timings.items()) +
              f'; total {total / 60:.1f}.']
    return '\n'.join(lines) + '\n', summary


def verdicts(methods: Dict[str, Dict]) -> Dict[str, bool]:
    """For each method other than the student alone and the baselines
    (KD, CWD), whether it beats every baseline on the mean and on every
    seed; empty unless both baselines were run."""
    if not all(b in methods for b in BASELINES):
        return {}
    out = {}
    for method, got in methods.items():
        if method == 'student' or method in BASELINES:
            continue
        out[method] = all(
            got['mean'] > methods[b]['mean'] and all(
                seed in methods[b]['mIoU']
                and value > methods[b]['mIoU'][seed]
                for seed, value in got['mIoU'].items()) for b in BASELINES)
    return out


def plot(summary: Dict, path: str, title: str) -> None:
    """A bar chart of the mean val mIoU of each method, with each seed as a
    dot and the range over seeds as an error bar; the teacher and the
    student alone as horizontal lines."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    methods = list(summary['methods'])
    means = [summary['methods'][m]['mean'] for m in methods]
    seeds = [list(summary['methods'][m]['mIoU'].values()) for m in methods]
    low = [mean - min(v) for mean, v in zip(means, seeds)]
    high = [max(v) - mean for mean, v in zip(means, seeds)]
    fig, ax = plt.subplots(figsize=(1.1 * len(methods) + 3, 4.5))
    xs = range(len(methods))
    ax.bar(xs, means, color=['0.6' if m in ('student', *BASELINES) else
                             'tab:blue' for m in methods])
    ax.errorbar(xs, means, yerr=[low, high], fmt='none', ecolor='black',
                capsize=4)
    for x, values in zip(xs, seeds):
        ax.scatter([x] * len(values), values, color='black', s=12, zorder=3)
    ax.axhline(summary['teacher']['mIoU'], color='tab:red', ls='--',
               label='teacher')
    if 'student' in summary['methods']:
        ax.axhline(summary['methods']['student']['mean'], color='0.3',
                   ls=':', label='student alone (mean)')
    ax.set_xticks(list(xs))
    ax.set_xticklabels([METHODS[m].lstrip('+ ') for m in methods],
                       rotation=30, ha='right', fontsize=8)
    top = max([summary['teacher']['mIoU'], *(max(v) for v in seeds)])
    bottom = min(min(v) for v in seeds)
    ax.set_ylim(max(0.0, bottom - 5), top + 2)
    ax.set_ylabel('val mIoU (bar: mean; dots: seeds)')
    ax.set_title(textwrap.fill(title, 100), fontsize=8)
    ax.legend(fontsize=8, loc='lower right')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    # SIGTERM stops the running stage and keeps its time, as Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if args.estimate:
        print(estimate(args))
        return
    check_settings(args)
    bench = Benchmark(args)
    results = bench.run()
    report, summary = summarize(results, bench.timings(), args)
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(report)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    plot(summary, osp.join(args.work_dir, 'results.png'),
         report.split('\n')[2])
    print(report)
    example = f'{args.methods[-1]}_seed{args.seeds[0]}'
    print(f'[camvid] student checkpoints: {bench.dirs["checkpoints"]}; '
          f'score one on the test split with: python tools/test.py '
          f'{bench.test_config("student")} '
          f'{bench.checkpoint(example)} --data-root {args.data_root}')


if __name__ == '__main__':
    main()
