# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Per-class IoU of two or more runs side by side (the paper's Figures 7
and 8): a Markdown table on stdout (and ``--out-md``) and a bar chart PNG.

    python tools/analysis/per_class_iou.py student.json attnfd.json \
        --names student AttnFD --out-png per_class.png

Each file is a JSON dict with ``IoU.<class>`` keys, as written by
``tools/test.py --metrics-out`` with a ``PerClassIoUMetric`` evaluator, or
an mmengine ``scalars.json`` log (the last line with such keys is used).
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Optional

PREFIX = 'IoU.'


def read_per_class(path: str) -> Dict[str, float]:
    """``{class: IoU}`` and ``mIoU`` of one result file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Result file not found: {path!r}.')
    with open(path) as f:
        text = f.read()
    try:
        records = [json.loads(text)]
    except json.JSONDecodeError:  # JSON lines (mmengine scalars.json)
        records = [json.loads(line) for line in text.splitlines() if line]
    for record in reversed(records):
        keys = [k for k in record if k.split('/')[-1].startswith(PREFIX)]
        if keys:
            out = {
                k.split('/')[-1][len(PREFIX):]: float(record[k])
                for k in keys
            }
            miou = [v for k, v in record.items()
                    if k.split('/')[-1] == 'mIoU']
            if miou:
                out['mIoU'] = float(miou[0])
            return out
    raise ValueError(
        f'{path} has no per-class IoU (keys "IoU.<class>"). Evaluate with '
        "val_evaluator/test_evaluator type='PerClassIoUMetric' and "
        'tools/test.py --metrics-out FILE.')


def markdown_table(results: Dict[str, Dict[str, float]]) -> str:
    """Classes as rows, runs as columns, plus an mIoU row."""
    names = list(results)
    classes: List[str] = []
    for run in results.values():
        classes += [c for c in run if c != 'mIoU' and c not in classes]
    lines = ['| class | ' + ' | '.join(names) + ' |',
             '|---|' + '---|' * len(names)]
    for cls in classes + ['mIoU']:
        cells = [f'{results[n][cls]:.2f}' if cls in results[n] else ''
                 for n in names]
        lines.append(f'| {cls} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def bar_chart(results: Dict[str, Dict[str, float]], out_file: str,
              title: Optional[str] = None) -> None:
    """Grouped bars: one group per class, one bar per run."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(results)
    classes = [c for c in results[names[0]] if c != 'mIoU']
    x = np.arange(len(classes))
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(classes) * len(names)),
                                    4))
    for i, name in enumerate(names):
        ax.bar(x + i * width, [results[name].get(c, 0.) for c in classes],
               width, label=name)
    ax.set_xticks(x + 0.4 - width / 2)
    ax.set_xticklabels(classes, rotation=45, ha='right')
    ax.set_ylabel('IoU (%)')
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(
        description='Compare the per-class IoU of several runs.')
    parser.add_argument('results', nargs='+', help='result JSON files')
    parser.add_argument(
        '--names', nargs='+', help='column names (default: file names)')
    parser.add_argument('--out-png', help='bar chart PNG file')
    parser.add_argument('--out-md', help='also write the table here')
    parser.add_argument('--title', help='chart title')
    args = parser.parse_args()
    if len(args.results) < 2:
        parser.error('give two or more result files to compare')
    names = args.names or [
        osp.splitext(osp.basename(p))[0] for p in args.results
    ]
    if len(names) != len(args.results):
        parser.error(f'{len(names)} --names for {len(args.results)} files')
    results = {n: read_per_class(p) for n, p in zip(names, args.results)}
    table = markdown_table(results)
    print(table)
    if args.out_md:
        with open(args.out_md, 'w') as f:
            f.write(table + '\n')
    if args.out_png:
        bar_chart(results, args.out_png, args.title)
        print(f'chart -> {args.out_png}')


if __name__ == '__main__':
    main()
