# Copyright (c) attnfd-mm contributors. All rights reserved.
"""What a student costs against its teacher: parameters, FLOPs and CPU
latency (PyTorch, and onnxruntime when installed).

    python tools/analysis/cost.py STUDENT_CONFIG TEACHER_CONFIG \
        [--size HxW] [--runs 10] [--warmup 3] [--max-rounds 6] \
        [--budget SECONDS] \
        [--backends torch onnxruntime] \
        [--student-cfg-options KEY=VALUE ...] \
        [--teacher-cfg-options KEY=VALUE ...] [--out FILE.json]

Both models are built from their configs with random weights (the cost does
not depend on them) and measured on one image of ``--size`` (default: the
student config's test size) on the CPU, with this process's threads (set
``OMP_NUM_THREADS`` to choose). FLOPs: mmengine's complexity analysis (one
multiply-add = 1 FLOP) of the deployed graph (normalisation, forward,
logits resized to the input). Latency: after a warm-up, rounds of
``--runs`` runs of each model in turn until, for each, two consecutive
rounds' medians agree within 5 %; the median of those two rounds. Prints
a Markdown table; ``--out`` writes the JSON that ``tools/distill.py`` writes
as ``student_vs_teacher.json``.
``--student-cfg-options`` / ``--teacher-cfg-options`` override either config
(e.g. ``model.backbone.depth=34``).
"""
import argparse
from typing import List, Optional

from mmengine.config import DictAction

from attnfd_mm.apis import load_config
from attnfd_mm.compat import apply_entry_point_patches
from attnfd_mm.deploy import configs_cost, cost_table, write_cost
from attnfd_mm.deploy.cost import BACKENDS
from attnfd_mm.utils import parse_size


def main(argv: Optional[List[str]] = None) -> None:
    apply_entry_point_patches()
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    parser.add_argument('student', help='student config (file, mmseg::..., '
                        'attnfd_mm::...)')
    parser.add_argument('teacher', help='teacher config')
    parser.add_argument('--size', type=parse_size,
                        help='HxW (default: the student config\'s test '
                        'size)')
    parser.add_argument('--runs', type=int, default=10,
                        help='timed runs per round (default 10)')
    parser.add_argument('--budget', type=float, metavar='SECONDS',
                        help='seconds the latency rounds of each backend '
                        'aim at: fewer runs per round (at least 2) for '
                        'slow models, no round after it (default: none)')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed runs of each model first (default 3)')
    parser.add_argument('--max-rounds', type=int, default=6,
                        help='rounds at most (default 6)')
    parser.add_argument('--backends', nargs='+', choices=BACKENDS,
                        default=list(BACKENDS),
                        help='what latency is measured with (default: '
                        'torch onnxruntime; onnxruntime where installed)')
    for who in ('student', 'teacher'):
        parser.add_argument(f'--{who}-cfg-options', nargs='+',
                            action=DictAction, metavar='KEY=VALUE',
                            help=f'overrides of the {who} config')
    parser.add_argument('--out', help='write the JSON here')
    args = parser.parse_args(argv)
    configs = []
    for path, options in ((args.student, args.student_cfg_options),
                          (args.teacher, args.teacher_cfg_options)):
        cfg = load_config(path)
        if options:
            cfg.merge_from_dict(options)
        configs.append(cfg)
    cost = configs_cost(*configs, args.size,
                        runs=args.runs, warmup=args.warmup,
                        budget_s=args.budget,
                        max_rounds=args.max_rounds,
                        backends=args.backends)
    print(cost_table(cost))
    if args.out:
        write_cost(cost, args.out)
        print(f'[cost] {args.out}')


if __name__ == '__main__':
    main()
