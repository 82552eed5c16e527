# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Statistics of a comparison over seeds: spread, paired differences with a
95 % confidence interval and verdicts, and the same-time iteration count."""
import math
import statistics
from typing import Dict, Iterable, Mapping, Optional, Tuple

#: Two-sided 95 % quantiles of Student's t (0.975) by degrees of freedom,
#: from the standard table; above 30 the normal quantile is used.
T_975: Dict[int, float] = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365,
    8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160,
    14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
    20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060,
    26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042
}
Z_975 = 1.960


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError(f'degrees of freedom must be >= 1, got {df}.')
    return T_975.get(df, Z_975)


def spread(values: Iterable[float]) -> Tuple[float, float, float]:
    """Mean, sample standard deviation (0 for one value) and max - min."""
    values = list(values)
    return (statistics.fmean(values),
            statistics.stdev(values) if len(values) > 1 else 0.0,
            max(values) - min(values))


def paired_difference(a: Mapping[str, float],
                      b: Mapping[str, float]) -> Optional[Dict]:
    """``a - b`` of two arms' results by seed (``{seed: mIoU}``) over their
    common seeds: the ``diffs`` by seed, their ``mean`` and its 95 %
    interval ``ci95`` (paired t over seeds; None with one seed), and
    whether ``a`` ``beats`` ``b``: above it on the mean and on every seed
    ``a`` ran (one ``b`` did not run counts against ``a``). None when they
    share no seed."""
    diffs = {s: a[s] - b[s] for s in a if s in b}
    if not diffs:
        return None
    mean, ci95 = statistics.fmean(diffs.values()), None
    if len(diffs) > 1:
        half = t_quantile_975(len(diffs) - 1) * statistics.stdev(
            diffs.values()) / math.sqrt(len(diffs))
        ci95 = [mean - half, mean + half]
    beats = statistics.fmean(a.values()) > statistics.fmean(b.values()) \
        and all(s in b and v > b[s] for s, v in a.items())
    return dict(diffs=diffs, mean=mean, ci95=ci95, beats=beats)


def same_time_iters(iters: int, slow_step: float, student_step: float) -> int:
    """The iterations of the student alone that cost what ``iters``
    iterations of a distillation arm cost: ``iters x slow_step /
    student_step`` (median seconds per step of each), rounded."""
    if slow_step <= 0 or student_step <= 0:
        raise ValueError('seconds per step must be > 0, got '
                         f'{slow_step} and {student_step}.')
    return max(1, int(round(iters * slow_step / student_step)))
