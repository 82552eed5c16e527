# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Latency of a call: the median of enough runs that two rounds agree."""
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional


@dataclass
class Latency:
    """Milliseconds of one call: the median over the ``runs`` of the last
    two rounds, the median of each round, whether those two agreed within
    ``tolerance`` (False: the round limit came first) and the untimed
    ``warmup`` runs before the first round."""
    median_ms: float
    runs: int
    round_medians_ms: List[float] = field(default_factory=list)
    agreed: bool = True
    tolerance: float = 0.05
    warmup: int = 0


def _seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure_latencies(fns: Dict[str, Callable[[], object]],
                      runs: int = 10,
                      warmup: int = 3,
                      tolerance: float = 0.05,
                      max_rounds: int = 6,
                      budget_s: Optional[float] = None) -> Dict[str, Latency]:
    """The :class:`Latency` of each of ``fns``, timed in interleaved rounds
    (a slow spell of the machine falls on all): ``warmup`` untimed calls of
    each, then rounds of ``runs`` timed calls of each until, for every one,
    the medians of its last two rounds differ by at most ``tolerance`` of
    the smaller, or ``max_rounds`` ran. With ``budget_s``, the rounds aim at
    that many seconds: fewer runs per round (at least 2) where the warm-up
    says two rounds would take longer; no round after it (two always run).
    """
    if runs < 1 or max_rounds < 2:
        raise ValueError('measure_latency needs runs >= 1 and max_rounds '
                         f'>= 2 (two rounds to agree); got runs={runs}, '
                         f'max_rounds={max_rounds}.')
    call_s = 0.0  # one call of each, as the last warm-up timed it
    for fn in fns.values():
        warm = [_seconds(fn) for _ in range(warmup)]
        call_s += warm[-1] if warm else 0.0
    if budget_s is not None and call_s > 0:
        runs = max(2, min(runs, int(budget_s / (2 * call_s))))
    rounds: Dict[str, List[List[float]]] = {name: [] for name in fns}
    begin = time.perf_counter()

    def agree(name: str) -> bool:
        if len(rounds[name]) < 2:
            return False
        last, prev = (statistics.median(r) for r in rounds[name][-1:-3:-1])
        return abs(last - prev) <= tolerance * min(last, prev)

    for done in range(1, max_rounds + 1):
        for name, fn in fns.items():
            rounds[name].append([_seconds(fn) * 1e3 for _ in range(runs)])
        if all(agree(name) for name in fns) or (
                budget_s is not None and done >= 2
                and time.perf_counter() - begin > budget_s):
            break
    return {
        name: Latency(
            median_ms=statistics.median(measured[-2] + measured[-1]),
            runs=2 * runs,
            round_medians_ms=[statistics.median(r) for r in measured],
            agreed=agree(name), tolerance=tolerance, warmup=warmup)
        for name, measured in rounds.items()
    }


def measure_latency(fn: Callable[[], object], **kwargs) -> Latency:
    """:func:`measure_latencies` of one call ``fn``."""
    return measure_latencies({'fn': fn}, **kwargs)['fn']
