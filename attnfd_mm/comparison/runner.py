# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The stages of a comparison work dir, each run in a child process."""
import os
import os.path as osp
import shutil
import site
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

import mmengine
from mmengine.config import Config

import attnfd_mm
from attnfd_mm.apis import write_config
from attnfd_mm.atomic_files import atomic_file
from attnfd_mm.engine.hooks.step_time_hook import load_step_times

#: ``{split: (config, name)}``: what a stage is scored on, each config saved
#: as ``configs/<name>.py``.
Splits = Dict[str, Tuple[Config, str]]


def median_step(saved: Optional[Dict]) -> Optional[float]:
    """Median seconds per training step of a :func:`load_step_times` record
    (its first step, which starts the data loader, left out), or None."""
    seconds = (saved or {}).get('seconds')
    if not seconds:
        return None
    return statistics.median([v for k, v in seconds.items() if int(k) > 1]
                             or seconds.values())


class StageRunner:
    """Trains and scores the stages of ``work_dir`` (docs/design.md).

    Args:
        work_dir: The comparison's work dir.
        cwd: Where the child processes run (default: the current one).
        prefix: Start of every progress line.
        keep_train_checkpoints: Keep finished stages' training checkpoints.
    """
    #: The child process, followed by :mod:`attnfd_mm.apis.stages`' args.
    command: List[str] = [sys.executable, '-m', 'attnfd_mm.apis.stages']

    def __init__(self, work_dir: str, cwd: Optional[str] = None,
                 prefix: str = '[compare]',
                 keep_train_checkpoints: bool = False) -> None:
        self.work_dir = osp.abspath(work_dir)
        self.cwd = cwd or os.getcwd()
        self.prefix = prefix
        self.keep_train_checkpoints = keep_train_checkpoints
        self.dirs = {name: osp.join(self.work_dir, name) for name in
                     ('configs', 'train', 'checkpoints', 'metrics', 'eval')}
        self.timings_file = osp.join(self.work_dir, 'timings.json')

    def checkpoint(self, stage: str) -> str:
        """The exported weights of ``stage``."""
        return osp.join(self.dirs['checkpoints'], f'{stage}.pth')

    def metrics_file(self, stage: str, split: str = 'val') -> str:
        name = stage if split == 'val' else f'{stage}.{split}'
        return osp.join(self.dirs['metrics'], f'{name}.json')

    def is_done(self, stage: str) -> bool:
        return osp.isfile(self.metrics_file(stage))

    def timings(self) -> Dict[str, float]:
        """Wall seconds of each stage, interrupted parts included."""
        return mmengine.load(self.timings_file) if osp.isfile(
            self.timings_file) else {}

    def launch(self, args: List[str], stage: str, what: str,
               timed: bool = True, logs: Optional[str] = None) -> None:
        """Run :mod:`attnfd_mm.apis.stages` with ``args``, timing ``stage``
        (``timed``) also when stopped; a failure names ``logs``."""
        print(f'{self.prefix} {stage}: {what}', flush=True)
        env = dict(os.environ)
        root = osp.dirname(osp.dirname(osp.abspath(attnfd_mm.__file__)))
        if root not in site.getsitepackages():  # a source checkout
            env['PYTHONPATH'] = os.pathsep.join(
                filter(None, [root, env.get('PYTHONPATH')]))
        start = time.time()
        proc = subprocess.Popen([*self.command, *args], cwd=self.cwd, env=env)
        try:
            returncode = proc.wait()
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
            if timed:
                timings = self.timings()
                timings[stage] = time.time() - start + timings.get(stage, 0.0)
                with atomic_file(self.timings_file) as tmp:
                    mmengine.dump(timings, tmp, file_format='json', indent=2)
        if returncode != 0:
            logs = logs or osp.join(self.dirs['train'], stage)
            where = (f'its logs are under {logs}' if osp.isdir(logs) else
                     'its output is above')
            raise SystemExit(
                f'{self.prefix} {stage} failed ({what}, exit {returncode}); '
                f'{where}. Fix the cause and re-run the same command to '
                'continue.')

    def _unscored(self, stage: str, splits: Splits) -> Splits:
        """Those of ``splits`` that ``stage`` has no metrics of yet."""
        return {split: v for split, v in splits.items()
                if not osp.isfile(self.metrics_file(stage, split))}

    def _score_args(self, stage: str, splits: Splits) -> List[str]:
        """``--score`` args for each of ``splits``."""
        args = []
        for split, (cfg, name) in splits.items():
            config = osp.join(self.dirs['configs'], f'{name}.py')
            args += ['--score', write_config(cfg, config),
                     osp.join(self.dirs['eval'], f'{stage}.{split}'),
                     self.metrics_file(stage, split)]
        return args

    def train(self, stage: str, cfg: Config, splits: Splits) -> None:
        """Train (or resume) ``stage``, export its student's weights and
        score them on ``splits`` (as :meth:`score`), in one child."""
        if osp.isfile(self.checkpoint(stage)):
            return
        work_dir = osp.join(self.dirs['train'], stage)
        resume = osp.isfile(osp.join(work_dir, 'last_checkpoint'))
        config = write_config(cfg, osp.join(self.dirs['configs'],
                                            f'{stage}.py'))
        self.launch(['train', config, work_dir, self.checkpoint(stage)] +
                    ['--keep-checkpoints'] * self.keep_train_checkpoints +
                    self._score_args(stage, self._unscored(stage, splits)),
                    stage,
                    f'{"resuming" if resume else "training"} '
                    f'{cfg.train_cfg.max_iters} iterations')
        shutil.rmtree(self.dirs['eval'], ignore_errors=True)

    def score(self, stage: str, checkpoint: str,
              splits: Splits) -> Dict[str, Dict[str, float]]:
        """The metrics of ``checkpoint`` on each of ``splits``, kept in
        :meth:`metrics_file`; those not scored yet are scored in one child."""
        todo = self._unscored(stage, splits)
        if todo:
            self.launch(['test', checkpoint, *self._score_args(stage, todo)],
                        stage, f'scoring on {" and ".join(todo)}',
                        logs=self.dirs['eval'])
            shutil.rmtree(self.dirs['eval'], ignore_errors=True)
        return {split: mmengine.load(self.metrics_file(stage, split))
                for split in splits}

    def step_times(self, stage: str) -> Dict[str, Optional[float]]:
        """Median seconds per step (``step_s``) and peak memory of a stage."""
        saved = load_step_times(osp.join(self.dirs['train'], stage)) or {}
        return dict(step_s=median_step(saved),
                    peak_memory_mib=saved.get('peak_memory_mib'))

    def time_steps(self, cfg: Config, name: str) -> float:
        """Median seconds per step of ``cfg`` run in ``estimate/<name>``."""
        folder = osp.join(self.work_dir, 'estimate', name)
        shutil.rmtree(folder, ignore_errors=True)
        config = write_config(cfg, osp.join(folder, f'{name}.py'))
        work_dir = osp.join(folder, 'train')
        self.launch(['train', config, work_dir,
                     osp.join(folder, 'weights.pth')], name,
                    f'timing {cfg.train_cfg.max_iters} iterations',
                    timed=False, logs=work_dir)
        step = median_step(load_step_times(work_dir))
        shutil.rmtree(folder, ignore_errors=True)
        if not os.listdir(osp.dirname(folder)):
            os.rmdir(osp.dirname(folder))
        print(f'{self.prefix} {name}: {step:.2f} s per step', flush=True)
        return step
