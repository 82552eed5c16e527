# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The frozen teacher's config and strictly loaded weights; checkpoints
that keep its fingerprint instead of its weights."""
import hashlib
import json
import os.path as osp
import pickle
import re
from typing import Dict, Union

import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader
from torch import nn

TEACHER_PREFIX = 'teacher.'  # of the teacher's keys in the state dict
FINGERPRINT = 'teacher_fingerprint'  # the buffer of its fingerprint


def teacher_model_cfg(
        teacher: Union[BaseModel, Dict]) -> Union[BaseModel, Dict]:
    """``dict(cfg_path=<file or 'pkg::...'>)`` as its scoped model dict."""
    cfg_path = teacher.get('cfg_path') if isinstance(teacher, dict) \
        and 'type' not in teacher else None
    if cfg_path is None:
        return teacher
    if '::' in cfg_path:
        from attnfd_mm.apis.config_files import load_config
        cfg, scope = load_config(cfg_path), cfg_path.split('::')[0]
    elif osp.isfile(cfg_path):
        cfg, scope = Config.fromfile(cfg_path), 'mmseg'
    else:
        raise FileNotFoundError(
            f'Teacher config not found: {cfg_path!r}. Set model.teacher.'
            'cfg_path to a config file or to an mmseg config such as '
            "'mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-40k_voc12aug-"
            "512x512.py'.")
    model = cfg.model  # a ConfigDict: mmseg segmentors set its attributes
    model.setdefault('_scope_', cfg.get('default_scope', None) or scope)
    return model


def load_teacher_checkpoint(teacher: torch.nn.Module, filename: str) -> None:
    """Load ``filename`` (a path or URL) into ``teacher``, strictly."""
    url = '://' in filename
    if not url and not osp.isfile(filename):
        raise FileNotFoundError(
            f'Teacher checkpoint not found: {filename!r}. Train the '
            'teacher first, or set teacher_ckpt (e.g. --cfg-options '
            'model.teacher_ckpt=PATH) to an existing file or a URL.')
    try:
        checkpoint = CheckpointLoader.load_checkpoint(
            filename, map_location='cpu', logger='current')
    except Exception as err:  # noqa: BLE001  (any reader failure)
        found = re.search(r'Unsupported global: GLOBAL (\S+)', str(err))
        if isinstance(err, pickle.UnpicklingError) and found:
            raise RuntimeError(
                f'Refusing the teacher checkpoint {filename!r}: it holds a '
                f'pickled object that is not plain data ({found.group(1)}). '
                "Checkpoints are loaded with torch's weights_only safety on, "
                'which attnfd_mm does not disable. If you trust the file, '
                're-save only its weights, e.g. '
                "torch.save(dict(state_dict=ckpt['state_dict']), "
                "'clean.pth').") from err
        reason = f'{type(err).__name__}: {err}'
        raise RuntimeError(
            f'The teacher checkpoint {filename!r} could not be downloaded '
            f'({reason}). Offline, download it where there is a network and '
            'pass its local path: --teacher-checkpoint PATH '
            '(tools/distill.py, tools/compare.py) or model.teacher_ckpt=PATH.'
            if url else
            f'Cannot read the teacher checkpoint {filename!r}: {reason}. '
            'Point teacher_ckpt at a checkpoint saved by mmseg/mmengine for '
            'the teacher config.') from err
    state = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise RuntimeError(
            f'The teacher checkpoint {filename!r} holds no state dict.')
    state = {k.removeprefix('module.'): v for k, v in state.items()}
    check_teacher_state(teacher, state, filename)
    teacher.load_state_dict(state, strict=False)


def check_teacher_state(teacher: torch.nn.Module, state: Dict,
                        filename: str) -> None:
    """Raise a ``ValueError`` naming keys of ``state`` that do not fit."""
    own = teacher.state_dict()
    missing = [k for k in own if k not in state
               and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in state if k not in own]
    reshaped = [f'{k}: {tuple(state[k].shape)} vs {tuple(v.shape)}'
                for k, v in own.items() if k in state
                and hasattr(state[k], 'shape')
                and state[k].shape != v.shape]
    if not (missing or unexpected or reshaped):
        return
    distilled = any(k.startswith(('architecture.', TEACHER_PREFIX))
                    for k in unexpected)
    raise ValueError(
        f'The teacher checkpoint {filename!r} does not fit the teacher '
        f'model: {len(missing)} missing keys {missing[:5]}, '
        f'{len(unexpected)} unexpected keys {unexpected[:5]}, '
        f'{len(reshaped)} keys of another shape {reshaped[:5]}. Check '
        'that teacher_ckpt was trained with the teacher config (same '
        'backbone depth, channels and num_classes).' +
        (' It looks like a distillation checkpoint: convert it with '
         'tools/convert_kd_ckpt_to_student.py first.' if distilled else ''))


class TeacherChangedError(ValueError):
    """The teacher rebuilt from ``teacher_ckpt`` is not a checkpoint's."""


def encode_fingerprint(module: nn.Module, teacher_ckpt: str) -> torch.Tensor:
    """SHA-256 of ``module``'s state dict and ``teacher_ckpt``, uint8 JSON."""
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
    """Save ``algorithm``'s teacher as a fingerprint, not as its weights."""
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
    """Load pre-hook: check the fingerprint; fill in absent teacher weights."""
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
