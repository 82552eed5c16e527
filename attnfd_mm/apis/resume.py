# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The checkpoint ``--resume`` continues from: the newest one that loads."""
import glob
import logging
import os.path as osp
import re
from typing import List, NamedTuple, Optional, Tuple

from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader


class NoGoodCheckpointError(RuntimeError):
    """Every checkpoint of a work dir fails to load."""


def checkpoint_candidates(work_dir: str) -> List[str]:
    """The checkpoints of ``work_dir``, newest first: the one
    ``last_checkpoint`` names, then every ``iter_N.pth``/``epoch_N.pth``
    by decreasing N."""
    numbered = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        found = re.fullmatch(r'(?:iter|epoch)_(\d+)\.pth', osp.basename(path))
        if found:
            numbered.append((int(found.group(1)), path))
    candidates = [p for _, p in sorted(numbered, reverse=True)]
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named:
            candidates = [named] + [p for p in candidates
                                    if osp.abspath(p) != osp.abspath(named)]
    return candidates


class ResumeChoice(NamedTuple):
    """The checkpoint to resume from (None: none there) and the newer ones
    skipped, with why."""
    path: Optional[str]
    skipped: List[Tuple[str, str]]

    def log(self) -> None:
        """Name the skipped checkpoints and the one resumed from in the
        current log (warnings: they matter after a fault)."""
        for skipped, why in self.skipped:
            print_log(f'--resume: skipping {skipped}, which does not load '
                      f'({why}).', logger='current', level=logging.WARNING)
        if self.path is not None:
            print_log(f'--resume: resuming from {self.path}.',
                      logger='current', level=logging.WARNING)


def resume_checkpoint(work_dir: str) -> ResumeChoice:
    """The newest checkpoint of ``work_dir`` that loads (``path`` None when
    there is none: training starts from scratch, as mmengine does) and the
    ones skipped.

    Raises:
        NoGoodCheckpointError: There are checkpoints but none loads.
    """
    bad: List[Tuple[str, str]] = []
    for path in checkpoint_candidates(work_dir):
        if not osp.isfile(path):
            bad.append((path, 'missing'))
            continue
        try:
            loaded = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        except Exception as err:  # noqa: BLE001  (any reader failure)
            bad.append((path, f'{type(err).__name__}: {str(err)[:120]}'))
            continue
        if isinstance(loaded, dict) and 'state_dict' in loaded:
            return ResumeChoice(path, bad)
        bad.append((path, 'no state_dict'))
    if bad:
        raise NoGoodCheckpointError(
            f'--resume: no checkpoint of {work_dir} loads: ' +
            '; '.join(f'{p} ({why})' for p, why in bad) + '. Start over '
            'without --resume (or in another --work-dir), or restore a '
            'checkpoint there.')
    return ResumeChoice(None, [])
