# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Distillation methods compared on a user's own pair and data, arm by arm
(docs/design.md)."""
import copy
import hashlib
import os
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence, Union

import mmengine
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS

from attnfd_mm.apis import (METHODS, WeightsUnavailableError,
                            check_init_weights, distill_config, load_config)
from attnfd_mm.apis.distill_config import add_custom_hook, add_custom_import
from attnfd_mm.deploy.cost import (COST_FILE, configs_cost, load_cost,
                                   write_cost)
from attnfd_mm.models.algorithms.teacher_checkpoint import \
    load_teacher_checkpoint
from .plan import ALONE, SAME_TIME, Arm, ComparisonError, Plan
from .runner import Splits, StageRunner
from .schedule import shorten_schedule
from .statistics import same_time_iters


def bind_settings(path: str, settings: Dict, held: str, fix: str) -> None:
    """Save ``settings`` at ``path``, or raise a :class:`ComparisonError`
    naming those that differ from the saved ones, ``held`` and ``fix``."""
    if not osp.isfile(path):
        mmengine.dump(settings, path, indent=2)
        return
    saved = mmengine.load(path)
    changed = {k: (saved.get(k), v) for k, v in settings.items()
               if saved.get(k) != v}
    if changed:
        raise ComparisonError(f'{osp.dirname(path)} holds {held} (setting: '
                              f'(there, now)): {changed}. {fix}')


class Comparison:
    """The arms of one comparison work dir.

    Args:
        student: The student config (Config, file, ``mmseg::...``).
        teacher: The teacher config (only its model is used).
        teacher_ckpt: Path or URL of the teacher's weights.
        methods, seeds, iters, layers, same_time_as: The :class:`Plan`.
        checkpoint_interval: Iterations between resumable checkpoints.
        work_dir, keep_train_checkpoints, prefix, cwd: :class:`StageRunner`'s.
        test_split: Also score on the test set (not bound).
        measure_cost: Measure what the student and the teacher cost once.
        skip_bad_samples: Log and skip bad training samples (not bound).
    """

    def __init__(self, student: Union[str, Config],
                 teacher: Union[str, Config], teacher_ckpt: str,
                 work_dir: str, methods: Sequence[str],
                 seeds: Sequence[int] = (0, ), iters: int = 1000,
                 layers: Optional[Sequence[str]] = None,
                 same_time_as: Optional[str] = None,
                 checkpoint_interval: int = 100,
                 keep_train_checkpoints: bool = False,
                 prefix: str = '[compare]', test_split: bool = False,
                 cwd: Optional[str] = None, measure_cost: bool = True,
                 skip_bad_samples: bool = False) -> None:
        self.plan = Plan(methods, seeds, iters, layers, same_time_as)
        self.runner = StageRunner(work_dir, cwd, prefix,
                                  keep_train_checkpoints)
        self.work_dir = self.runner.work_dir
        self.teacher_ckpt = teacher_ckpt
        self.checkpoint_interval = checkpoint_interval
        self.splits = ['val', 'test'] if test_split else ['val']
        self.measure_cost = measure_cost
        self.skip_bad_samples = skip_bad_samples
        self.student, self.teacher = load_config(student), load_config(teacher)

    def settings(self) -> Dict:
        """What this work dir is bound to."""
        plan, digests = self.plan, {
            name: hashlib.sha256(cfg.pretty_text.encode()).hexdigest()[:16]
            for name, cfg in (('student', self.student),
                              ('teacher', self.teacher))}
        return dict(**digests, teacher_checkpoint=self.teacher_ckpt,
                    iters=plan.iters, layers=list(plan.layers or ()) or None,
                    same_time_as=plan.same_time_as)

    def bind(self) -> None:
        """Bind the work dir to :meth:`settings` and make its folders."""
        bind_settings(
            osp.join(self.work_dir, 'comparison.json'), self.settings(),
            'a different comparison', 'The student and teacher configs are '
            'compared by content. Use another --work-dir, or the same '
            'configs and settings to continue it (methods and seeds may be '
            'added).')
        for d in self.runner.dirs.values():
            os.makedirs(d, exist_ok=True)

    def arm_config(self, method: str, seed: int,
                   iters: Optional[int] = None) -> Config:
        """The training config of ``method`` with ``seed``."""
        base = ALONE if method == SAME_TIME else method
        cfg = distill_config(
            self.student, self.teacher, base, teacher_ckpt=self.teacher_ckpt,
            layers=self.plan.layers if METHODS[base].feature_layers else None,
            skip_bad_samples=self.skip_bad_samples)
        self.shorten(cfg, iters or self.plan.iters, seed)
        cfg.export_student = False  # exported as checkpoints/<stage>.pth
        cfg.measure_student_cost = False  # once per comparison: cost()
        return cfg

    def shorten(self, cfg: Config, iters: int, seed: int) -> None:
        """Make ``cfg`` a stage of ``iters`` iterations and ``seed``."""
        shorten_schedule(cfg, iters, self.checkpoint_interval)
        cfg.randomness = dict(seed=seed, deterministic=False)
        add_custom_hook(cfg, dict(type='StepTimeHook'))

    def val_config(self, model: Optional[Dict] = None,
                   split: str = 'val') -> Config:
        """The student config (or ``model``) scoring on its ``split`` set."""
        cfg = copy.deepcopy(self.student)
        missing = [k for k in (f'{split}_dataloader', f'{split}_evaluator')
                   if not cfg.get(k)]
        if missing:
            raise ComparisonError(
                f'The student config has no {missing}: the arms are scored '
                f'on its {split} set. Add them (as for validating the '
                'student alone).')
        cfg.test_dataloader = copy.deepcopy(cfg[f'{split}_dataloader'])
        evaluator = copy.deepcopy(cfg[f'{split}_evaluator'])
        if isinstance(evaluator, dict) and evaluator.get('type') in (
                'IoUMetric', 'mmseg.IoUMetric'):
            evaluator.type = 'PerClassIoUMetric'
        cfg.test_evaluator = evaluator
        cfg.test_cfg = dict(type='TestLoop')
        cfg.model = model or cfg.model
        add_custom_import(cfg)
        return cfg

    def teacher_model(self) -> Dict:
        """The teacher's model as the distillation configs hold it."""
        return distill_config(self.student, self.teacher, 'kd',
                              teacher_ckpt=self.teacher_ckpt).model.teacher

    def check_weights(self) -> None:
        """Read (download) the student's and teacher's initial weights."""
        for method in [ALONE, *self.plan.distilled[:1]]:
            try:
                check_init_weights(self.arm_config(method, 0))
            except WeightsUnavailableError as e:
                raise ComparisonError(str(e)) from e

    def check(self) -> None:
        """Check what can be checked before training (after :meth:`bind`)."""
        self.check_weights()
        self.scored_on()  # the student config has the sets to score on
        pending = [m for m in self.plan.distilled if not all(
            self.runner.is_done(Arm(m, s).stage) for s in self.plan.seeds)]
        if self.runner.is_done('teacher') and not pending:
            return
        print(f'{self.runner.prefix} checking the teacher checkpoint and the '
              f'arms {pending} before training', flush=True)
        with DefaultScope.overwrite_default_scope('mmseg'):
            teacher = MODELS.build(self.teacher_model())
            try:
                load_teacher_checkpoint(teacher, self.teacher_ckpt)
            except (RuntimeError, ValueError) as e:
                raise ComparisonError(f'--teacher-checkpoint: {e}') from e
            del teacher
            for method in pending:
                MODELS.build(dict(self.arm_config(method, 0).model,
                                  teacher_ckpt=None, random_teacher=True))

    def scored_on(self, who: str = 'student') -> Splits:
        """What ``who`` (the student or the teacher) is scored on: the
        student's val (and test) sets."""
        model = self.teacher_model() if who == 'teacher' else None
        return {split: (self.val_config(model, split), f'{who}_{split}')
                for split in self.splits}

    def score_teacher(self) -> Dict[str, Dict[str, float]]:
        """The teacher's metrics on each of the student's splits."""
        return self.runner.score('teacher', self.teacher_ckpt,
                                 self.scored_on('teacher'))

    def reference(self, steps: Dict[str, float]) -> str:
        """The method the same-time arm matches, by ``steps`` (s / step)."""
        return self.plan.same_time_as or max(self.plan.distilled,
                                             key=steps.get)

    def arm_iters(self, arm: Arm,
                  steps: Optional[Dict[str, float]] = None) -> int:
        """Training iterations of ``arm``; for the same-time arm from
        ``steps`` (s / step by method; default: its seed's recorded ones)."""
        plan = self.plan
        if arm.method != SAME_TIME:
            return plan.iters
        if steps is None:
            refs = [plan.same_time_as] if plan.same_time_as else plan.distilled
            stages = {m: Arm(m, arm.seed).stage for m in [ALONE, *refs]}
            steps = {m: self.runner.step_times(s)['step_s']
                     for m, s in stages.items()}
            missing = [s for m, s in stages.items() if steps[m] is None]
            if missing:
                raise ComparisonError(
                    f'No step times for the same-time arm of seed '
                    f'{arm.seed}: {missing} did not record them '
                    '(step_times.json in their train folders).')
        return same_time_iters(plan.iters, steps[self.reference(steps)],
                               steps[ALONE])

    def run_arm(self, arm: Arm) -> Dict:
        """Train, export and score one arm; reuse it when finished."""
        runner, stage = self.runner, arm.stage
        iters, splits = self.arm_iters(arm), self.scored_on()
        if runner.is_done(stage):
            print(f'{runner.prefix} {stage}: reusing its results', flush=True)
        else:
            runner.train(stage, self.arm_config(arm.method, arm.seed, iters),
                         splits)
        metrics = runner.score(stage, runner.checkpoint(stage), splits)
        return dict(metrics=metrics['val'], test_metrics=metrics.get('test'),
                    iters=iters, **runner.step_times(stage),
                    wall_s=runner.timings().get(stage))

    def eta(self, pending: Sequence[Arm]) -> Optional[float]:
        """Projected seconds of the ``pending`` arms (None: none finished)."""
        timings = self.runner.timings()
        per_iter: Dict[str, List[float]] = {}
        for arm in self.plan.arms():
            if self.runner.is_done(arm.stage) and arm.stage in timings:
                per_iter.setdefault(arm.method, []).append(
                    timings[arm.stage] / self.arm_iters(arm))
        if not per_iter:
            return None
        every = statistics.fmean(v for vs in per_iter.values() for v in vs)
        rate = {m: statistics.fmean(per_iter.get(m, [every]))
                for m in self.plan.methods}
        rate[SAME_TIME] = rate.get(ALONE, every)  # the student alone
        total = 0.0
        for arm in pending:
            try:
                iters = self.arm_iters(arm)
            except ComparisonError:  # its references have not run yet
                iters = self.arm_iters(arm, rate)
            total += rate[arm.method] * iters
        return total

    def _progress(self, pending: Sequence[Arm]) -> str:
        eta = self.eta(pending)
        return (f'{len(pending)} arm{"s" * (len(pending) != 1)} left, ETA '
                'of the comparison ' + (f'{eta / 60:.0f} min' if eta is not
                                        None else 'after the first arm'))

    def run(self) -> Dict:
        """Run every arm (after :meth:`check`); return ``dict(teacher=,
        arms={method: {seed: result}})`` (``teacher_test``, ``cost``)."""
        prefix = self.runner.prefix
        teacher = self.score_teacher()
        results = dict(teacher=teacher['val'],
                       arms={m: {} for m in self.plan.methods})
        if 'test' in self.splits:
            results['teacher_test'] = teacher['test']
        order = self.plan.arms()
        for i, arm in enumerate(order):
            if not self.runner.is_done(arm.stage):
                print(f'{prefix} {arm.stage} starts '
                      f'({self.plan.label(arm.method)}; '
                      f'{self._progress(order[i:])})', flush=True)
            result = self.run_arm(arm)
            results['arms'][arm.method][str(arm.seed)] = result
            test = result['test_metrics']
            print(f'{prefix} {arm.stage} done: val mIoU '
                  f'{result["metrics"]["mIoU"]:.2f}' +
                  (f', test mIoU {test["mIoU"]:.2f}' if test else '') +
                  f' ({self._progress(order[i + 1:])})', flush=True)
        if self.measure_cost:
            results['cost'] = self.cost()
        return results

    def cost(self) -> Dict:
        """What the student and the teacher cost, measured once."""
        path = osp.join(self.work_dir, COST_FILE)
        cost = load_cost(path)
        if cost is None:
            print(f'{self.runner.prefix} measuring what the student and the '
                  'teacher cost (parameters, FLOPs, CPU latency)', flush=True)
            cost = configs_cost(self.val_config(),
                                Config(dict(model=self.teacher_model())))
            write_cost(cost, path)
        return cost

    def estimate(self, reps: int = 4) -> str:
        """The training time projected from ``reps`` steps of each."""
        self.check_weights()
        plan, steps = self.plan, {}
        for method in (m for m in plan.methods if m != SAME_TIME):
            cfg = self.arm_config(method, 0, reps)
            cfg.default_hooks.checkpoint.interval = reps  # at the end
            if 'teacher_ckpt' in cfg.model and not osp.isfile(
                    self.teacher_ckpt) and '://' not in self.teacher_ckpt:
                # not trained yet: random weights time the same
                cfg.model.update(teacher_ckpt=None, random_teacher=True)
            steps[method] = self.runner.time_steps(cfg, method)
        seeds = len(plan.seeds)
        total = seeds * plan.iters * sum(steps.values())
        parts = [f'{seeds} seeds x {plan.iters} iterations of '
                 f'{"/".join(steps)}']
        if SAME_TIME in plan.methods:
            same = self.arm_iters(Arm(SAME_TIME, 0), steps)
            total += seeds * same * steps[ALONE]
            parts.append(f'{seeds} x {same} iterations of {SAME_TIME} (as '
                         f'{self.reference(steps)})')
        return (f'{" + ".join(parts)}: {total / 60:.0f} min of training '
                '(plus start-up and scoring of each arm).')
