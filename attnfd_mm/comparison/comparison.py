# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Distillation methods compared on a user's own pair and data.

Each arm trains the student with one method (or alone) under the user's
data and schedule, shortened to a number of iterations, and is scored on the
user's val set. Every arm is one run of ``tools/train.py`` and one of
``tools/test.py`` in a process of its own, so that a killed comparison
loses at most the unfinished part of one arm: re-running continues it and
skips the finished ones.
"""
import copy
import hashlib
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Union

from mmengine.config import Config

from attnfd_mm.apis.distill_config import (METHODS, add_custom_hook,
                                           add_custom_import, check_method,
                                           distill_config, load_config,
                                           method_label, write_config)
from attnfd_mm.apis.init_weights import (WeightsUnavailableError,
                                         check_init_weights)
from attnfd_mm.apis.runner_config import set_data_root
from attnfd_mm.engine.hooks.step_time_hook import load_step_times
from .schedule import shorten_schedule
from .statistics import same_time_iters

#: The control arm: the student alone for as many iterations as the compute
#: of the slowest distillation arm buys.
SAME_TIME = 'student_same_time'
#: Everything ``methods`` may hold.
ARMS = [*METHODS, SAME_TIME]
#: Settings a work dir is bound to: another value needs another work dir.
BOUND = ('student', 'teacher', 'teacher_checkpoint', 'iters', 'layers',
         'same_time_as')


class ComparisonError(ValueError):
    """A comparison that cannot run as asked (named cause and fix)."""


def tools_dir() -> str:
    """The folder of ``train.py`` and ``test.py``: ``attnfd_mm/.mim/tools``
    of the installed package (links to ``tools/`` in a source checkout)."""
    import attnfd_mm
    package = osp.dirname(osp.abspath(attnfd_mm.__file__))
    for path in (osp.join(package, '.mim', 'tools'),
                 osp.join(osp.dirname(package), 'tools')):
        if osp.isfile(osp.join(path, 'train.py')):
            return path
    raise FileNotFoundError(
        f'tools/train.py not found under {package}/.mim/tools: reinstall '
        'attnfd-mm, or restore the links with `git checkout -- '
        'attnfd_mm/.mim`.')


def median_step(work_dir: str) -> Optional[float]:
    """Median seconds per training step of the run in ``work_dir`` (its
    first step, which starts the data loader, left out), or None."""
    saved = load_step_times(work_dir)
    if not saved or not saved['seconds']:
        return None
    steps = sorted(saved['seconds'].items(), key=lambda kv: int(kv[0]))
    values = [v for k, v in steps if int(k) > 1] or [v for _, v in steps]
    return statistics.median(values)


def _fingerprint(cfg: Config) -> str:
    return hashlib.sha256(cfg.pretty_text.encode()).hexdigest()[:16]


class Comparison:
    """The arms of one comparison work dir.

    Args:
        student: The student config (a Config, a file, ``mmseg::...``):
            model, data, schedule and runtime.
        teacher: The teacher config (only its model is used).
        teacher_ckpt: Path or URL of the teacher's weights.
        work_dir: Where configs, training runs, exported student weights,
            metrics and results go.
        methods: Keys of :data:`~attnfd_mm.apis.METHODS` and
            ``'student_same_time'``.
        seeds: The seeds of every arm.
        iters: Training iterations of each arm (the schedule is compressed
            to them).
        layers: AttnFD layers (default B, E).
        cfg_options: Overrides of the student config.
        data_root: Dataset root of every dataloader of the student config.
        same_time_as: The distillation method whose cost the same-time arm
            matches; default: the slowest distillation arm of that seed.
        checkpoint_interval: Iterations between resumable checkpoints.
        keep_train_checkpoints: Keep the training checkpoints of finished
            arms (a frozen teacher is left out of them).
        prefix: Start of every progress line.
        test_split: Also score the teacher and every arm on the student
            config's test set (reported beside val; nothing is chosen on
            it). Not bound: a finished work dir can add test scores.
        cwd: Where the arms run (relative data paths of the config are read
            from there). Defaults to the current directory.
        measure_cost: Measure what the student and the teacher cost
            (parameters, FLOPs, CPU latency at the student config's test
            size) once, for the report's accuracy-against-cost table.
        skip_bad_samples: Log and skip training samples whose files are bad
            instead of stopping (not bound: it changes nothing where every
            sample is good).
    """

    def __init__(self,
                 student: Union[str, Config],
                 teacher: Union[str, Config],
                 teacher_ckpt: str,
                 work_dir: str,
                 methods: Sequence[str],
                 seeds: Sequence[int] = (0, ),
                 iters: int = 1000,
                 layers: Optional[Sequence[str]] = None,
                 cfg_options: Optional[Dict] = None,
                 data_root: Optional[str] = None,
                 same_time_as: Optional[str] = None,
                 checkpoint_interval: int = 100,
                 keep_train_checkpoints: bool = False,
                 prefix: str = '[compare]',
                 test_split: bool = False,
                 cwd: Optional[str] = None,
                 measure_cost: bool = True,
                 skip_bad_samples: bool = False) -> None:
        self.methods = check_methods(methods, same_time_as)
        self.seeds = list(seeds)
        self.iters = int(iters)
        self.layers = list(layers) if layers else None
        self.same_time_as = same_time_as
        self.teacher_ckpt = teacher_ckpt
        self.checkpoint_interval = checkpoint_interval
        self.keep_train_checkpoints = keep_train_checkpoints
        self.prefix = prefix
        self.test_split = test_split
        self.measure_cost = measure_cost
        self.skip_bad_samples = skip_bad_samples
        self.cwd = cwd or os.getcwd()
        self.work_dir = osp.abspath(work_dir)
        self.student = load_config(student)
        if cfg_options:
            self.student.merge_from_dict(cfg_options)
        if data_root is not None:
            set_data_root(self.student, osp.abspath(data_root))
        self.teacher = load_config(teacher)
        self.dirs = {
            name: osp.join(self.work_dir, name)
            for name in ('configs', 'train', 'checkpoints', 'metrics', 'eval')
        }
        self.timings_file = osp.join(self.work_dir, 'timings.json')

    # ------------------------------------------------------------ naming
    @staticmethod
    def arm(method: str, seed: int) -> str:
        """The name of ``method``'s arm with ``seed``."""
        return f'{method}_seed{seed}'

    def label(self, method: str) -> str:
        """``method``'s name in the report."""
        if method == SAME_TIME:
            return 'student alone, same time'
        return method_label(method, self.layers)

    def checkpoint(self, stage: str) -> str:
        """The exported weights of ``stage`` (plain mmseg format)."""
        return osp.join(self.dirs['checkpoints'], f'{stage}.pth')

    def metrics_file(self, stage: str, split: str = 'val') -> str:
        """``metrics/<stage>.json`` (val) or ``metrics/<stage>.<split>.json``.
        """
        name = stage if split == 'val' else f'{stage}.{split}'
        return osp.join(self.dirs['metrics'], f'{name}.json')

    def is_done(self, stage: str) -> bool:
        return osp.isfile(self.metrics_file(stage))

    # ----------------------------------------------------------- binding
    def settings(self) -> Dict:
        """What this work dir is bound to."""
        return dict(
            student=_fingerprint(self.student),
            teacher=_fingerprint(self.teacher),
            teacher_checkpoint=self.teacher_ckpt, iters=self.iters,
            layers=self.layers, same_time_as=self.same_time_as)

    def bind(self) -> None:
        """Bind the work dir to these settings, or raise a named error when
        it holds another comparison (methods and seeds may be added)."""
        changed = bound_settings_changes(
            osp.join(self.work_dir, 'comparison.json'), self.settings())
        if changed:
            raise ComparisonError(
                f'{self.work_dir} holds a different comparison '
                f'(setting: (there, now)): {changed}. The student and '
                'teacher configs are compared by content. Use another '
                '--work-dir, or the same configs and settings to '
                'continue it (methods and seeds may be added).')
        for d in self.dirs.values():
            os.makedirs(d, exist_ok=True)

    # ----------------------------------------------------------- configs
    def arm_config(self, method: str, seed: int,
                   iters: Optional[int] = None) -> Config:
        """The training config of ``method`` with ``seed``."""
        base = 'student' if method == SAME_TIME else method
        cfg = distill_config(
            self.student, self.teacher, base, teacher_ckpt=self.teacher_ckpt,
            layers=self.layers if METHODS[base].feature_layers else None,
            skip_bad_samples=self.skip_bad_samples)
        shorten_schedule(cfg, iters or self.iters, self.checkpoint_interval)
        cfg.randomness = dict(seed=seed, deterministic=False)
        add_custom_hook(cfg, dict(type='StepTimeHook'))
        cfg.export_student = False  # exported as checkpoints/<arm>.pth
        cfg.measure_student_cost = False  # once per comparison: cost()
        return cfg

    def val_config(self, model: Optional[Dict] = None,
                   split: str = 'val') -> Config:
        """The student config scoring on its ``split`` set (``'val'``:
        ``test_*`` set to ``val_*``; ``'test'``: its own ``test_*``),
        per-class IoU added to mmseg's ``IoUMetric``; with ``model`` that
        model instead of the student."""
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
        if model is not None:
            cfg.model = model
        add_custom_import(cfg)
        return cfg

    def teacher_model(self) -> Dict:
        """The teacher's model as the distillation configs hold it."""
        return distill_config(self.student, self.teacher, 'kd',
                              teacher_ckpt=self.teacher_ckpt).model.teacher

    def write(self, cfg: Config, name: str) -> str:
        return write_config(cfg, osp.join(self.dirs['configs'], f'{name}.py'))

    # ------------------------------------------------------------ checks
    def check_weights(self) -> None:
        """The initial weights of the student and the teacher models
        (``pretrained``, ``init_cfg``) can be read, downloading them now.

        Raises:
            ComparisonError: One cannot, with its key and the fix.
        """
        distilled = [m for m in self.methods if m not in ('student',
                                                          SAME_TIME)]
        for method in ['student', *distilled[:1]]:
            try:
                check_init_weights(self.arm_config(method, 0))
            except WeightsUnavailableError as e:
                raise ComparisonError(str(e)) from e

    def preflight(self) -> None:
        """Build the teacher with its checkpoint and each unfinished
        distillation arm's model once, so that a checkpoint that does not
        fit, different class counts or layers that cannot be found stop
        the comparison before anything trains."""
        from mmengine.registry import DefaultScope
        from mmseg.registry import MODELS

        from attnfd_mm.models.algorithms.teacher_checkpoint import \
            load_teacher_checkpoint
        pending = [m for m in self.methods if m not in ('student', SAME_TIME)
                   and not all(self.is_done(self.arm(m, s))
                               for s in self.seeds)]
        self.val_config()  # a val set to score on
        if self.test_split:
            self.val_config(split='test')
        if self.is_done('teacher') and not pending:
            return
        print(f'{self.prefix} checking the teacher checkpoint and the '
              f'arms {pending} before training', flush=True)
        with DefaultScope.overwrite_default_scope('mmseg'):
            teacher = MODELS.build(self.teacher_model())
            try:
                load_teacher_checkpoint(teacher, self.teacher_ckpt)
            except (RuntimeError, ValueError) as e:
                raise ComparisonError(f'--teacher-checkpoint: {e}') from e
            del teacher
            for method in pending:
                model = copy.deepcopy(self.arm_config(method, 0).model)
                model.update(teacher_ckpt=None, random_teacher=True)
                MODELS.build(model)

    # ------------------------------------------------------------ stages
    def _add_time(self, stage: str, seconds: float) -> None:
        timings = self.timings()
        timings[stage] = timings.get(stage, 0.0) + seconds
        tmp = f'{self.timings_file}.tmp'
        with open(tmp, 'w') as f:
            json.dump(timings, f, indent=2)
        os.replace(tmp, self.timings_file)

    def timings(self) -> Dict[str, float]:
        """Wall seconds of each stage (training and scoring), interrupted
        parts included."""
        if not osp.isfile(self.timings_file):
            return {}
        with open(self.timings_file) as f:
            return json.load(f)

    def run_tool(self, tool: str, args: List[str], stage: str, what: str,
                 timed: bool = True, logs: Optional[str] = None) -> None:
        """Run ``tools/<tool>`` for ``stage``, adding its wall time to the
        timings (``timed``) also when it is interrupted (Ctrl-C, SIGTERM),
        in which case the tool is stopped too. A failure names ``logs``
        (default: the stage's train folder), which is kept."""
        print(f'{self.prefix} {stage}: {what}', flush=True)
        start = time.time()
        proc = subprocess.Popen(
            [sys.executable, osp.join(tools_dir(), tool), *args],
            cwd=self.cwd)
        try:
            returncode = proc.wait()
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
            if timed:
                self._add_time(stage, time.time() - start)
        if returncode != 0:
            logs = logs or osp.join(self.dirs['train'], stage)
            where = (f'its logs are under {logs}' if osp.isdir(logs) else
                     'its output is above')
            raise SystemExit(
                f'{self.prefix} {stage} failed ({what}, exit {returncode}); '
                f'{where}. Fix the cause and re-run the same command to '
                'continue.')

    def train(self, stage: str, cfg: Config, student_only: bool) -> None:
        """Train ``stage`` (resuming it if it was interrupted) and export
        its student's weights to ``checkpoints/<stage>.pth``."""
        if osp.isfile(self.checkpoint(stage)):
            return
        work_dir = osp.join(self.dirs['train'], stage)
        iters = cfg.train_cfg.max_iters
        final = osp.join(work_dir, f'iter_{iters}.pth')
        if not osp.isfile(final):
            config = self.write(cfg, stage)
            resume = osp.isfile(osp.join(work_dir, 'last_checkpoint'))
            self.run_tool(
                'train.py', [config, '--work-dir', work_dir] +
                ['--resume'] * resume, stage,
                f'{"resuming" if resume else "training"} {iters} iterations')
        self.export(stage, final, work_dir, student_only)

    def export(self, stage: str, src: str, work_dir: str,
               student_only: bool) -> None:
        """Save the plain mmseg weights of ``src`` (the student's of a
        distillation checkpoint) as ``checkpoints/<stage>.pth``; drop the
        training checkpoints unless asked to keep them."""
        from mmengine.runner import CheckpointLoader

        from attnfd_mm.apis import student_checkpoint, weights_checkpoint
        checkpoint = CheckpointLoader.load_checkpoint(src, map_location='cpu')
        self.save_weights(stage, weights_checkpoint(checkpoint)
                          if student_only else
                          student_checkpoint(checkpoint))
        if not self.keep_train_checkpoints:
            for name in os.listdir(work_dir):
                if name.startswith('iter_') and name.endswith('.pth'):
                    os.remove(osp.join(work_dir, name))

    def save_weights(self, stage: str, plain: Dict) -> None:
        """Write ``plain`` as ``checkpoints/<stage>.pth``, atomically."""
        import torch
        tmp = self.checkpoint(stage) + '.tmp'
        torch.save(plain, tmp)
        os.replace(tmp, self.checkpoint(stage))

    def score(self, stage: str, checkpoint: str,
              model: Optional[Dict] = None,
              split: str = 'val') -> Dict[str, float]:
        """``split`` metrics of ``checkpoint`` (the student's, or
        ``model``'s)."""
        out = self.metrics_file(stage, split)
        if not osp.isfile(out):
            who = 'teacher' if model is not None else 'student'
            config = self.write(self.val_config(model, split),
                                f'{who}_{split}')
            eval_dir = osp.join(self.dirs['eval'], f'{stage}.{split}')
            self.run_tool('test.py', [
                config, checkpoint, '--work-dir', eval_dir, '--metrics-out',
                out + '.tmp'
            ], stage, f'scoring on {split}', logs=eval_dir)
            os.replace(out + '.tmp', out)
            shutil.rmtree(eval_dir, ignore_errors=True)
        with open(out) as f:
            return json.load(f)

    def score_teacher(self, split: str = 'val') -> Dict[str, float]:
        """The teacher's ``split`` metrics (its checkpoint on the student's
        ``split`` set)."""
        return self.score('teacher', self.teacher_ckpt, self.teacher_model(),
                          split)

    def cost(self) -> Dict:
        """What the student and the teacher cost at the student config's
        test size (:func:`~attnfd_mm.deploy.pair_cost`), measured once and
        kept in ``student_vs_teacher.json`` of the work dir."""
        from attnfd_mm.deploy.cost import (COST_FILE, configs_cost,
                                           load_cost, write_cost)
        path = osp.join(self.work_dir, COST_FILE)
        cost = load_cost(path)
        if cost is None:
            print(f'{self.prefix} measuring what the student and the '
                  'teacher cost (parameters, FLOPs, CPU latency)', flush=True)
            cost = configs_cost(self.val_config(),
                                Config(dict(model=self.teacher_model())))
            write_cost(cost, path)
        return cost

    def step_seconds(self, stage: str) -> Optional[float]:
        """Median seconds per step of a trained ``stage``."""
        return median_step(osp.join(self.dirs['train'], stage))

    def same_time_iters(self, seed: int) -> int:
        """Iterations of the same-time arm of ``seed``: ``iters`` x the
        median step of the reference arm (``same_time_as``, else the
        slowest distillation arm of that seed) / the student's."""
        student = self.step_seconds(self.arm('student', seed))
        candidates = [self.same_time_as] if self.same_time_as else [
            m for m in self.methods if m not in ('student', SAME_TIME)]
        steps = {m: self.step_seconds(self.arm(m, seed)) for m in candidates}
        missing = [m for m, s in steps.items() if s is None]
        if student is None or missing:
            raise ComparisonError(
                f'No step times for the same-time arm of seed {seed}: '
                f'{self.arm("student", seed)} or {missing} did not record '
                'them (step_times.json in their train folders).')
        slowest = max(steps, key=steps.get)
        return same_time_iters(self.iters, steps[slowest], student)

    def stage_result(self, stage: str, metrics: Dict[str, float],
                     iters: int) -> Dict:
        saved = load_step_times(osp.join(self.dirs['train'], stage)) or {}
        return dict(
            metrics=metrics, iters=iters,
            step_s=self.step_seconds(stage),
            peak_memory_mib=saved.get('peak_memory_mib'),
            wall_s=self.timings().get(stage))

    def run_arm(self, method: str, seed: int) -> Dict:
        """Train, export and score one arm; reuse it when finished."""
        stage = self.arm(method, seed)
        iters = self.same_time_iters(seed) if method == SAME_TIME \
            else self.iters
        if self.is_done(stage):
            print(f'{self.prefix} {stage}: reusing its results', flush=True)
        else:
            self.train(stage, self.arm_config(method, seed, iters),
                       student_only=method in ('student', SAME_TIME))
        metrics = self.score(stage, self.checkpoint(stage))
        result = self.stage_result(stage, metrics, iters)
        if self.test_split:
            result['test_metrics'] = self.score(
                stage, self.checkpoint(stage), split='test')
        return result

    # --------------------------------------------------------- progress
    def arm_iters(self, stage: str) -> Optional[int]:
        """Training iterations of ``stage`` (None for a same-time arm whose
        references have not run yet)."""
        method, seed = stage.rsplit('_seed', 1)
        if method != SAME_TIME:
            return self.iters
        try:
            return self.same_time_iters(int(seed))
        except ComparisonError:
            return None

    def eta(self, pending: Sequence[str]) -> Optional[float]:
        """Projected seconds of the ``pending`` arms: each arm's iterations
        times the wall time per iteration of the finished arms of its
        method (the same-time arm: of the student alone; else of all
        finished arms); None before any arm finished."""
        timings = self.timings()
        per_iter: Dict[str, List[float]] = {}
        for stage in self.order():
            if self.is_done(stage) and stage in timings:
                method = stage.rsplit('_seed', 1)[0]
                per_iter.setdefault(method, []).append(
                    timings[stage] / self.arm_iters(stage))
        if not per_iter:
            return None
        every = [v for values in per_iter.values() for v in values]
        rate = {m: statistics.fmean(v) for m, v in per_iter.items()}
        slowest = max(rate.values())
        total = 0.0
        for stage in pending:
            method = stage.rsplit('_seed', 1)[0]
            iters = self.arm_iters(stage)
            if method == SAME_TIME:
                student = rate.get('student', statistics.fmean(every))
                iters = iters or self.iters * slowest / student
                total += student * iters
            else:
                total += rate.get(method, statistics.fmean(every)) * iters
        return total

    def _progress(self, pending: Sequence[str]) -> str:
        eta = self.eta(pending)
        left = f'{len(pending)} arm{"s" * (len(pending) != 1)} left'
        return f'{left}, ETA of the comparison ' + (
            f'{eta / 60:.0f} min' if eta is not None else
            'after the first arm')

    # -------------------------------------------------------------- run
    def order(self) -> List[str]:
        """Every arm, in running order (the same-time arms last: they need
        the step times of the others)."""
        plain = [self.arm(m, s) for s in self.seeds for m in self.methods
                 if m != SAME_TIME]
        if SAME_TIME in self.methods:
            plain += [self.arm(SAME_TIME, s) for s in self.seeds]
        return plain

    def check(self) -> None:
        """Bind the work dir and check everything that can be checked before
        anything trains (:meth:`bind`, :meth:`preflight`); named errors
        (``ComparisonError`` and the builders' ``ValueError``,
        ``KeyError``, ``FileNotFoundError``, ``RuntimeError``) say what to
        fix."""
        self.bind()
        self.check_weights()
        self.preflight()

    def run(self) -> Dict:
        """Every arm (after :meth:`check`), then the results:
        ``dict(teacher=metrics, arms={method: {seed: stage result}})``, and
        ``teacher_test`` with :attr:`test_split`."""
        teacher = self.score_teacher()
        extra = {'teacher_test': self.score_teacher('test')} \
            if self.test_split else {}
        arms: Dict[str, Dict[str, Dict]] = {m: {} for m in self.methods}
        order = self.order()
        for i, stage in enumerate(order):
            method, seed = stage.rsplit('_seed', 1)
            if not self.is_done(stage):
                print(f'{self.prefix} {stage} starts ({self.label(method)}; '
                      f'{self._progress(order[i:])})', flush=True)
            result = self.run_arm(method, int(seed))
            arms[method][seed] = result
            test = result.get('test_metrics')
            print(f'{self.prefix} {stage} done: val mIoU '
                  f'{result["metrics"]["mIoU"]:.2f}' +
                  (f', test mIoU {test["mIoU"]:.2f}' if test else '') +
                  f' ({self._progress(order[i + 1:])})', flush=True)
        if self.measure_cost:
            extra['cost'] = self.cost()
        return dict(teacher=teacher, arms=arms, **extra)

    # --------------------------------------------------------- estimate
    def time_steps(self, cfg: Config, name: str, reps: int = 4) -> float:
        """Median seconds per step of ``cfg`` trained ``reps`` iterations
        on its real data in ``estimate/<name>`` of the work dir (removed
        after, kept when it fails)."""
        cfg = copy.deepcopy(cfg)
        shorten_schedule(cfg, reps, reps)
        add_custom_hook(cfg, dict(type='StepTimeHook'))
        folder = osp.join(self.work_dir, 'estimate', name)
        shutil.rmtree(folder, ignore_errors=True)
        config = write_config(cfg, osp.join(folder, f'{name}.py'))
        work_dir = osp.join(folder, 'train')
        self.run_tool('train.py', [config, '--work-dir', work_dir], name,
                      f'timing {reps} iterations', timed=False,
                      logs=work_dir)
        step = median_step(work_dir)
        shutil.rmtree(folder, ignore_errors=True)
        if not os.listdir(osp.dirname(folder)):
            os.rmdir(osp.dirname(folder))
        print(f'{self.prefix} {name}: {step:.2f} s per step', flush=True)
        return step

    def estimate(self, reps: int = 4) -> str:
        """Train each method ``reps`` iterations on the real data and
        project the comparison's training time from the median step
        (start-up and scoring not counted)."""
        self.check_weights()
        steps = {}
        for method in self.methods:
            if method == SAME_TIME:
                continue
            cfg = self.arm_config(method, 0, reps)
            if 'teacher_ckpt' in cfg.model and not osp.isfile(
                    self.teacher_ckpt) and '://' not in self.teacher_ckpt:
                # not trained yet: random weights time the same
                cfg.model.update(teacher_ckpt=None, random_teacher=True)
            steps[method] = self.time_steps(cfg, method, reps)
        total = len(self.seeds) * self.iters * sum(steps.values())
        parts = [f'{len(self.seeds)} seeds x {self.iters} iterations of '
                 f'{"/".join(steps)}']
        if SAME_TIME in self.methods:
            reference = self.same_time_as or max(
                (m for m in steps if m != 'student'), key=steps.get)
            same = same_time_iters(self.iters, steps[reference],
                                   steps['student'])
            total += len(self.seeds) * same * steps['student']
            parts.append(f'{len(self.seeds)} x {same} iterations of '
                         f'{SAME_TIME} (as {reference})')
        return (f'{" + ".join(parts)}: {total / 60:.0f} min of training '
                '(plus start-up and scoring of each arm).')


