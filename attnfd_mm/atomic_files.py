# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Files written whole or not at all."""
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def atomic_file(path: str) -> Iterator[str]:
    """A temporary path beside ``path`` to write to; when the block ends
    without error it replaces ``path`` in one step (``os.replace``, atomic
    on POSIX), so a reader or a killed writer never sees half a file.
    On error the temporary file is removed and ``path`` is left as it was.

    Example::

        with atomic_file('metrics.json') as tmp:
            with open(tmp, 'w') as f:
                json.dump(metrics, f)
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.tmp')
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
