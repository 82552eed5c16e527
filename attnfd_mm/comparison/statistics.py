# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Statistics of a comparison over seeds and the same-time iterations."""
import math
import statistics
from typing import Dict, Iterable, Mapping, Optional, Tuple

#: Two-sided 95 % quantiles of Student's t by degrees of freedom (1 to 30,
#: the standard table); above 30 the normal quantile ``Z_975``.
T_975: Dict[int, float] = dict(enumerate((
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042), 1))
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
    """``a - b`` (``{seed: mIoU}``) over their common seeds (None: none):
    the ``diffs``, their ``mean`` and its 95 % interval ``ci95`` (paired t;
    None with one seed), and whether ``a`` ``beats`` ``b`` on the mean and
    on every seed ``a`` ran."""
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
    """The student's iterations that cost what ``iters`` of a distillation
    arm cost: ``iters x slow_step / student_step``, rounded."""
    if slow_step <= 0 or student_step <= 0:
        raise ValueError('seconds per step must be > 0, got '
                         f'{slow_step} and {student_step}.')
    return max(1, int(round(iters * slow_step / student_step)))