def bound_settings_changes(path: str, settings: Dict) -> Dict[str, tuple]:
    """The settings that differ from those saved at ``path`` (``{name:
    (there, now)}``); the first call, with no file yet, saves them."""
    if not osp.isfile(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(settings, f, indent=2)
        return {}
    with open(path) as f:
        saved = json.load(f)
    return {k: (saved.get(k), v) for k, v in settings.items()
            if saved.get(k) != v}


def check_methods(methods: Sequence[str],
                  same_time_as: Optional[str] = None) -> List[str]:
    """``methods`` checked: known, no repeats, and what the same-time arm
    needs (the student alone and a distillation arm to match).

    Raises:
        ComparisonError: With the valid methods or what is missing.
    """
    methods = list(dict.fromkeys(methods))
    unknown = [m for m in methods if m not in ARMS]
    if unknown:
        raise ComparisonError(f'Unknown methods {unknown}; valid: {ARMS}.')
    for method in methods:
        if method != SAME_TIME:
            check_method(method)
    distilled = [m for m in methods if m not in ('student', SAME_TIME)]
    if same_time_as is not None and same_time_as not in distilled:
        raise ComparisonError(
            f'same_time_as={same_time_as!r} is not one of the distillation '
            f'methods compared: {distilled}.')
    if SAME_TIME in methods and ('student' not in methods or not distilled):
        raise ComparisonError(
            f'{SAME_TIME} needs the student alone (\'student\') and at '
            'least one distillation method in the comparison: their step '
            'times set its iterations.')
    return methods


def write_results(comparison: Comparison, results: Dict,
                  preamble: Sequence[str] = (),
                  teacher_label: str = 'teacher',
                  title: str = 'Comparison',
                  extra: Optional[Dict] = None) -> str:
    """Write ``results.md``, ``results.json`` (with ``extra``'s items) and
    ``results.png`` of ``comparison`` into its work dir, and, where the
    results hold the models' cost, its table and ``results_cost.png``;
    return the Markdown."""
    from .cost_report import cost_section, plot_cost
    from .report import plot, report
    text, data = report(results, comparison.label, preamble,
                        comparison.timings(), teacher_label, title,
                        same_time_as=comparison.same_time_as)
    base = osp.join(comparison.work_dir, 'results')
    if results.get('cost'):
        lines, rows = cost_section(data, results['cost'], teacher_label)
        text += '\n'.join(lines) + '\n'
        data.update(cost=results['cost'], cost_rows=rows)
        plot_cost(data, rows, f'{base}_cost.png', teacher_label)
    data['settings'] = dict(
        comparison.settings(), methods=comparison.methods,
        seeds=comparison.seeds)
    data.update(extra or {})
    with open(f'{base}.md', 'w') as f:
        f.write(text)
    with open(f'{base}.json', 'w') as f:
        json.dump(data, f, indent=2)
    plot(data, f'{base}.png', preamble[0] if preamble else 'Comparison',
         highlight=lambda m: m not in ('student', SAME_TIME, 'kd', 'cwd'))
    return text
