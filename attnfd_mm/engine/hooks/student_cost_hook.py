# Copyright (c) attnfd-mm contributors. All rights reserved.
"""What the distilled student costs against its teacher, at the end of
training."""
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from attnfd_mm.deploy.cost import (BACKENDS, COST_FILE, config_test_size,
                                   cost_line, pair_cost, write_cost)
from attnfd_mm.deploy.segmentor import build_segmentor_from


@HOOKS.register_module()
class StudentCostHook(Hook):
    """Write ``<work_dir>/<filename>`` when a distillation run ends: the
    student's and the teacher's parameters, GFLOPs and CPU latency
    (:func:`~attnfd_mm.deploy.pair_cost`), both built afresh on the CPU from
    the config, and a line of it in the log. ``tools/train.py`` and
    ``tools/distill.py`` add it unless ``measure_student_cost = False``.

    Args:
        filename (str): Name of the file in the work dir. Defaults to
            ``'student_vs_teacher.json'``.
        size (Sequence[int], optional): (height, width). Defaults to the
            config's test size.
        runs, warmup, max_rounds, budget_s: Of the latency rounds
            (:func:`~attnfd_mm.deploy.measure_latencies`).
        backends (Sequence[str]): What latency is measured with.
    """

    priority = 'LOWEST'

    def __init__(self,
                 filename: str = COST_FILE,
                 size: Optional[Sequence[int]] = None,
                 runs: int = 10,
                 warmup: int = 3,
                 max_rounds: int = 6,
                 budget_s: Optional[float] = 300.0,
                 backends: Sequence[str] = BACKENDS) -> None:
        self.filename = filename
        self.size = tuple(size) if size else None
        self.kwargs = dict(runs=runs, warmup=warmup, max_rounds=max_rounds,
                           budget_s=budget_s, backends=tuple(backends))

    def after_train(self, runner) -> None:
        cfg, model = runner.cfg, runner.cfg.model
        if not is_main_process() or 'architecture' not in model or \
                'teacher' not in model:
            return
        scope = cfg.get('default_scope') or 'mmseg'
        try:
            student, teacher = (
                build_segmentor_from(Config(dict(model=model[key],
                                                 default_scope=scope)))
                for key in ('architecture', 'teacher'))
            size = self.size or config_test_size(cfg)
            cost = pair_cost(student, teacher, size, **self.kwargs)
        except Exception as e:  # the trained run stays a success
            runner.logger.warning(
                f'StudentCostHook could not measure the student against '
                f'its teacher ({type(e).__name__}: {e}); measure them with '
                'tools/analysis/cost.py STUDENT_CONFIG TEACHER_CONFIG '
                '--size HxW.')
            return
        path = write_cost(cost, osp.join(runner.work_dir, self.filename))
        runner.logger.info(f'{cost_line(cost)}; details: {path}')
