# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The checkpoint ``--resume`` continues from: the newest one that loads."""
import glob
import os.path as osp
import re
from typing import List, Optional, Tuple

from mmengine.runner import CheckpointLoader


class NoGoodCheckpointError(RuntimeError):
    """Every checkpoint of a work dir fails to load."""


def resume_checkpoint(work_dir: str) -> Tuple[Optional[str], List[str]]:
    """The newest checkpoint of ``work_dir`` that loads (None when there is
    none: training starts from scratch), and the warnings for the run's log.

    Raises:
        NoGoodCheckpointError: There are checkpoints but none loads.
    """
    # newest first: the one last_checkpoint names, then iter_N.pth /
    # epoch_N.pth by decreasing N
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
    bad: List[Tuple[str, str]] = []
    for path in candidates:
        if not osp.isfile(path):
            bad.append((path, 'missing'))
            continue
        try:
            loaded = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        except Exception as err:  # noqa: BLE001  (any reader failure)
            bad.append((path, f'{type(err).__name__}: {str(err)[:120]}'))
            continue
        if isinstance(loaded, dict) and 'state_dict' in loaded:
            return path, [
                f'--resume: skipping {p}, which does not load ({why}).'
                for p, why in bad
            ] + [f'--resume: resuming from {path}.']
        bad.append((path, 'no state_dict'))
    if bad:
        raise NoGoodCheckpointError(
            f'--resume: no checkpoint of {work_dir} loads: ' +
            '; '.join(f'{p} ({why})' for p, why in bad) + '. Start over '
            'without --resume (or in another --work-dir), or restore a '
            'checkpoint there.')
    return None, []
