# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Files written whole or not at all."""
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def atomic_file(path: str) -> Iterator[str]:
    """A temporary path beside ``path`` to write to, which replaces
    ``path`` in one step (``os.replace``) when the block ends without error
    (else it is removed): no reader or killed writer sees half a file."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.tmp')
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
