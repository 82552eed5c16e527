# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Accuracy against cost in a comparison: each arm's mIoU beside what its
network costs (the student's, the same in every arm, measured once; the
teacher's), as a table and a chart of mIoU against CPU latency."""
from typing import Dict, List, Optional, Tuple

from .report import _figure, _fmt, _table

#: a point of the chart: (label, PyTorch CPU latency in ms, val mIoU)
Point = Tuple[str, Optional[float], float]


def _latency(cost: Dict, backend: str) -> Optional[float]:
    got = cost['latency_ms'].get(backend)
    return got['median_ms'] if got else None


def cost_rows(data: Dict, cost: Dict) -> List[Dict]:
    """One row per model of the comparison's report ``data`` (what
    :func:`~attnfd_mm.comparison.report` returns): the teacher, then each
    arm, with its val mIoU (mean over seeds), the share of the
    teacher-student gap it closes, its parameters, GFLOPs and CPU latency
    (milliseconds: PyTorch, onnxruntime) and its speed-up over the teacher
    (teacher latency / its own, PyTorch)."""
    teacher_ms = _latency(cost['teacher'], 'torch')
    rows, models = [], []
    if data.get('teacher'):
        models.append(('teacher', 'teacher', data['teacher']['mIoU'], None))
    models += [(m, 'student', got['mean'], got.get('gap_closed'))
               for m, got in data['arms'].items()]
    for arm, network, miou, gap in models:
        got = cost[network]
        ms = _latency(got, 'torch')
        rows.append(dict(
            arm=arm, network=network, mIoU=miou, gap_closed=gap,
            params=got['params'], gflops=got['gflops'], latency_ms=ms,
            latency_onnxruntime_ms=_latency(got, 'onnxruntime'),
            speedup=teacher_ms / ms if teacher_ms and ms else None))
    return rows


def cost_section(data: Dict, cost: Dict,
                 teacher_label: str = 'teacher') -> Tuple[List[str],
                                                          List[Dict]]:
    """The Markdown lines of the accuracy-against-cost table, and its rows
    (:func:`cost_rows`)."""
    rows = cost_rows(data, cost)
    h, w = cost['size']
    measured = [lat for name in ('teacher', 'student')
                for lat in cost[name]['latency_ms'].values() if lat]
    agreed = ('which agreed within 5 %' if all(
        lat['agreed'] for lat in measured) else 'which did NOT all agree '
        'within 5 % (a busy machine)')
    labels = {m: got['label'] for m, got in data['arms'].items()}
    labels['teacher'] = teacher_label
    lines = [
        '', f'Accuracy against cost: one {h}x{w} image on the CPU, CPU '
        f'threads: {cost["threads"]}. Every arm trains the same student '
        'network, so its cost was measured once; the teacher\'s once. '
        f'Latency: the median of the last two rounds of runs, {agreed}; '
        'speed-up: teacher latency / the '
        'arm\'s (PyTorch); gap closed: (arm - student alone) / (teacher - '
        'student alone), of the mean val mIoU.', '', *_table(
            ['model', 'val mIoU', 'gap closed', 'params (M)', 'GFLOPs',
             'CPU latency, PyTorch (ms)', 'CPU latency, onnxruntime (ms)',
             'speed-up'],
            [[labels[row['arm']], f'{row["mIoU"]:.2f}',
              _fmt(row['gap_closed'], '+.2f'), f'{row["params"] / 1e6:.2f}',
              _fmt(row['gflops'], '.1f'), _fmt(row['latency_ms'], '.1f'),
              _fmt(row['latency_onnxruntime_ms'], '.1f'),
              _fmt(row['speedup'], '.2f', 'x')] for row in rows]), '',
        '![mIoU against latency](results_cost.png)'
    ]
    return lines, rows


def plot_cost(data: Dict, rows: List[Dict], path: str,
              teacher_label: str = 'teacher') -> List[Point]:
    """Draw val mIoU (mean over seeds) against PyTorch CPU latency at
    ``path``: the teacher, the student alone and each method (at the
    student's latency); return the points drawn."""
    points: List[Point] = []
    with _figure(path, (6.5, 4.5)) as ax:
        for i, row in enumerate(rows):
            label = teacher_label if row['arm'] == 'teacher' else \
                data['arms'][row['arm']]['label']
            color = 'tab:red' if row['arm'] == 'teacher' else (
                '0.3' if row['arm'] == 'student' else f'C{i % 10}')
            ax.scatter([row['latency_ms']], [row['mIoU']], color=color, s=40,
                       zorder=3, label=label,
                       marker='s' if row['network'] == 'teacher' else 'o')
            points.append((label, row['latency_ms'], row['mIoU']))
        latencies = [p[1] for p in points if p[1] is not None]
        if latencies:
            ax.set_xlim(0, 1.1 * max(latencies))
        ax.set_xlabel('CPU latency, PyTorch (ms, one image)')
        ax.set_ylabel('val mIoU (mean over seeds)')
        ax.set_title('mIoU against latency: teacher, student alone, each '
                     'method', fontsize=9)
        ax.grid(True, which='both', alpha=0.3)
        ax.legend(fontsize=7, loc='best')
    return points
