# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Single-teacher distillation with a teacher frozen in eval mode."""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Union

import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS


@MODELS.register_module()
class FrozenTeacherDistill(SingleTeacherDistill):
    """``SingleTeacherDistill`` whose frozen teacher is wholly in eval mode.

    MMRazor's ``SingleTeacherDistill`` only puts the teacher's BatchNorm
    layers in eval mode and runs the teacher's losses. With
    ``teacher_trainable=False`` this algorithm instead keeps the whole
    teacher in eval mode (dropout included) and runs it in ``'tensor'``
    mode under ``torch.no_grad()``: no teacher loss, no stored activations.
    Everything else, including the ``teacher_trainable=True`` path, is
    ``SingleTeacherDistill``'s.

    It also checks what MMRazor leaves to chance: ``teacher`` may name a
    local config file (``dict(cfg_path='path/to/teacher_config.py')``, as
    well as MMRazor's ``'mmseg::...'``); the teacher checkpoint must exist,
    be readable and fit the teacher's keys and shapes; teacher and student
    must predict the same number of classes. Each failure raises before
    training with a message naming the fix.

    Args:
        teacher (dict | BaseModel): The teacher's model dict, a
            ``dict(cfg_path=...)`` or a built model.
        teacher_ckpt (str, optional): Path or URL of the teacher checkpoint
            (an mmseg checkpoint of the teacher config).
        **kwargs: The other arguments of ``SingleTeacherDistill``.
    """

    def __init__(self,
                 *args,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 **kwargs) -> None:
        if teacher_ckpt and '://' not in teacher_ckpt \
                and not osp.isfile(teacher_ckpt):
            raise FileNotFoundError(
                f'Teacher checkpoint not found: {teacher_ckpt!r}. Train the '
                'teacher first, or set teacher_ckpt (e.g. --cfg-options '
                'model.teacher_ckpt=PATH) to an existing file or a URL.')
        super().__init__(*args, teacher=_teacher_model_cfg(teacher), **kwargs)
        _check_num_classes(self.student, self.teacher)
        if teacher_ckpt:
            load_teacher_checkpoint(self.teacher, teacher_ckpt)
            # keep the loaded weights when the runner initialises the model
            self.teacher._is_init = True

    def loss(self,
             batch_inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None) -> Dict:
        """Student and distillation losses of one batch."""
        if self.teacher_trainable:
            return super().loss(batch_inputs, data_samples)
        losses = dict()
        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries:
            with torch.no_grad():
                self.teacher(batch_inputs, data_samples, mode='tensor')
        self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries:
            if self.calculate_student_loss:
                student_losses = self.student(
                    batch_inputs, data_samples, mode='loss')
                losses.update(add_prefix(student_losses, 'student'))
            else:
                self.student(batch_inputs, data_samples, mode='tensor')
        if not self.distillation_stopped:
            losses.update(
                add_prefix(self.distiller.compute_distill_losses(),
                           'distill'))
        return losses

    def train(self, mode: bool = True) -> 'FrozenTeacherDistill':
        """Set train mode, keeping a frozen teacher wholly in eval mode."""
        super().train(mode)
        if not self.teacher_trainable:
            self.teacher.eval()
        return self


def _teacher_model_cfg(
        teacher: Union[BaseModel, Dict]) -> Union[BaseModel, Dict]:
    """Turn ``dict(cfg_path=<local config file>)`` into that config's model
    dict (MMRazor handles only ``'package::path'`` config paths)."""
    if not isinstance(teacher, dict) or 'type' in teacher:
        return teacher
    cfg_path = teacher.get('cfg_path')
    if cfg_path is None or '::' in cfg_path:
        return teacher
    if not osp.isfile(cfg_path):
        raise FileNotFoundError(
            f'Teacher config not found: {cfg_path!r}. Set model.teacher.'
            'cfg_path to a config file or to an mmseg config such as '
            "'mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-40k_voc12aug-"
            "512x512.py'.")
    cfg = Config.fromfile(cfg_path)
    model = cfg.model  # a ConfigDict: mmseg segmentors set its attributes
    model.setdefault('_scope_', cfg.get('default_scope', None) or 'mmseg')
    return model


def _num_classes(segmentor: torch.nn.Module) -> Optional[int]:
    head = getattr(segmentor, 'decode_head', None)
    return getattr(head, 'num_classes', None)


def _check_num_classes(student: torch.nn.Module,
                       teacher: torch.nn.Module) -> None:
    """Raise unless teacher and student predict the same classes."""
    s_classes, t_classes = _num_classes(student), _num_classes(teacher)
    if None not in (s_classes, t_classes) and s_classes != t_classes:
        raise ValueError(
            f'The teacher predicts {t_classes} classes but the student '
            f'{s_classes}: distil a teacher trained on the same dataset, or '
            'set num_classes of both decode heads to the dataset\'s.')


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
    except Exception as err:  # noqa: BLE001  (any reader failure)
        raise RuntimeError(
            f'Cannot read the teacher checkpoint {filename!r}: '
            f'{type(err).__name__}: {err}. Point teacher_ckpt at a '
            'checkpoint saved by mmseg/mmengine for the teacher config.'
        ) from err
    state = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise RuntimeError(
            f'The teacher checkpoint {filename!r} holds no state dict.')
    state = OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state.items())
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
    teacher.load_state_dict(state, strict=False)
