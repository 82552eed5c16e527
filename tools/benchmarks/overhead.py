# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The cost of distillation: time per training iteration and peak memory.

    python tools/benchmarks/overhead.py [--sizes 180x240 512x512] \
        [--batch 2] [--reps 5] [--device cpu] [--out overhead.md]

On identical random inputs, each case runs in a fresh process (so that its
peak memory is its own): the DeepLabV3-R18 student's training step alone,
the DeepLabV3-R101 teacher's forward alone, the student's step with AttnFD
(B+E) and with CWD; and, for layer D, the same for DeepLabV3+ (student alone,
teacher forward, AttnFD B+E+D). The teacher forward is the one the AttnFD
step runs, ``FrozenTeacherDistill.teacher_forward`` (no grad, eval mode,
recorders on), in the AttnFD model. Models come from this repository's
CamVid / VOC configs with random weights (timing does not depend on them).
Prints a Markdown table with the median step time and the key ratio
``distill step / (student step + teacher forward)``. Peak memory is the
process's peak resident set on CPU (model, data and activations) and
``torch.cuda.max_memory_allocated`` on GPU.

``--teacher-modes`` repeats the cases that run a teacher with a cheaper
frozen-teacher path (``FrozenTeacherDistill``'s ``teacher_autocast`` and
``teacher_channels_last``): ``channels_last``, ``bf16`` (autocast) or
``bf16+channels_last``; ``fp32`` is the default path.
"""
import argparse
import multiprocessing as mp
import os.path as osp
import resource
import statistics
import time
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: case -> (config, what is timed: the training 'step' or the 'teacher'
#: forward of the distillation model)
CASES: Dict[str, Tuple[str, str]] = {
    'student (DeepLabV3-R18)': ('baselines/deeplabv3_r18_camvid.py', 'step'),
    'teacher forward (DeepLabV3-R101)': ('attnfd/deeplabv3_r101_r18_camvid.py',
                                         'teacher'),
    'student + AttnFD (B+E)': ('attnfd/deeplabv3_r101_r18_camvid.py', 'step'),
    'student + CWD': ('baselines/cwd_deeplabv3_r101_r18_camvid.py', 'step'),
    'student (DeepLabV3+-R18)': ('baselines/deeplabv3plus_r18_voc.py',
                                 'step'),
    'teacher forward (DeepLabV3+-R101)': (
        'attnfd/deeplabv3plus_r101_r18_voc.py', 'teacher'),
    'student + AttnFD (B+E+D)': ('attnfd/deeplabv3plus_r101_r18_voc.py',
                                 'step'),
}
#: ratio name -> (distilled case, student case, teacher case)
RATIOS = {
    'AttnFD (B+E)': ('student + AttnFD (B+E)', 'student (DeepLabV3-R18)',
                     'teacher forward (DeepLabV3-R101)'),
    'CWD': ('student + CWD', 'student (DeepLabV3-R18)',
            'teacher forward (DeepLabV3-R101)'),
    'AttnFD (B+E+D)': ('student + AttnFD (B+E+D)', 'student (DeepLabV3+-R18)',
                       'teacher forward (DeepLabV3+-R101)'),
}


def _build(config: str):
    """The model of ``config``, with downloads off and SyncBN as BN."""
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import MODELS, DefaultScope

    import attnfd_mm  # noqa: F401
    cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
    model = cfg.model
    if 'teacher_ckpt' in model:
        model.teacher_ckpt = None
        model.random_teacher = True
        model.teacher.pretrained = False
        model.architecture.pretrained = None
    else:
        model.pretrained = None
    with DefaultScope.overwrite_default_scope('mmseg'):
        return revert_sync_batchnorm(MODELS.build(model))


#: --teacher-modes: (autocast dtype name, channels-last)
TEACHER_MODES: Dict[str, Tuple[Optional[str], bool]] = {
    'fp32': (None, False),
    'channels_last': (None, True),
    'bf16': ('bfloat16', False),
    'bf16+channels_last': ('bfloat16', True),
}


def _measure(config: str, what: str, size: Tuple[int, int], batch: int,
             warmup: int, reps: int, device: str, queue,
             teacher_mode: str = 'fp32') -> None:
    """Child process: time ``reps`` iterations, report median and peak."""
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    torch.manual_seed(0)
    model = _build(config).to(device)
    student = getattr(model, 'student', model)
    num_classes = student.decode_head.num_classes
    inputs = torch.randn(batch, 3, *size, device=device)
    if hasattr(model, 'teacher_forward'):  # FrozenTeacherDistill
        autocast, channels_last = TEACHER_MODES[teacher_mode]
        model.teacher_autocast = autocast
        model.teacher_channels_last = channels_last
        if channels_last:
            model.teacher.to(memory_format=torch.channels_last)
    samples = []
    for _ in range(batch):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(
            0, num_classes, (1, *size), device=device))
        s.set_metainfo(dict(img_shape=size, ori_shape=size, pad_shape=size))
        samples.append(s)
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.SGD(params, lr=1e-3, momentum=0.9)
    model.train()  # a frozen teacher stays in eval mode

    def one() -> None:
        if what == 'teacher':
            model.teacher_forward(inputs, samples)
        else:
            losses = model.loss(inputs, samples)
            loss = sum(v for k, v in losses.items() if 'loss' in k)
            optim.zero_grad()
            loss.backward()
            optim.step()

    for _ in range(warmup):
        one()
    if device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        one()
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    peak = (torch.cuda.max_memory_allocated() / 2**20
            if device.startswith('cuda') else
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    queue.put((statistics.median(times), peak))


def measure(config: str, what: str, size, args,
            teacher_mode: str = 'fp32') -> Tuple[float, float]:
    """Run one case in a fresh process; (median seconds, peak MiB)."""
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    proc = ctx.Process(
        target=_measure,
        args=(config, what, size, args.batch, args.warmup, args.reps,
              args.device, queue, teacher_mode))
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f'{config} ({what}) failed: exit {proc.exitcode}')
    return queue.get()


def report(size, results: Dict[str, Tuple[float, float]],
           modes: Sequence[str] = ('fp32', )) -> List[str]:
    """Markdown lines for one input size."""
    lines = [f'\n### {size[0]}x{size[1]}\n',
             '| case | median s/iter | peak MiB |', '|---|---|---|']
    for name, (sec, peak) in results.items():
        lines.append(f'| {name} | {sec:.3f} | {peak:.0f} |')
    lines += ['', '| ratio | distill step / (student step + teacher forward) '
              '| distill step / student step |', '|---|---|---|']
    for mode in modes:
        for name, (dist, stu, tea) in RATIOS.items():
            dist, tea = _with_mode(dist, mode), _with_mode(tea, mode)
            if {dist, stu, tea} <= set(results):
                d, s, t = (results[k][0] for k in (dist, stu, tea))
                lines.append(f'| {_with_mode(name, mode)} | '
                             f'{d / (s + t):.3f} | {d / s:.2f} |')
    return lines


def _with_mode(case: str, mode: str) -> str:
    """The name of ``case`` run with teacher path ``mode``."""
    return case if mode == 'fp32' else f'{case} [{mode}]'


#: cases that run no teacher (the same for every teacher mode)
STUDENT_ONLY = ('student (DeepLabV3-R18)', 'student (DeepLabV3+-R18)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', nargs='+', default=['180x240', '512x512'],
                        help='input sizes HxW')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cases', nargs='+', choices=list(CASES),
                        default=list(CASES), metavar='CASE')
    parser.add_argument('--teacher-modes', nargs='+', default=['fp32'],
                        choices=list(TEACHER_MODES),
                        help='teacher paths to time the teacher cases with')
    parser.add_argument('--out', help='also write the tables here')
    args = parser.parse_args()
    lines = [f'batch {args.batch}, {args.reps} timed iterations after '
             f'{args.warmup} warm-up, device {args.device}']
    for text in args.sizes:
        size = tuple(int(v) for v in text.lower().split('x'))
        results = {}
        for mode in args.teacher_modes:
            for case in args.cases:
                config, what = CASES[case]
                if mode != 'fp32' and case in STUDENT_ONLY:
                    continue
                name = _with_mode(case, mode)
                results[name] = measure(config, what, size, args, mode)
                print(f'[overhead] {text} {name}: {results[name][0]:.3f} s, '
                      f'{results[name][1]:.0f} MiB', flush=True)
        lines += report(size, results, args.teacher_modes)
    print('\n'.join(lines))
    if args.out:
        with open(args.out, 'w') as f:
            f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
