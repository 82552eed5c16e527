# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The cost of distillation: time per training iteration and peak memory.

    python tools/benchmarks/overhead.py [--sizes 180x240 512x512] \
        [--batch 2] [--reps 20] [--device cpu] [--out FILE] \
        [--profile [--profile-iters 3]]

On identical random inputs: the DeepLabV3-R18 student's training step
alone, the DeepLabV3-R101 teacher's forward alone, the student's step with
AttnFD (B+E) and with CWD; and, for layer D, the same for DeepLabV3+
(student alone, teacher forward, AttnFD B+E+D). The teacher forward is the
one the AttnFD step runs, ``FrozenTeacherDistill.teacher_forward`` (no grad,
eval mode, recorders on), in the AttnFD model. Models come from this
repository's CamVid / VOC configs with random weights (timing does not depend
on them).

Prints a Markdown table with the median step time and the peak memory of
each case, then the ratios: ``distill step / (student step + teacher
forward)`` and, for AttnFD (B+E), its peak memory and step time over CWD's
(the same student step and teacher forward, a logits loss instead).

Times: one process builds every case's model, runs ``--warmup`` iterations
of each, then ``--reps`` rounds of one timed iteration of each case (in an
order shuffled each round). A time ratio is taken within each round and the
table gives its median over the rounds, with its quartiles: a slow spell of
the machine then falls on both sides of the ratio (the same case timed in
separate processes varied by up to 17 %; the slowest iteration of a case
took up to 1.9x its fastest). With 20 rounds, two runs agreed within 0.036
on each ratio at 512x512 on 2 CPU cores; 10 rounds with ratios of the
per-case medians differed by 0.06 (docs/benchmarks.md).

Peak memory: one fresh process per case, ``--warmup`` + 1 iterations. On GPU
it is ``torch.cuda.max_memory_allocated``. On CPU it is the process's peak
resident set with glibc's ``MALLOC_MMAP_THRESHOLD_`` fixed at 256 KiB:
freed tensors then go back to the system at once and the peak follows the
tensors alive (model, data, activations), as on GPU, instead of how the
heap happened to fragment (which moved the default-allocator peak by +-80
MiB between runs). Times use the default allocator.

``--profile`` times nothing: it runs ``torch.profiler`` over
``--profile-iters`` iterations of each case, each in its own process, and
prints each case's ops by self time and, for AttnFD (B+E) against CWD, the
ops whose self time differs most: where the extra time of the AttnFD step
goes.

``--teacher-modes`` repeats the cases that run a teacher with a cheaper
frozen-teacher path (``FrozenTeacherDistill``'s ``teacher_autocast`` and
``teacher_channels_last``): ``channels_last``, ``bf16`` (autocast) or
``bf16+channels_last``; ``fp32`` is the default path.
"""
import argparse
import multiprocessing as mp
import os
import os.path as osp
import random
import resource
import statistics
import time
from typing import (Callable, Dict, List, NamedTuple, Optional, Sequence,
                    Tuple)

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
#: ratio name -> the CWD case it is compared with (the same student and
#: teacher)
VERSUS_CWD = {'AttnFD (B+E)': 'student + CWD'}
#: glibc's mmap threshold in the CPU memory process (bytes)
MMAP_THRESHOLD = 256 * 1024
#: a case to measure: (name, config, what is timed, teacher mode)
Case = Tuple[str, str, str, str]


class Measured(NamedTuple):
    """One case: the seconds of its timed iteration in each round (in round
    order) and its peak memory in MiB."""
    seconds: List[float]
    peak: float

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


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


def _iteration(config: str, what: str, size: Tuple[int, int], batch: int,
               device: str, teacher_mode: str = 'fp32') -> Callable[[], None]:
    """Build one case's model and inputs; return one of its iterations (a
    training step, or the teacher forward)."""
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
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    return one


def _times_child(cases: Sequence[Case], size: Tuple[int, int], batch: int,
                 warmup: int, reps: int, device: str, queue) -> None:
    """Child process: every case's model, ``warmup`` iterations of each,
    then ``reps`` rounds of one timed iteration of each case, in an order
    shuffled each round."""
    steps = {
        name: _iteration(config, what, size, batch, device, mode)
        for name, config, what, mode in cases
    }
    for one in steps.values():
        for _ in range(warmup):
            one()
    times: Dict[str, List[float]] = {name: [] for name in steps}
    order = list(steps)
    shuffle = random.Random(0).shuffle
    for _ in range(reps):
        shuffle(order)  # no case always runs after the same one
        for name in order:
            start = time.perf_counter()
            steps[name]()
            times[name].append(time.perf_counter() - start)
    queue.put(times)


def _warm_iteration(case: Case, size: Tuple[int, int], batch: int,
                    warmup: int, device: str) -> Callable[[], None]:
    """One case's iteration, after ``warmup`` runs of it."""
    _, config, what, mode = case
    one = _iteration(config, what, size, batch, device, mode)
    for _ in range(warmup):
        one()
    return one


