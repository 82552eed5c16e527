# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The results of a comparison: Markdown, JSON and charts."""
import math
import statistics
import textwrap
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from attnfd_mm.apis import METHODS
from .plan import ALONE, SAME_TIME, references
from .statistics import paired_difference, spread


def format_value(value: Optional[float], spec: str = '.2f',
                 suffix: str = '') -> str:
    """``value`` formatted, ``'-'`` if it is None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '-'
    return format(value, spec) + suffix


def markdown_table(head: Sequence[str],
                   rows: Sequence[Sequence[str]]) -> List[str]:
    """The lines of a Markdown table."""
    lines = ['| ' + ' | '.join(cells) + ' |' for cells in [head, *rows]]
    return [lines[0], '|---' * len(head) + '|', *lines[1:]]


@contextmanager
def saved_figure(path: str, size: Tuple[float, float]) -> Iterator:
    """A matplotlib axes; its figure is saved at ``path`` after the block
    (no pyplot: the process's backend and figures are left alone)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=size)
    yield fig.subplots()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def summarize_arms(arms: Dict[str, Dict[str, Dict]],
                   label: Callable[[str], str]) -> Dict[str, Dict]:
    """Per arm that ran: its seeds' figures, their means and spread."""
    out = {}
    for method, by_seed in arms.items():
        if not by_seed:
            continue
        runs = list(by_seed.values())
        steps, walls, peaks = ([r[k] for r in runs if r.get(k)] for k in (
            'step_s', 'wall_s', 'peak_memory_mib'))
        miou = {s: r['metrics']['mIoU'] for s, r in by_seed.items()}
        test = {s: r['test_metrics']['mIoU'] for s, r in by_seed.items()
                if r.get('test_metrics')}
        mean, std, spread_ = spread(miou.values())
        test_mean, test_std, _ = spread(test.values()) if test else [None] * 3
        out[method] = dict(
            label=label(method), mIoU=miou, mean=mean, std=std, spread=spread_,
            test_mIoU=test or None, test_mean=test_mean, test_std=test_std,
            iters={s: r['iters'] for s, r in by_seed.items()},
            step_s={s: r.get('step_s') for s, r in by_seed.items()},
            step_s_mean=statistics.fmean(steps) if steps else None,
            wall_s=sum(walls) if walls else None,
            peak_memory_mib=max(peaks, default=None),
            per_class={c[len('IoU.'):]: statistics.fmean(
                r['metrics'][c] for r in runs)
                for c in runs[0]['metrics'] if c.startswith('IoU.')})
    return out


def compare_arms(summary: Dict[str, Dict],
                 key: str = 'mIoU') -> Dict[str, Dict[str, Dict]]:
    """The :func:`paired_difference` of ``key`` (``'mIoU'``, ``'test_mIoU'``)
    of each arm but the student alone with each other reference that ran."""
    out: Dict[str, Dict[str, Dict]] = {}
    for method, got in summary.items():
        if method == ALONE or not got.get(key):
            continue
        for ref in references():
            if ref != method and summary.get(ref, {}).get(key):
                diff = paired_difference(got[key], summary[ref][key])
                if diff is not None:
                    out.setdefault(method, {})[ref] = diff
    return out


def _pair_table(pairs: Dict[str, Dict[str, Dict]],
                summary: Dict[str, Dict]) -> List[str]:
    rows = [[
        summary[method]['label'], summary[ref]['label'],
        ' / '.join(f'{d:+.2f}' for d in diff['diffs'].values()),
        f'{diff["mean"]:+.2f}', '-' if diff['ci95'] is None else
        '[{:+.2f}, {:+.2f}]'.format(*diff['ci95']),
        'yes' if diff['beats'] else 'no'
    ] for method, refs in pairs.items() for ref, diff in refs.items()]
    return markdown_table(['arm', 'minus', 'per seed', 'mean',
                           '95 % interval', 'beats'], rows)


def _split_table(summary: Dict[str, Dict], teacher: Optional[Dict],
                 teacher_label: str, split: str) -> List[str]:
    """Each arm's ``split`` (``'val'``, ``'test'``) mIoU, teacher first."""
    test = split == 'test'
    p = 'test_' if test else ''
    alone = summary.get(ALONE, {}).get(f'{p}mean')

    def vs_alone(value: float, method: Optional[str] = None) -> str:
        return format_value(None if alone is None or method == ALONE else
                            value - alone, '+.2f')

    head = ['arm', 'test mIoU per seed', 'test mean', 'test std'] if test \
        else ['arm', 'seeds', 'mIoU per seed', 'mean', 'std', 'spread']
    head += ['vs student alone']
    head += ['gap closed (val)', 'gap closed (test)'] if test else \
        ['iterations', 's / step', 'wall (min)', 'peak memory (MiB)']
    rows = []
    if teacher is not None:
        miou = f'{teacher["mIoU"]:.2f}'
        cells = [miou, miou, '-'] if test else ['-', miou, miou, '-', '-']
        rows.append([teacher_label, *cells, vs_alone(teacher['mIoU'])] +
                    ['-'] * (len(head) - len(cells) - 2))
    for method, got in summary.items():
        scores = got[f'{p}mIoU']
        if not scores:
            continue
        cells = [' / '.join(f'{v:.2f}' for v in scores.values()),
                 f'{got[p + "mean"]:.2f}', f'{got[p + "std"]:.2f}']
        if test:
            extra = [format_value(got['gap_closed'], '+.2f'),
                     format_value(got['test_gap_closed'], '+.2f')]
        else:
            cells = [' '.join(scores), *cells, f'{got["spread"]:.2f}']
            wall = got['wall_s'] and got['wall_s'] / 60
            extra = ['/'.join(map(str, sorted(set(got['iters'].values())))),
                     format_value(got['step_s_mean'], '.3f'),
                     format_value(wall, '.1f'),
                     format_value(got['peak_memory_mib'], '.0f')]
        rows.append([got['label'], *cells,
                     vs_alone(got[f'{p}mean'], method), *extra])
    return markdown_table(head, rows)


def report(results: Dict, label: Callable[[str], str],
           preamble: Sequence[str] = (),
           timings: Optional[Dict[str, float]] = None,
           teacher_label: str = 'teacher', title: str = 'Comparison',
           same_time_as: Optional[str] = None) -> Tuple[str, Dict]:
    """The Markdown and JSON report of :meth:`Comparison.run`'s results;
    ``same_time_as``: the arm the same-time arm matched (None: the slowest)."""
    teacher, teacher_test = results.get('teacher'), results.get('teacher_test')
    summary = summarize_arms(results['arms'], label)
    pairs = compare_arms(summary)
    test_pairs = compare_arms(summary, 'test_mIoU')
    for p, top in (('', teacher), ('test_', teacher_test)):
        # the share of the teacher-student gap each arm closes
        alone = summary.get(ALONE, {}).get(f'{p}mean')
        top = top and top['mIoU']
        for got in summary.values():
            mean = got[f'{p}mean']
            got[f'{p}gap_closed'] = None if None in (mean, alone, top) or \
                top <= alone else (mean - alone) / (top - alone)
    lines = [f'# {title}', '', *preamble, '',
             *_split_table(summary, teacher, teacher_label, 'val')]
    if any(got['test_mIoU'] for got in summary.values()):
        lines += ['', 'Test split (scored once per finished arm; nothing was '
                  'chosen on it). Gap closed: (arm - student alone) / (teacher'
                  ' - student alone), of the means.', '',
                  *_split_table(summary, teacher_test, teacher_label, 'test')]
    if pairs:
        lines += ['', 'Paired differences in val mIoU (arm minus reference, '
                  'seed by seed), their mean and 95 % interval (paired t over '
                  'seeds); "beats": above the reference on the mean and on '
                  'every seed.', '', *_pair_table(pairs, summary)]
    if test_pairs:
        lines += ['', 'The same on the test split:', '',
                  *_pair_table(test_pairs, summary)]
    if SAME_TIME in summary:
        matched = (f'{summary[same_time_as]["label"]}\'s'
                   if same_time_as in summary else
                   'the slowest distillation arm\'s')
        iters = ', '.join(f'{seed}: {n}' for seed, n in
                          summary[SAME_TIME]['iters'].items())
        lines += ['', 'The same-time arm trains the student alone for as '
                  f'many iterations as {matched} compute buys: iterations x '
                  'its median seconds per step / the student\'s, both '
                  f'measured in this comparison (seed {iters} iterations).']
    lines += ['', 'Seconds per step: the median over the steps of each arm\'s'
              ' own training run (data loading included, the first step left'
              ' out), mean over seeds. Peak memory: the training process\'s '
              'peak resident set on CPU, `torch.cuda.max_memory_allocated` '
              'on GPU.', '', '![mIoU per arm](results.png)']
    columns = [(got['label'], got['per_class']) for got in summary.values()]
    classes = list(columns[0][1]) if columns else []
    if classes:
        if teacher is not None:
            columns.insert(0, (teacher_label, {c: teacher.get(f'IoU.{c}')
                                               for c in classes}))
        lines += ['', 'Per-class IoU (mean over seeds):', '', *markdown_table(
            ['class', *(name for name, _ in columns)],
            [[c, *(format_value(ious[c]) for _, ious in columns)]
             for c in classes])]
    if timings:
        lines += ['', 'Wall time per stage (training + scoring, minutes): ' +
                  ', '.join(f'{k} {v / 60:.1f}' for k, v in timings.items())
                  + f'; total {sum(timings.values()) / 60:.1f}.']
    data = dict(teacher=teacher, arms=summary, comparisons=pairs,
                timings_s=timings or {})
    if teacher_test is not None or test_pairs:
        data.update(teacher_test=teacher_test, comparisons_test=test_pairs)
    return '\n'.join(lines) + '\n', data


def plot(data: Dict, path: str, title: str) -> None:
    """Draw each arm's mean val mIoU (blue: feature distillation), its seeds
    and their range at ``path``; the teacher and the student alone as lines."""
    arms: Dict[str, Dict] = data['arms']
    means = [got['mean'] for got in arms.values()]
    seeds = [list(got['mIoU'].values()) for got in arms.values()]
    xs = range(len(arms))
    with saved_figure(path, (1.1 * len(arms) + 3, 4.5)) as ax:
        ax.bar(xs, means, color=[
            'tab:blue' if m in METHODS and METHODS[m].feature_layers else
            '0.6' for m in arms])
        ax.errorbar(xs, means, yerr=[
            [mean - min(v) for mean, v in zip(means, seeds)],
            [max(v) - mean for mean, v in zip(means, seeds)]
        ], fmt='none', ecolor='black', capsize=4)
        for x, values in zip(xs, seeds):
            ax.scatter([x] * len(values), values, color='black', s=12,
                       zorder=3)
        tops = [max(v) for v in seeds]
        if data.get('teacher'):
            ax.axhline(data['teacher']['mIoU'], color='tab:red', ls='--',
                       label='teacher')
            tops.append(data['teacher']['mIoU'])
        if ALONE in arms:
            ax.axhline(arms[ALONE]['mean'], color='0.3', ls=':',
                       label='student alone (mean)')
        ax.set_xticks(list(xs), [got['label'] for got in arms.values()],
                      rotation=30, ha='right', fontsize=8)
        ax.set_ylim(max(0.0, min(min(v) for v in seeds) - 5), max(tops) + 2)
        ax.set_ylabel('val mIoU (bar: mean; dots: seeds)')
        ax.set_title(textwrap.fill(title, 100), fontsize=8)
        ax.legend(fontsize=8, loc='lower right')
