# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The comparison report's accuracy against cost: what the student and its
teacher cost (``attnfd_mm.deploy.cost``) beside each arm's mIoU."""
from typing import Dict, List, Optional, Tuple

from .report import format_value, markdown_table, saved_figure


def cost_section(data: Dict, cost: Dict, teacher_label: str = 'teacher'
                 ) -> Tuple[List[str], List[Dict]]:
    """The report ``data``'s accuracy-against-cost Markdown lines and rows."""

    def latency(network: str, backend: str = 'torch') -> Optional[float]:
        got = cost[network]['latency_ms'].get(backend)
        return got['median_ms'] if got else None

    teacher_ms = latency('teacher')
    models = [('teacher', 'teacher', data['teacher']['mIoU'], None)] \
        if data.get('teacher') else []
    models += [(m, 'student', got['mean'], got.get('gap_closed'))
               for m, got in data['arms'].items()]
    rows = []
    for arm, net, miou, gap in models:
        ms = latency(net)
        rows.append(dict(
            arm=arm, network=net, mIoU=miou, gap_closed=gap,
            params=cost[net]['params'], gflops=cost[net]['gflops'],
            latency_ms=ms, latency_onnxruntime_ms=latency(net, 'onnxruntime'),
            speedup=teacher_ms / ms if teacher_ms and ms else None))
    h, w = cost['size']
    agreed = all(lat['agreed'] for name in ('teacher', 'student')
                 for lat in cost[name]['latency_ms'].values() if lat)
    labels = {**{m: got['label'] for m, got in data['arms'].items()},
              'teacher': teacher_label}
    lines = [
        '', f'Accuracy against cost: one {h}x{w} image on the CPU, CPU '
        f'threads: {cost["threads"]}. Every arm trains the same student '
        'network, so its cost was measured once; the teacher\'s once. '
        'Latency: the median of the last two rounds of runs, ' +
        ('which agreed within 5 %' if agreed else 'which did NOT all agree '
         'within 5 % (a busy machine)') + '; speed-up: teacher latency / '
        'the arm\'s (PyTorch); gap closed: (arm - student alone) / (teacher '
        '- student alone), of the mean val mIoU.', '', *markdown_table(
            ['model', 'val mIoU', 'gap closed', 'params (M)', 'GFLOPs',
             'CPU latency, PyTorch (ms)', 'CPU latency, onnxruntime (ms)',
             'speed-up'],
            [[labels[row['arm']], f'{row["mIoU"]:.2f}',
              format_value(row['gap_closed'], '+.2f'),
              f'{row["params"] / 1e6:.2f}',
              format_value(row['gflops'], '.1f'),
              format_value(row['latency_ms'], '.1f'),
              format_value(row['latency_onnxruntime_ms'], '.1f'),
              format_value(row['speedup'], '.2f', 'x')] for row in rows]), '',
        '![mIoU against latency](results_cost.png)'
    ]
    return lines, rows


def plot_cost(data: Dict, rows: List[Dict], path: str,
              teacher_label: str = 'teacher') -> List[Tuple]:
    """Draw val mIoU against PyTorch CPU latency at ``path`` for the rows of
    :func:`cost_section`; return the points ``(label, ms, mIoU)``."""
    points = []
    with saved_figure(path, (6.5, 4.5)) as ax:
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
