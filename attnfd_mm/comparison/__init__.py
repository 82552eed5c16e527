# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Distillation methods compared on a user's own teacher, student and data
(``tools/compare.py``, ``tools/benchmarks/camvid.py``)."""
from .comparison import Comparison, bound_settings_changes
from .plan import ALONE, ARMS, SAME_TIME, Arm, ComparisonError, Plan
from .report import compare_arms, plot, report, summarize_arms, write_results
from .runner import StageRunner, median_step
from .schedule import ScheduleError, shorten_schedule
from .statistics import (PairedDifference, Spread, beats, paired_difference,
                         same_time_iters, spread, t_quantile_975)

__all__ = [
    'Comparison', 'bound_settings_changes', 'ALONE', 'ARMS', 'SAME_TIME',
    'Arm', 'ComparisonError', 'Plan', 'compare_arms', 'plot', 'report',
    'summarize_arms', 'write_results', 'StageRunner', 'median_step',
    'ScheduleError', 'shorten_schedule', 'PairedDifference', 'Spread',
    'beats', 'paired_difference', 'same_time_iters', 'spread',
    't_quantile_975'
]
