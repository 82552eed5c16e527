# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Distillation methods compared on a user's own teacher, student, data."""
from .cli import comparison_parser, run_comparison, write_results
from .comparison import Comparison, bind_settings
from .plan import ALONE, ARMS, SAME_TIME, Arm, ComparisonError, Plan
from .report import compare_arms, plot, report, summarize_arms
from .runner import StageRunner
from .schedule import ScheduleError, shorten_schedule
from .statistics import paired_difference, same_time_iters, t_quantile_975

__all__ = [
    'comparison_parser', 'run_comparison', 'Comparison', 'bind_settings',
    'ALONE', 'ARMS', 'SAME_TIME', 'Arm', 'ComparisonError', 'Plan',
    'compare_arms', 'plot', 'report', 'summarize_arms', 'write_results',
    'StageRunner', 'ScheduleError', 'shorten_schedule', 'paired_difference',
    'same_time_iters', 't_quantile_975'
]