def _peak_child(case: Case, size: Tuple[int, int], batch: int, warmup: int,
                device: str, queue) -> None:
    """Child process: the peak memory (MiB) of one case alone over
    ``warmup`` + 1 iterations."""
    import torch
    one = _warm_iteration(case, size, batch, warmup, device)
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    one()
    queue.put(torch.cuda.max_memory_allocated() / 2**20
              if device.startswith('cuda') else
              resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _profile_child(case: Case, size: Tuple[int, int], batch: int,
                   warmup: int, iters: int, device: str, queue) -> None:
    """Child process: ``torch.profiler`` over ``iters`` iterations of one
    case after ``warmup``; each op's self time (ms per iteration, on the
    GPU for CUDA) and calls per iteration."""
    from torch.profiler import ProfilerActivity, profile
    one = _warm_iteration(case, size, batch, warmup, device)
    cuda = device.startswith('cuda')
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA]
                                           if cuda else [])
    with profile(activities=activities) as prof:
        for _ in range(iters):
            one()
    ops = {}
    for event in prof.key_averages():
        us = (getattr(event, 'self_device_time_total', None) or getattr(
            event, 'self_cuda_time_total', 0)) if cuda else \
            event.self_cpu_time_total
        if us:
            ops[event.key] = (us / 1000 / iters, event.count / iters)
    queue.put(ops)


#: an op's self time and calls per iteration: {op: (ms, calls)}
OpTimes = Dict[str, Tuple[float, float]]


def profile_difference(name: str, other: str, ops: OpTimes,
                       other_ops: OpTimes, top: int = 12) -> List[str]:
    """Markdown lines: the ops whose self time per iteration differs most
    between case ``name`` and case ``other``, largest first, and the totals
    of all ops."""
    lines = [f'\n#### {name} against {other}: self time per iteration\n',
             f'| op | {name} ms (calls) | {other} ms (calls) '
             '| difference ms |',
             '|---|---|---|---|']
    keys = sorted(set(ops) | set(other_ops),
                  key=lambda k: ops.get(k, (0, 0))[0] -
                  other_ops.get(k, (0, 0))[0], reverse=True)
    for key in keys[:top]:
        (ms, calls), (oms, ocalls) = (ops.get(key, (0.0, 0)),
                                      other_ops.get(key, (0.0, 0)))
        lines.append(f'| {key} | {ms:.1f} ({calls:g}) | {oms:.1f} '
                     f'({ocalls:g}) | {ms - oms:+.1f} |')
    total, other_total = (sum(ms for ms, _ in o.values())
                          for o in (ops, other_ops))
    lines.append(f'| all ops | {total:.1f} | {other_total:.1f} | '
                 f'{total - other_total:+.1f} |')
    return lines


def profile_all(cases: Sequence[Case], size: Tuple[int, int],
                args) -> List[str]:
    """``--profile``: each case profiled in its own process; for AttnFD
    (B+E) and CWD, where their step times differ, op by op."""
    ops = {
        case[0]: _spawn(_profile_child, (case, size, args.batch, args.warmup,
                                         args.profile_iters, args.device))
        for case in cases
    }
    lines = [f'\n### {size[0]}x{size[1]}: profile']
    for name, cwd in VERSUS_CWD.items():
        for mode in args.teacher_modes:
            pair = _with_mode(RATIOS[name][0], mode), _with_mode(cwd, mode)
            if set(pair) <= set(ops):
                lines += profile_difference(*pair, ops[pair[0]],
                                            ops[pair[1]], args.profile_top)
    for name, case_ops in ops.items():
        lines += [f'\n#### {name}: the most expensive ops\n',
                  '| op | self ms / iteration | calls |', '|---|---|---|']
        for key, (ms, calls) in sorted(case_ops.items(),
                                       key=lambda kv: -kv[1][0])[
                                           :args.profile_top]:
            lines.append(f'| {key} | {ms:.1f} | {calls:g} |')
    return lines


def _spawn(target: Callable, args: Tuple,
           env: Optional[Dict[str, str]] = None):
    """Run ``target(*args, queue)`` in a fresh process (with ``env`` added
    to its environment); what it put on the queue."""
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    saved = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        proc.start()  # the child reads its environment when it starts
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key)
            else:
                os.environ[key] = value
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f'{target.__name__}{args[:1]} failed: exit '
                           f'{proc.exitcode}')
    return queue.get()


def measure_all(cases: Sequence[Case], size: Tuple[int, int],
                args) -> Dict[str, Measured]:
    """The seconds of each round and the peak MiB of each ``(name, config,
    what, teacher mode)``. Times: one process runs every case's model, one
    iteration of each in a shuffled order, ``--reps`` times, so that the
    machine's slow spells fall on every case alike. Peaks: one fresh process
    per case; on CPU with glibc's mmap threshold fixed (see the module
    docstring)."""
    times = _spawn(_times_child, (list(cases), size, args.batch, args.warmup,
                                  args.reps, args.device))
    env = (None if args.device.startswith('cuda') else
           dict(MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD)))
    results = {}
    for case in cases:
        seconds = times[case[0]]
        peak = _spawn(_peak_child,
                      (case, size, args.batch, args.warmup, args.device), env)
        results[case[0]] = measured = Measured(seconds, peak)
        print(f'[overhead] {size[0]}x{size[1]} {case[0]}: median '
              f'{measured.median:.3f} s (min {min(seconds):.3f}, '
              f'max {max(seconds):.3f}), {peak:.0f} MiB', flush=True)
    return results


