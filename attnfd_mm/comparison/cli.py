# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The command line of a comparison, shared by its tools, and the files
of its results."""
import argparse
import os.path as osp
import signal
import sys
from typing import Callable, Dict, List, Optional, Sequence

import mmengine

from attnfd_mm.apis import METHODS
from .comparison import Comparison
from .cost_report import cost_section, plot_cost
from .plan import ARMS, SAME_TIME
from .report import plot, report


def comparison_parser(doc: str, methods: List[str], iters: int,
                      seeds: List[int]) -> argparse.ArgumentParser:
    """A tool's parser (``doc``: its docstring) with the shared flags."""
    parser = argparse.ArgumentParser(
        description=doc.split('\n')[0], epilog=doc.split('\n', 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--methods', nargs='+', default=methods, metavar='METHOD',
        help=f'arms to run, of {ARMS}; default: {" ".join(methods)}. ' +
        '; '.join(f'{m}: {r.description}' for m, r in METHODS.items()) +
        f'; {SAME_TIME}: the student alone for the same compute. Finished '
        'arms of a work dir are reused when methods are added')
    parser.add_argument('--iters', type=int, default=iters, help='training '
                        f'iterations of each arm (default {iters})')
    parser.add_argument('--seeds', type=int, nargs='+', default=seeds,
                        help=f'default: {" ".join(map(str, seeds))}')
    parser.add_argument('--same-time-as', metavar='METHOD',
                        help=f'the distillation arm whose compute {SAME_TIME}'
                        ' matches (default: the slowest of each seed)')
    parser.add_argument('--checkpoint-interval', type=int, default=100,
                        help='iterations between resumable checkpoints '
                        '(default 100)')
    parser.add_argument('--keep-train-checkpoints', action='store_true',
                        help='keep the resumable training checkpoints of '
                        'finished arms (distillation ones hold the student, '
                        'its connectors and the optimizer state; the frozen '
                        'teacher is left out)')
    parser.add_argument('--estimate', action='store_true',
                        help='only time a few training steps of each arm on '
                        'this machine and print the projected training time')
    return parser


def write_results(comparison: Comparison, results: Dict,
                  preamble: Sequence[str] = (),
                  teacher_label: str = 'teacher', title: str = 'Comparison',
                  extra: Optional[Dict] = None) -> str:
    """Write a :class:`Comparison`'s ``results.md``, ``results.json`` (with
    ``extra``'s items) and charts into its work dir; return the Markdown."""
    plan = comparison.plan
    text, data = report(results, plan.label, preamble,
                        comparison.runner.timings(), teacher_label, title,
                        same_time_as=plan.same_time_as)
    base = osp.join(comparison.work_dir, 'results')
    if results.get('cost'):
        lines, rows = cost_section(data, results['cost'], teacher_label)
        text += '\n'.join(lines) + '\n'
        data.update(cost=results['cost'], cost_rows=rows)
        plot_cost(data, rows, f'{base}_cost.png', teacher_label)
    data['settings'] = dict(comparison.settings(), methods=list(plan.methods),
                            seeds=list(plan.seeds))
    data.update(extra or {})
    mmengine.put_text(text, f'{base}.md')
    mmengine.dump(data, f'{base}.json', indent=2)
    plot(data, f'{base}.png', preamble[0] if preamble else 'Comparison')
    return text


def run_comparison(
    build: Callable[[], Comparison], prefix: str, estimate: bool = False,
    report: Callable[[Comparison], Dict] = lambda _: {}
) -> Optional[Comparison]:
    """Print the estimate of the comparison ``build`` makes, or bind, check,
    run it and write (``report``: :func:`write_results`' arguments) and print
    its results; return it. Errors before training exit naming them; SIGTERM
    stops the running stage as Ctrl-C does."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        comparison = build()
        if estimate:
            print(comparison.estimate())
            return None
        comparison.bind()
        comparison.check()
    except (FileNotFoundError, KeyError, RuntimeError, ValueError) as e:
        raise SystemExit(f'{prefix} {type(e).__name__}: {e}')
    results = comparison.run()
    print(write_results(comparison, results, **report(comparison)))
    return comparison
