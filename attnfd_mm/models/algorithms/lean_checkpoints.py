# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Checkpoints that leave a frozen teacher out and keep its fingerprint."""
import hashlib
import json
from typing import Dict

import torch
from torch import nn

TEACHER_PREFIX = 'teacher.'  # of the teacher's keys in the state dict
FINGERPRINT = 'teacher_fingerprint'  # the buffer of its fingerprint


class TeacherChangedError(ValueError):
    """The teacher rebuilt from ``teacher_ckpt`` is not a checkpoint's."""


def encode_fingerprint(module: nn.Module, teacher_ckpt: str) -> torch.Tensor:
    """The SHA-256 of ``module``'s state dict (keys, dtypes, tensor bytes)
    and ``teacher_ckpt``, as a uint8 tensor of JSON bytes."""
    digest = hashlib.sha256()
    for key, value in sorted(module.state_dict().items()):
        digest.update(key.encode())
        if isinstance(value, torch.Tensor):
            data = value.detach().cpu().contiguous().reshape(-1)
            digest.update(str(value.dtype).encode())
            digest.update(data.view(torch.uint8).numpy().tobytes())
    text = json.dumps(dict(sha256=digest.hexdigest(),
                           teacher_ckpt=teacher_ckpt), sort_keys=True)
    return torch.tensor(list(text.encode()), dtype=torch.uint8)


def decode_fingerprint(tensor: torch.Tensor) -> Dict[str, str]:
    """The inverse of :func:`encode_fingerprint`."""
    return json.loads(bytes(tensor.cpu().tolist()).decode())


def make_checkpoints_lean(algorithm: nn.Module, teacher_ckpt: str) -> None:
    """Leave ``algorithm.teacher`` (loaded from ``teacher_ckpt``) out of
    ``algorithm``'s state dict, its fingerprint in its place."""
    algorithm.register_buffer(
        FINGERPRINT, encode_fingerprint(algorithm.teacher, teacher_ckpt))
    algorithm.register_state_dict_post_hook(_leave_out_teacher)
    algorithm.register_load_state_dict_pre_hook(_keep_own_teacher)


def _leave_out_teacher(algorithm: nn.Module, state: Dict, prefix: str,
                       local_metadata: Dict) -> None:
    """State-dict post-hook: drop the ``<prefix>teacher.*`` entries."""
    for key in [k for k in state if k.startswith(prefix + TEACHER_PREFIX)]:
        del state[key]


def _keep_own_teacher(algorithm: nn.Module, state: Dict, prefix: str,
                      *args) -> None:
    """Load pre-hook: check a saved fingerprint, keep this run's, and fill
    a state dict without teacher weights with the teacher's own."""
    key, buffer = prefix + FINGERPRINT, getattr(algorithm, FINGERPRINT)
    saved = decode_fingerprint(state[key]) if key in state else {}
    own = decode_fingerprint(buffer)
    if saved and saved.get('sha256') != own['sha256']:
        same_file = saved.get('teacher_ckpt') == own['teacher_ckpt']
        raise TeacherChangedError(
            'The teacher is not the one this checkpoint was trained with: '
            f"its weights came from {saved.get('teacher_ckpt')!r} (SHA-256 "
            f"{saved.get('sha256', '?')[:12]}), the teacher rebuilt now from "
            f"{own['teacher_ckpt']!r} has SHA-256 {own['sha256'][:12]}"
            + (' (the file changed since).' if same_file else '.') +
            ' Checkpoints of a frozen teacher leave its weights out and '
            'rebuild it from teacher_ckpt: restore that file, or start a new '
            'run.')
    state[key] = buffer
    head = prefix + TEACHER_PREFIX
    if not any(k.startswith(head) for k in state):
        state.update((head + k, v)
                     for k, v in algorithm.teacher.state_dict().items())
