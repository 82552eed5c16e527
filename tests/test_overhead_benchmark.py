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
        r'^\| AttnFD \(B\+E\) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| '
        r'([\d.]+) \|$', table, re.M)
    assert ratio, table
    s, t, d, c = (rows[k][0] for k in ('student (DeepLabV3-R18)',
                                       'teacher forward (DeepLabV3-R101)',
                                       'student + AttnFD (B+E)',
                                       'student + CWD'))
    # the printed times are rounded to 1 ms, the memory to 1 MiB
    assert float(ratio.group(1)) == pytest.approx(d / (s + t), rel=0.05)
    assert float(ratio.group(4)) == pytest.approx(d / c, rel=0.05)
    peak_ratio = (rows['student + AttnFD (B+E)'][1] /
                  rows['student + CWD'][1])
    assert float(ratio.group(3)) == pytest.approx(peak_ratio, rel=0.01)
    assert 'MALLOC_MMAP_THRESHOLD_=262144' in table.splitlines()[0]


def test_report_ratios_and_teacher_modes():
    """The ratio table from given figures: against (student + teacher),
    the student, and CWD; teacher modes get their own rows; a ratio whose
    cases were not run is '-'."""
    results = {
        'student (DeepLabV3-R18)': (2.0, 800),
        'teacher forward (DeepLabV3-R101)': (3.0, 1000),
        'student + AttnFD (B+E)': (5.5, 1320),
        'student + CWD': (5.0, 1200),
        'teacher forward (DeepLabV3-R101) [channels_last]': (2.0, 1000),
        'student + AttnFD (B+E) [channels_last]': (4.4, 1300),
    }
    lines = overhead.report((8, 8), results, ('fp32', 'channels_last'))
    table = '\n'.join(lines)
    assert '| AttnFD (B+E) | 1.100 | 2.75 | 1.100 | 1.100 |' in lines, table
    assert '| CWD | 1.000 | 2.50 | - | - |' in lines, table
    # channels-last: no CWD run in that mode
    assert '| AttnFD (B+E) [channels_last] | 1.100 | 2.20 | - | - |' in \
        lines, table
    assert not any(line.startswith('| AttnFD (B+E+D)') for line in lines)


def test_times_interleaved_and_memory_with_fixed_threshold(monkeypatch):
    """One process times every case (the median per case); each case's
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
    assert results == {'A': (2.0, 500.0), 'B': (10.0, 600.0)}
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
