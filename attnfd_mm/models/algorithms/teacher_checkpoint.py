# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Strict loading of a teacher checkpoint, with named errors."""
import pickle
import re
from collections import OrderedDict
from typing import Dict

import torch
from mmengine.runner import CheckpointLoader


def _unreadable(filename: str, err: Exception) -> RuntimeError:
    if '://' in filename:
        return RuntimeError(
            f'The teacher checkpoint {filename!r} could not be downloaded '
            f'({type(err).__name__}: {err}). Offline, download it where '
            'there is a network and pass its local path: '
            '--teacher-checkpoint PATH (tools/distill.py, tools/compare.py) '
            'or model.teacher_ckpt=PATH.')
    return RuntimeError(
        f'Cannot read the teacher checkpoint {filename!r}: '
        f'{type(err).__name__}: {err}. Point teacher_ckpt at a checkpoint '
        'saved by mmseg/mmengine for the teacher config.')


def load_teacher_checkpoint(teacher: torch.nn.Module, filename: str) -> None:
    """Load ``filename`` into ``teacher``, strictly, with named errors.

    Raises:
        RuntimeError: The file cannot be read (with the reader's reason).
        ValueError: Its keys or shapes do not fit the teacher: how many keys
            are missing, unexpected or of another shape, with a few of each.
    """
    try:
        checkpoint = CheckpointLoader.load_checkpoint(
            filename, map_location='cpu', logger='current')
    except pickle.UnpicklingError as err:
        found = re.search(r'Unsupported global: GLOBAL (\S+)', str(err))
        if found is None:
            raise _unreadable(filename, err) from err
        raise RuntimeError(
            f'Refusing the teacher checkpoint {filename!r}: it holds a '
            f'pickled object that is not plain data ({found.group(1)}). '
            "Checkpoints are loaded with torch's weights_only safety on, "
            'which attnfd_mm does not disable. If you trust the file, '
            're-save only its weights, e.g. '
            "torch.save(dict(state_dict=ckpt['state_dict']), 'clean.pth')."
        ) from err
    except Exception as err:  # noqa: BLE001  (any other reader failure)
        raise _unreadable(filename, err) from err
    state = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise RuntimeError(
            f'The teacher checkpoint {filename!r} holds no state dict.')
    state = OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state.items())
    check_teacher_state(teacher, state, filename)
    teacher.load_state_dict(state, strict=False)


def check_teacher_state(teacher: torch.nn.Module, state: Dict,
                        filename: str) -> None:
    """Check that the weights ``state`` (read from ``filename``) fit
    ``teacher``: the same keys (``num_batches_tracked`` may be absent) and
    shapes.

    Raises:
        ValueError: How many keys are missing, unexpected or of another
            shape, with a few of each.
    """
    own = teacher.state_dict()
    missing = [k for k in own if k not in state
               and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in state if k not in own]
    reshaped = [
        f'{k}: {tuple(state[k].shape)} vs {tuple(v.shape)}'
        for k, v in own.items()
        if k in state and hasattr(state[k], 'shape')
        and state[k].shape != v.shape
    ]
    if missing or unexpected or reshaped:
        hint = ''
        if any(k.startswith(('architecture.', 'teacher.'))
               for k in unexpected):
            hint = (' It looks like a distillation checkpoint: convert it '
                    'with tools/convert_kd_ckpt_to_student.py first.')
        raise ValueError(
            f'The teacher checkpoint {filename!r} does not fit the teacher '
            f'model: {len(missing)} missing keys {missing[:5]}, '
            f'{len(unexpected)} unexpected keys {unexpected[:5]}, '
            f'{len(reshaped)} keys of another shape {reshaped[:5]}. Check '
            'that teacher_ckpt was trained with the teacher config (same '
            f'backbone depth, channels and num_classes).{hint}')