def round_ratio(results: Dict[str, Measured], numerator: str,
                denominators: Sequence[str]) -> Tuple[float, float, float]:
    """The time of ``numerator`` over the summed time of ``denominators`` in
    the same round: (median, lower quartile, upper quartile) over the rounds.
    Paired by round, a slow spell of the machine cancels out of the ratio."""
    per_round = [
        num / sum(den) for num, *den in zip(
            results[numerator].seconds,
            *(results[name].seconds for name in denominators))
    ]
    if len(per_round) < 2:
        return per_round[0], per_round[0], per_round[0]
    low, median, high = statistics.quantiles(per_round, n=4,
                                             method='inclusive')
    return median, low, high


def _ratio_cell(ratio: Tuple[float, float, float]) -> str:
    median, low, high = ratio
    return f'{median:.3f} ({low:.2f}-{high:.2f})'


def report(size, results: Dict[str, Measured],
           modes: Sequence[str] = ('fp32', )) -> List[str]:
    """Markdown lines for one input size: each case's median time and peak,
    then the ratios (times paired by round, with their quartiles)."""
    lines = [f'\n### {size[0]}x{size[1]}\n',
             '| case | median s/iter | peak MiB |', '|---|---|---|']
    for name, measured in results.items():
        lines.append(f'| {name} | {measured.median:.3f} | '
                     f'{measured.peak:.0f} |')
    lines += ['', '| ratio | step / (student step + teacher forward) '
              '| peak memory / CWD\'s | step / CWD\'s |', '|---|---|---|---|']
    for mode in modes:
        for name, (dist, stu, tea) in RATIOS.items():
            dist, tea = _with_mode(dist, mode), _with_mode(tea, mode)
            if dist not in results:
                continue
            cells = ['-'] * 3
            if {stu, tea} <= set(results):
                cells[0] = _ratio_cell(round_ratio(results, dist, (stu, tea)))
            cwd = _with_mode(VERSUS_CWD.get(name, ''), mode)
            if cwd in results:
                cells[1:] = [
                    f'{results[dist].peak / results[cwd].peak:.3f}',
                    _ratio_cell(round_ratio(results, dist, (cwd, )))
                ]
            if cells != ['-'] * 3:
                lines.append(f'| {_with_mode(name, mode)} | ' +
                             ' | '.join(cells) + ' |')
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
    parser.add_argument('--reps', type=int, default=20,
                        help='rounds of one timed iteration of each case')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cases', nargs='+', choices=list(CASES),
                        default=list(CASES), metavar='CASE')
    parser.add_argument('--teacher-modes', nargs='+', default=['fp32'],
                        choices=list(TEACHER_MODES),
                        help='teacher paths to time the teacher cases with')
    parser.add_argument('--profile', action='store_true',
                        help='instead of timing: torch.profiler over '
                        '--profile-iters iterations of each case in its own '
                        'process; the ops by self time, and AttnFD against '
                        'CWD op by op')
    parser.add_argument('--profile-iters', type=int, default=3)
    parser.add_argument('--profile-top', type=int, default=12,
                        help='ops per profile table')
    parser.add_argument('--out', help='also write the tables here')
    args = parser.parse_args()
    if args.profile:
        lines = [f'batch {args.batch}, torch.profiler over '
                 f'{args.profile_iters} iterations of each case after '
                 f'{args.warmup} warm-up, device {args.device}; self time '
                 f'of each op, ms per iteration']
    else:
        lines = [f'batch {args.batch}, {args.reps} rounds of one timed '
                 f'iteration of each case, after {args.warmup} warm-up, '
                 f'device {args.device}; time ratios: the median (quartiles) '
                 f'over the rounds of the ratio within each round']
        if not args.device.startswith('cuda'):
            lines[0] += ('; peak memory from a process with '
                         f'MALLOC_MMAP_THRESHOLD_={MMAP_THRESHOLD}')
    for text in args.sizes:
        size = tuple(int(v) for v in text.lower().split('x'))
        cases = [(_with_mode(case, mode), *CASES[case], mode)
                 for mode in args.teacher_modes for case in args.cases
                 if mode == 'fp32' or case not in STUDENT_ONLY]
        if args.profile:
            lines += profile_all(cases, size, args)
        else:
            lines += report(size, measure_all(cases, size, args),
                            args.teacher_modes)
    print('\n'.join(lines))
    if args.out:
        with open(args.out, 'w') as f:
            f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
