# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Every CamVid figure README and the metafiles quote is the one the
benchmark's results file holds.

README's results tables each follow a link to the ``results.md`` they come
from (``docs/results/<run>/``); the ``results.json`` beside it is the
source. A row names its arm as ``(`arm`)``: rows with ``±`` give the arm's
val mIoU per seed, its val and test mean and standard deviation; rows with
``[`` a paired difference of AttnFD + KD on val and on test, each with its
95 % interval.
"""
import json
import os.path as osp
import re
from typing import Dict, Iterator, List, Tuple

import yaml

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RESULTS_LINK = re.compile(r'\((docs/results/[\w.-]+)/results\.md\)')
ARM = re.compile(r'\(`(\w+)`\)')
NUMBER = r'[+-]?\d+\.\d\d'
#: README's results tables: the strong-teacher runs at 360 and 1,080
#: iterations -> how many arms and AttnFD + KD pairs each table shows
README_RUNS = {'docs/results/camvid_strong_teacher': (6, 4),
               'docs/results/camvid_strong_teacher_3x': (5, 4)}
#: metafile metric -> results folder it is taken from
METRIC_RUNS = {
    'mIoU (ours, CPU protocol, strong teacher, 5 seeds)':
    'docs/results/camvid_strong_teacher',
    'mIoU (ours, CPU protocol, strong teacher, 3x schedule, 3 seeds)':
    'docs/results/camvid_strong_teacher_3x',
    'mIoU (ours, CPU protocol, weak teacher, 5 seeds)':
    'docs/results/camvid_cpu_5seeds',
    'mIoU (ours, CPU protocol, weak teacher, 3x schedule, 2 seeds)':
    'docs/results/camvid_cpu_3x',
}
#: config (name without .py) -> the benchmark arm measured for it
CONFIG_ARMS = {
    'deeplabv3_r18_camvid': 'student',
    'kd_deeplabv3_r101_r18_camvid': 'kd',
    'cwd_deeplabv3_r101_r18_camvid': 'cwd',
    'deeplabv3_r101_r18_camvid': 'attnfd',
    'loss_normalize_sample_w8_camvid': 'attnfd_sample_w8',
    'attnfd_kd_deeplabv3_r101_r18_camvid': 'attnfd_kd',
}


def _results(run: str) -> Dict:
    with open(osp.join(ROOT, run, 'results.json')) as f:
        return json.load(f)


def _readme_rows() -> Iterator[Tuple[str, str]]:
    """(results folder, table row) of each row of README's results tables
    that names an arm."""
    with open(osp.join(ROOT, 'README.md')) as f:
        text = f.read()
    section = text.split('\n## Results', 1)[1].split('\n## ', 1)[0]
    run = None
    for line in section.splitlines():
        link = RESULTS_LINK.search(line)
        if link:
            run = link.group(1)
        if line.startswith('|') and ARM.search(line):
            assert run is not None, f'a results row before any link: {line}'
            yield run, line


def _cells(row: str) -> List[str]:
    return [c.strip() for c in row.strip('|').split('|')]


def test_readme_tables_name_their_results_files():
    rows = list(_readme_rows())
    runs = {run for run, _ in rows}
    assert runs == set(README_RUNS), runs
    for run in runs | set(METRIC_RUNS.values()):
        for name in ('results.md', 'results.json', 'results.png'):
            assert osp.isfile(osp.join(ROOT, run, name)), (run, name)


def test_readme_arm_rows_are_the_results():
    checked = dict.fromkeys(README_RUNS, 0)
    for run, row in _readme_rows():
        if '±' not in row:
            continue
        arm = ARM.search(row).group(1)
        got = _results(run)['arms'][arm]
        seeds = [f'{v:.2f}' for v in got['mIoU'].values()]
        cells = _cells(row)
        assert ' / '.join(seeds) in cells, (row, seeds)
        assert f'{got["mean"]:.2f} ± {got["std"]:.2f}' in cells, (row, got)
        assert f'{got["test_mean"]:.2f} ± {got["test_std"]:.2f}' in cells, \
            (row, got)
        iters = sorted(set(got['iters'].values()))
        span = str(iters[0]) if len(iters) == 1 else \
            f'{iters[0]}-{iters[-1]}'
        assert span in cells, (row, iters)
        assert f'{got["step_s_mean"]:.2f}' in cells, (row, got['step_s_mean'])
        checked[run] += 1
    assert checked == {run: n[0] for run, n in README_RUNS.items()}


def test_readme_paired_differences_are_the_results():
    checked = dict.fromkeys(README_RUNS, 0)
    for run, row in _readme_rows():
        if '±' in row or not re.search(r'\[[+-]\d', row):
            continue
        ref = ARM.search(row).group(1)
        cells = _cells(row)
        results = _results(run)
        for split in ('comparisons', 'comparisons_test'):
            pair = results[split]['attnfd_kd'][ref]
            low, high = pair['ci95']
            assert f'{pair["mean"]:+.2f} [{low:+.2f}, {high:+.2f}]' in cells, \
                (split, row, pair)
        diffs = results['comparisons']['attnfd_kd'][ref]['diffs']
        assert ' / '.join(f'{d:+.2f}' for d in diffs.values()) in cells, row
        checked[run] += 1
    assert checked == {run: n[1] for run, n in README_RUNS.items()}


def test_readme_summary_figures_are_the_results():
    """The status box quotes the intervals of AttnFD + KD at 360
    iterations, each as ``mean [low, high] over <reference> (test: mean
    [low, high]`` on val, then on test."""
    with open(osp.join(ROOT, 'README.md')) as f:
        status = f.read().split('> **Status', 1)[1].split('\n\n', 1)[0]
    status = status.replace('\n> ', ' ')
    results = _results('docs/results/camvid_strong_teacher')
    labels = {'the student alone': 'student', 'KD': 'kd', 'CWD': 'cwd',
              'the same-compute student': 'student_same_time'}
    interval = rf'({NUMBER}) \[({NUMBER}), ({NUMBER})\]'
    quoted = re.findall(
        rf'{interval} over ({"|".join(labels)}) \(test: {interval}[);]',
        status)
    # every interval in the box is one of these
    assert 2 * len(quoted) == len(re.findall(r'\[[^]]*\d, [^]]*\]', status))
    assert {labels[q[3]] for q in quoted} == set(labels.values()), quoted
    for quote in quoted:
        ref = labels[quote[3]]
        for split, figures in (('comparisons', quote[:3]),
                               ('comparisons_test', quote[4:])):
            pair = results[split]['attnfd_kd'][ref]
            assert figures == (f'{pair["mean"]:+.2f}',
                               f'{pair["ci95"][0]:+.2f}',
                               f'{pair["ci95"][1]:+.2f}'), (split, ref)


def test_metafile_figures_are_the_results():
    """Each benchmark figure of a metafile is its arm's mean on the split
    its ``Dataset`` names (CamVid val or test)."""
    checked = 0
    for folder in ('attnfd', 'attnfd_kd', 'baselines', 'ablations'):
        with open(osp.join(ROOT, 'configs', folder, 'metafile.yaml')) as f:
            models = yaml.safe_load(f)['Models']
        for model in models:
            for result in model.get('Results', []):
                for metric, value in result['Metrics'].items():
                    if metric not in METRIC_RUNS:
                        continue
                    arm = CONFIG_ARMS[model['Name']]
                    key = 'test_mean' if result['Dataset'].startswith(
                        'CamVid test') else 'mean'
                    mean = _results(METRIC_RUNS[metric])['arms'][arm][key]
                    assert value == round(mean, 2), (model['Name'], metric)
                    checked += 1
    # strong teacher: 5 arms at 360 and 4 at 1,080 iterations, val and
    # test; weak teacher: 5 and 3, val
    assert checked == 2 * (5 + 4) + 5 + 3


def test_results_reports_name_the_same_time_reference():
    """A report's same-time sentence names the arm its results file says
    the same-time arm matched."""
    checked = 0
    for run in sorted(set(METRIC_RUNS.values()) | set(README_RUNS)):
        data = _results(run)
        if 'student_same_time' not in data['arms']:
            continue
        reference = data['settings'].get('same_time_as')
        matched = (f"{data['arms'][reference]['label']}'s" if reference
                   else "the slowest distillation arm's")
        with open(osp.join(ROOT, run, 'results.md')) as f:
            text = f.read()
        assert f'as many iterations as {matched} compute buys' in text, run
        checked += 1
    assert checked == 3


def test_readme_demo_table_is_what_the_demo_wrote():
    """README's demo table is the ``results.json`` that ``make demo``
    wrote, kept in ``docs/results/demo/``."""
    with open(osp.join(ROOT, 'README.md')) as f:
        section = f.read().split('\n## Demo\n', 1)[1].split('\n## ', 1)[0]
    assert '(docs/results/demo/results.json)' in section
    rows = [line for line in section.splitlines()
            if line.startswith('| ') and not line.startswith('| model')]
    figures = _results('docs/results/demo')
    assert rows == [f'| {name} | {miou:.2f} |'
                    for name, miou in figures.items()]
