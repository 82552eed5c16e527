# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Distillation methods compared on a user's own teacher, student and data
(``tools/compare.py``, ``tools/benchmarks/camvid.py``)."""
from .comparison import (ARMS, SAME_TIME, Comparison, ComparisonError,
                         check_methods, median_step, tools_dir,
                         write_results)
from .report import REFERENCES, compare_arms, plot, report, summarize_arms
from .schedule import ScheduleError, shorten_schedule
from .statistics import (PairedDifference, Spread, beats, paired_difference,
                         same_time_iters, spread, t_quantile_975)

__all__ = [
    'ARMS', 'SAME_TIME', 'Comparison', 'ComparisonError', 'check_methods',
    'median_step', 'tools_dir', 'write_results', 'REFERENCES',
    'compare_arms', 'plot', 'report', 'summarize_arms', 'ScheduleError',
    'shorten_schedule', 'PairedDifference', 'Spread', 'beats',
    'paired_difference', 'same_time_iters', 'spread', 't_quantile_975'
]
