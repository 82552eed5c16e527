# Copyright (c) attnfd-mm contributors. All rights reserved.
"""tools/benchmarks/overhead.py runs its cases and reports the ratios."""
import os.path as osp
import re
import sys
from argparse import Namespace

import pytest
from conftest import run_tool

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'tools', 'benchmarks'))
import overhead  # noqa: E402


def _rows(table):
    return {
        m.group(1): (float(m.group(2)), float(m.group(3)))
        for m in re.finditer(r'^\| ([^|]+) \| ([\d.]+) \| (\d+) \|$', table,
                             re.M)
    }


@pytest.mark.slow
def test_overhead_table_and_ratios(tmp_path):
    out_md = str(tmp_path / 'overhead.md')
    out = run_tool([
        'tools/benchmarks/overhead.py', '--sizes', '32x32', '--reps', '1',
        '--warmup', '0', '--cases',
        'student (DeepLabV3-R18)', 'teacher forward (DeepLabV3-R101)',
        'student + AttnFD (B+E)', 'student + CWD', '--out', out_md
    ], cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    table = open(out_md).read()
    rows = _rows(table)
    assert set(rows) == {'student (DeepLabV3-R18)',
                         'teacher forward (DeepLabV3-R101)',
                         'student + AttnFD (B+E)', 'student + CWD'}
    assert all(sec > 0 and peak > 0 for sec, peak in rows.values())
    ratio = re.search(
        r'^\| AttnFD \(B\+E\) \| ([\d.]+) \(([\d.]+)-([\d.]+)\) \| '
        r'([\d.]+) \| ([\d.]+) \(([\d.]+)-([\d.]+)\) \|$', table, re.M)
    assert ratio, table
    s, t, d, c = (rows[k][0] for k in ('student (DeepLabV3-R18)',
                                       'teacher forward (DeepLabV3-R101)',
                                       'student + AttnFD (B+E)',
                                       'student + CWD'))
    # one round: the ratio of that round; the printed times are rounded to
    # 1 ms, the memory to 1 MiB
    assert float(ratio.group(1)) == pytest.approx(d / (s + t), rel=0.05)
    assert float(ratio.group(5)) == pytest.approx(d / c, rel=0.05)
    peak_ratio = (rows['student + AttnFD (B+E)'][1] /
                  rows['student + CWD'][1])
    assert float(ratio.group(4)) == pytest.approx(peak_ratio, rel=0.01)
    assert 'MALLOC_MMAP_THRESHOLD_=262144' in table.splitlines()[0]


@pytest.mark.slow
def test_overhead_profile_runs(tmp_path):
    """--profile runs torch.profiler on the real cases: op tables whose
    total is positive and in which only AttnFD runs CBAM's gates."""
    out_md = str(tmp_path / 'profile.md')
    out = run_tool([
        'tools/benchmarks/overhead.py', '--sizes', '32x32', '--warmup', '0',
        '--profile', '--profile-iters', '1', '--profile-top', '1000',
        '--cases', 'student + AttnFD (B+E)', 'student + CWD', '--out', out_md
    ], cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    text = open(out_md).read()
    total = re.search(r'^\| all ops \| ([\d.]+) \| ([\d.]+) \| ', text, re.M)
    assert total and float(total.group(1)) > 0 and float(total.group(2)) > 0
    # the CBAM gates' sigmoids, in the AttnFD step only
    assert re.search(r'^\| aten::sigmoid \| [\d.]+ \(\d+\) \| 0\.0 \(0\) \|',
                     text, re.M), text


def test_report_ratios_and_teacher_modes():
    """The ratio table from given figures: against (student + teacher) and
    CWD, times paired by round; teacher modes get their own rows; a ratio
    whose cases were not run is '-'."""
    M = overhead.Measured
    results = {
        'student (DeepLabV3-R18)': M([2.0, 2.0, 4.0], 800),
        'teacher forward (DeepLabV3-R101)': M([3.0, 3.0, 6.0], 1000),
        'student + AttnFD (B+E)': M([5.5, 6.0, 11.0], 1320),
        'student + CWD': M([5.0, 5.0, 10.0], 1200),
        'teacher forward (DeepLabV3-R101) [channels_last]': M([2.0] * 3,
                                                             1000),
        'student + AttnFD (B+E) [channels_last]': M([4.4, 4.4, 4.0], 1300),
    }
    lines = overhead.report((8, 8), results, ('fp32', 'channels_last'))
    table = '\n'.join(lines)
    # per round: 5.5/5 = 1.1, 6/5 = 1.2, 11/10 = 1.1 over both
    assert '| student + AttnFD (B+E) | 6.000 | 1320 |' in lines, table
    assert ('| AttnFD (B+E) | 1.100 (1.10-1.15) | 1.100 | '
            '1.100 (1.10-1.15) |') in lines, table
    assert '| CWD | 1.000 (1.00-1.00) | - | - |' in lines, table
    # channels-last: 4.4/4, 4.4/4, 4/6; no CWD run in that mode
    assert '| AttnFD (B+E) [channels_last] | 1.100 (0.88-1.10) | - | - |' \
        in lines, table
    assert not any(line.startswith('| AttnFD (B+E+D)') for line in lines)


def test_round_ratio_pairs_the_rounds():
    """Time ratios are taken within each round (a slow round slows both
    sides alike), then their median and quartiles over the rounds."""
    M = overhead.Measured
    results = {
        # the second and third rounds ran in a slow spell
        'a': M([1.0, 2.0, 2.0, 1.0, 1.0], 0),
        'b': M([1.1, 2.2, 2.2, 1.1, 1.1], 0),
    }
    assert overhead.round_ratio(results, 'b', ['a']) == pytest.approx(
        (1.1, 1.1, 1.1))
    # over the sum of two cases: ratios 0.7, 0.5, 0.9, 0.6, 0.8 by round;
    # the ratio of the per-case medians would be 1.6 / 2 = 0.8
    results['c'] = M([1.0, 2.0, 2.0, 1.0, 1.0], 0)
    results['d'] = M([1.4, 2.0, 3.6, 1.2, 1.6], 0)
    assert overhead.round_ratio(results, 'd', ['a', 'c']) == pytest.approx(
        (0.7, 0.6, 0.8))
    # one round: its ratio, as its own quartiles
    assert overhead.round_ratio({'a': M([2.0], 0), 'b': M([3.0], 0)}, 'b',
                                ['a']) == (1.5, 1.5, 1.5)


def test_times_interleaved_and_memory_with_fixed_threshold(monkeypatch):
    """One process times every case (its seconds kept per round); each case's
    peak comes from its own process, on CPU with MALLOC_MMAP_THRESHOLD_
    set, on GPU without."""
    calls = []

    def fake_spawn(target, args, env=None):
        calls.append((target.__name__, args, env))
        if target is overhead._times_child:
            return {'A': [3.0, 1.0, 2.0], 'B': [10.0, 10.0, 40.0]}
        return 500.0 if args[0][0] == 'A' else 600.0

    monkeypatch.setattr(overhead, '_spawn', fake_spawn)
    cases = [('A', 'a.py', 'step', 'fp32'), ('B', 'b.py', 'step', 'fp32')]
    args = Namespace(batch=2, warmup=1, reps=3, device='cpu')
    results = overhead.measure_all(cases, (8, 8), args)
    # each case's rounds, in round order, and its own peak
    assert results == {'A': ([3.0, 1.0, 2.0], 500.0),
                       'B': ([10.0, 10.0, 40.0], 600.0)}
    assert results['A'].median == 2.0 and results['B'].median == 10.0
    assert [name for name, *_ in calls] == [
        '_times_child', '_peak_child', '_peak_child']
    assert calls[0][1][0] == cases  # all cases in the timing process
    threshold = dict(MALLOC_MMAP_THRESHOLD_=str(overhead.MMAP_THRESHOLD))
    assert calls[0][2] is None
    assert [env for *_, env in calls[1:]] == [threshold] * 2
    calls.clear()
    args.device = 'cuda'
    overhead.measure_all(cases, (8, 8), args)
    assert all(env is None for *_, env in calls)


def test_profile_difference_orders_ops_by_extra_time():
    """AttnFD against CWD op by op: the largest extra self time first, ops
    that only one side ran count as 0 on the other, totals of all ops."""
    attnfd = {'conv': (150.0, 150), 'copy': (26.0, 220), 'chunked': (2.0, 2),
              'add': (3.0, 200)}
    cwd = {'conv': (130.0, 144), 'copy': (14.0, 136), 'add': (4.0, 174),
           'kl_div': (1.5, 1)}
    lines = overhead.profile_difference('A', 'C', attnfd, cwd, top=3)
    rows = [line for line in lines if line.startswith('| ') and
            not line.startswith('| op ')]
    assert rows == [
        '| conv | 150.0 (150) | 130.0 (144) | +20.0 |',
        '| copy | 26.0 (220) | 14.0 (136) | +12.0 |',
        '| chunked | 2.0 (2) | 0.0 (0) | +2.0 |',
        # 181 ms against 149.5 ms
        '| all ops | 181.0 | 149.5 | +31.5 |',
    ], '\n'.join(lines)


def test_profile_all_pairs_attnfd_with_cwd(monkeypatch):
    """--profile: one profiling process per case; the AttnFD/CWD difference
    table and each case's most expensive ops."""
    calls = []

    def fake_spawn(target, args, env=None):
        calls.append((target, args))
        return ({'conv': (10.0, 3), 'chunked': (1.0, 1)}
                if 'AttnFD' in args[0][0] else {'conv': (9.0, 3)})

    monkeypatch.setattr(overhead, '_spawn', fake_spawn)
    cases = [('student + AttnFD (B+E)', 'a.py', 'step', 'fp32'),
             ('student + CWD', 'c.py', 'step', 'fp32')]
    args = Namespace(batch=2, warmup=1, profile_iters=3, device='cpu',
                     teacher_modes=['fp32'], profile_top=5)
    text = '\n'.join(overhead.profile_all(cases, (8, 8), args))
    assert [target for target, _ in calls] == [overhead._profile_child] * 2
    assert [a[0] for _, a in calls] == cases
    assert all(a[4] == 3 for _, a in calls)  # --profile-iters iterations
    assert ('#### student + AttnFD (B+E) against student + CWD' in text), text
    assert '| conv | 10.0 (3) | 9.0 (3) | +1.0 |' in text, text
    assert '| all ops | 11.0 | 9.0 | +2.0 |' in text, text
    assert '#### student + CWD: the most expensive ops' in text, text
