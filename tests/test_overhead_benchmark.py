# Copyright (c) attnfd-mm contributors. All rights reserved.
"""tools/benchmarks/overhead.py runs its cases and reports the ratio."""
import os.path as osp
import re

import pytest
from conftest import run_tool

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.mark.slow
def test_overhead_table_and_ratio(tmp_path):
    out_md = str(tmp_path / 'overhead.md')
    out = run_tool([
        'tools/benchmarks/overhead.py', '--sizes', '32x32', '--reps', '1',
        '--warmup', '0', '--cases', 'student (DeepLabV3-R18)',
        'teacher forward (DeepLabV3-R101)', 'student + AttnFD (B+E)',
        '--teacher-modes', 'fp32', 'channels_last', '--out', out_md
    ], cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    table = open(out_md).read()
    rows = {
        m.group(1): (float(m.group(2)), float(m.group(3)))
        for m in re.finditer(r'^\| ([^|]+) \| ([\d.]+) \| (\d+) \|$', table,
                             re.M)
    }
    assert set(rows) == {'student (DeepLabV3-R18)',
                         'teacher forward (DeepLabV3-R101)',
                         'student + AttnFD (B+E)',
                         'teacher forward (DeepLabV3-R101) [channels_last]',
                         'student + AttnFD (B+E) [channels_last]'}
    assert all(sec > 0 and peak > 0 for sec, peak in rows.values())
    ratio = re.search(r'^\| AttnFD \(B\+E\) \| ([\d.]+) \| ([\d.]+) \|$',
                      table, re.M)
    assert re.search(r'^\| AttnFD \(B\+E\) \[channels_last\] \| [\d.]+ \|',
                     table, re.M), table
    assert ratio, table
    s, t, d = (rows[k][0] for k in ('student (DeepLabV3-R18)',
                                    'teacher forward (DeepLabV3-R101)',
                                    'student + AttnFD (B+E)'))
    # the printed times are rounded to 1 ms
    assert float(ratio.group(1)) == pytest.approx(d / (s + t), rel=0.05)
