# Copyright (c) attnfd-mm contributors. All rights reserved.
"""A fingerprint of a frozen teacher's weights, kept in checkpoints that
leave the teacher out."""
import hashlib
import json
from typing import Dict, Optional

import torch
from torch import nn

#: The prefix of the teacher's weights in an algorithm's state dict.
TEACHER_PREFIX = 'teacher.'


class TeacherChangedError(ValueError):
    """The teacher rebuilt from ``teacher_ckpt`` is not the one a checkpoint
    was trained with."""


def weights_fingerprint(module: nn.Module) -> str:
    """SHA-256 of ``module``'s state dict: every key and the bytes of its
    tensor, in key order (independent of the memory layout)."""
    digest = hashlib.sha256()
    for key, value in sorted(module.state_dict().items()):
        digest.update(key.encode())
        if isinstance(value, torch.Tensor):
            data = value.detach().cpu().contiguous().reshape(-1)
            digest.update(str(value.dtype).encode())
            digest.update(data.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def encode_fingerprint(fingerprint: Dict[str, str]) -> torch.Tensor:
    """``fingerprint`` as a uint8 tensor (JSON bytes): a buffer that rides
    in the state dict like any tensor (DDP broadcasts, weights_to_cpu)."""
    data = json.dumps(fingerprint, sort_keys=True).encode()
    return torch.tensor(list(data), dtype=torch.uint8)


def decode_fingerprint(tensor: torch.Tensor) -> Dict[str, str]:
    """The inverse of :func:`encode_fingerprint`."""
    return json.loads(bytes(tensor.cpu().tolist()).decode())


def drop_teacher_weights(state: Dict, prefix: str) -> None:
    """Remove the teacher's entries (``<prefix>teacher.*``) from ``state``."""
    for key in [k for k in state if k.startswith(prefix + TEACHER_PREFIX)]:
        del state[key]


def fill_teacher_weights(teacher: nn.Module, state: Dict,
                         prefix: str) -> bool:
    """Where ``state`` holds no teacher weights, add ``teacher``'s own, so
    that loading leaves them as they are; return whether it did."""
    head = prefix + TEACHER_PREFIX
    if any(k.startswith(head) for k in state):
        return False
    for key, value in teacher.state_dict().items():
        state[head + key] = value
    return True


def check_fingerprint(saved: Optional[Dict], own: Dict) -> None:
    """Raise :class:`TeacherChangedError` unless the teacher fingerprint of
    a checkpoint (``saved``) is this run's (``own``)."""
    if not saved or saved.get('sha256') == own['sha256']:
        return
    same_file = saved.get('teacher_ckpt') == own['teacher_ckpt']
    raise TeacherChangedError(
        'The teacher is not the one this checkpoint was trained with: its '
        f"weights came from {saved.get('teacher_ckpt')!r} (SHA-256 "
        f"{saved.get('sha256', '?')[:12]}), the teacher rebuilt now from "
        f"{own['teacher_ckpt']!r} has SHA-256 {own['sha256'][:12]}"
        + (' (the file changed since).' if same_file else '.') +
        ' Checkpoints of a frozen teacher leave its weights out and rebuild '
        'it from teacher_ckpt: restore that file, or start a new run.')
