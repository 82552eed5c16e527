# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Single-teacher distillation with a teacher frozen in eval mode."""
import copy
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.dist import all_reduce, get_world_size
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS

from .frozen_teacher_log import summarize_frozen_teacher_log
from .teacher_checkpoint import load_teacher_checkpoint
from .teacher_fingerprint import (check_fingerprint, decode_fingerprint,
                                  drop_teacher_weights, encode_fingerprint,
                                  fill_teacher_weights, weights_fingerprint)


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

    A frozen teacher loaded from ``teacher_ckpt`` is left out of the state
    dict, hence of every checkpoint: they hold the student, the connectors
    and a fingerprint of the teacher's weights (SHA-256 and the
    ``teacher_ckpt`` they came from: the buffer ``teacher_fingerprint``,
    JSON bytes). Loading such a
    checkpoint (``--resume``, ``load_from``) keeps the teacher rebuilt from
    ``teacher_ckpt`` and raises :class:`TeacherChangedError` when its
    fingerprint differs. Checkpoints that hold the teacher still load. A
    trainable teacher, or one without ``teacher_ckpt``, stays in the
    checkpoints. A NaN or infinite distillation
    loss raises ``FloatingPointError`` before the update; under DDP the
    logged losses are averaged over processes.

    The frozen teacher's forward can be made cheaper: ``teacher_autocast``
    runs it under ``torch.autocast`` (its recorded features are cast back to
    float32 for the connectors and losses), ``teacher_channels_last`` keeps
    its weights and input in channels-last memory format. Whether either
    helps depends on the device (``tools/benchmarks/overhead.py
    --teacher-modes`` measures it).

    Args:
        teacher (dict | BaseModel): The teacher's model dict, a
            ``dict(cfg_path=...)`` or a built model.
        teacher_ckpt (str, optional): Path or URL of the teacher checkpoint
            (an mmseg checkpoint of the teacher config). A frozen teacher
            needs it unless ``random_teacher=True``.
        random_teacher (bool): Allow a frozen teacher without
            ``teacher_ckpt``, for tests and smoke runs: it keeps random
            weights (its ImageNet initialisation is dropped, so nothing is
            downloaded). Defaults to False.
        teacher_autocast (str, optional): ``'bfloat16'`` or ``'float16'``:
            the frozen teacher's forward runs in that precision. Defaults
            to None (float32).
        teacher_channels_last (bool): Channels-last frozen teacher.
            Defaults to False.
        **kwargs: The other arguments of ``SingleTeacherDistill``.
    """

    def __init__(self,
                 *args,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 random_teacher: bool = False,
                 teacher_autocast: Optional[str] = None,
                 teacher_channels_last: bool = False,
                 **kwargs) -> None:
        if teacher_autocast not in AUTOCAST_DTYPES:
            raise ValueError(
                f'teacher_autocast must be one of {list(AUTOCAST_DTYPES)}, '
                f'got {teacher_autocast!r}.')
        if teacher_ckpt and '://' not in teacher_ckpt \
                and not osp.isfile(teacher_ckpt):
            raise FileNotFoundError(
                f'Teacher checkpoint not found: {teacher_ckpt!r}. Train the '
                'teacher first, or set teacher_ckpt (e.g. --cfg-options '
                'model.teacher_ckpt=PATH) to an existing file or a URL.')
        teacher = _teacher_model_cfg(teacher)
        if not teacher_ckpt and not kwargs.get('teacher_trainable', False):
            if not random_teacher:
                raise ValueError(
                    'FrozenTeacherDistill: teacher_ckpt is not set, so the '
                    'frozen teacher would keep its config\'s initialisation '
                    '(ImageNet backbone weights, downloaded, or random ones) '
                    'and teach noise. Set the teacher\'s weights: '
                    'model.teacher_ckpt=PATH_OR_URL (tools/distill.py: '
                    '--teacher-checkpoint). For tests and smoke runs, '
                    'model.random_teacher=True keeps a random teacher.')
            teacher = _without_init(teacher)
        super().__init__(*args, teacher=teacher, **kwargs)
        _check_num_classes(self.student, self.teacher)
        if teacher_ckpt:
            load_teacher_checkpoint(self.teacher, teacher_ckpt)
            # keep the loaded weights when the runner initialises the model
            self.teacher._is_init = True
        if self.teacher_trainable and (teacher_autocast
                                       or teacher_channels_last):
            raise ValueError(
                'teacher_autocast and teacher_channels_last apply to a '
                'frozen teacher; unset them or set teacher_trainable=False.')
        self.teacher_autocast = teacher_autocast
        self.teacher_channels_last = teacher_channels_last
        if not self.teacher_trainable:
            summarize_frozen_teacher_log(
                sum(1 for _ in self.teacher.parameters()))
        if teacher_ckpt and not self.teacher_trainable:
            # what checkpoints keep instead of the teacher's weights
            self.register_buffer('teacher_fingerprint', encode_fingerprint(
                dict(sha256=weights_fingerprint(self.teacher),
                     teacher_ckpt=teacher_ckpt)))
            self._register_state_dict_hook(_leave_out_teacher)
            self.register_load_state_dict_pre_hook(_keep_own_teacher)
        if teacher_channels_last:
            self.teacher.to(memory_format=torch.channels_last)

    def teacher_forward(self, batch_inputs: torch.Tensor,
                        data_samples: Optional[List[BaseDataElement]]
                        ) -> None:
        """The frozen teacher's no-grad forward, recorded by the
        distiller's teacher recorders (float32, contiguous records)."""
        if self.teacher_channels_last:
            batch_inputs = batch_inputs.contiguous(
                memory_format=torch.channels_last)
        dtype = AUTOCAST_DTYPES[self.teacher_autocast]
        with self.distiller.teacher_recorders, self.distiller.deliveries:
            with torch.no_grad(), torch.autocast(
                    batch_inputs.device.type, dtype=dtype,
                    enabled=dtype is not None):
                self.teacher(batch_inputs, data_samples, mode='tensor')
            if dtype is not None or self.teacher_channels_last:
                # float32, standard layout: what losses written for the
                # default path expect (e.g. MMRazor's CWD uses .view())
                for recorder in \
                        self.distiller.teacher_recorders.recorders.values():
                    buffer = recorder.data_buffer
                    buffer[:] = [_as_default_tensor(d) for d in buffer]

    def loss(self,
             batch_inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None) -> Dict:
        """Student and distillation losses of one batch."""
        if self.teacher_trainable:
            return super().loss(batch_inputs, data_samples)
        losses = dict()
        self.distiller.set_deliveries_override(False)
        self.teacher_forward(batch_inputs, data_samples)
        self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries:
            if self.calculate_student_loss:
                student_losses = self.student(
                    batch_inputs, data_samples, mode='loss')
                losses.update(add_prefix(student_losses, 'student'))
            else:
                self.student(batch_inputs, data_samples, mode='tensor')
        if not self.distillation_stopped:
            distill_losses = self.distiller.compute_distill_losses()
            check_finite_losses(distill_losses, losses)
            losses.update(add_prefix(distill_losses, 'distill'))
        return losses

    def parse_losses(
        self, losses: Dict[str, torch.Tensor]
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """mmengine's ``parse_losses``, with the logged values averaged
        over processes (as mmseg 0.x did): under DDP the log then shows the
        losses of the whole batch, not of rank 0's share. The loss that is
        back-propagated stays this process's own."""
        loss, log_vars = super().parse_losses(losses)
        if get_world_size() > 1:
            log_vars = OrderedDict(
                (k, all_reduce_mean(v)) for k, v in log_vars.items())
        return loss, log_vars

    def train(self, mode: bool = True) -> 'FrozenTeacherDistill':
        """Set train mode, keeping a frozen teacher wholly in eval mode."""
        super().train(mode)
        if not self.teacher_trainable:
            self.teacher.eval()
        return self


#: ``teacher_autocast`` values and their dtypes.
AUTOCAST_DTYPES: Dict[Optional[str], Optional[torch.dtype]] = {
    None: None,
    'bfloat16': torch.bfloat16,
    'float16': torch.float16,
}


def _as_default_tensor(data):
    """``data`` (a tensor or a tuple/list of them) with floating tensors
    in float32 and contiguous (not channels-last)."""
    if isinstance(data, torch.Tensor):
        if data.is_floating_point():
            data = data.float()
        return data.contiguous()
    if isinstance(data, (tuple, list)):
        return type(data)(_as_default_tensor(d) for d in data)
    return data


def all_reduce_mean(value: torch.Tensor) -> torch.Tensor:
    """The mean of ``value`` over processes (a detached copy)."""
    value = value.detach().clone()
    all_reduce(value, op='mean')
    return value


def check_finite_losses(distill_losses: Dict[str, torch.Tensor],
                        student_losses: Dict[str, torch.Tensor]) -> None:
    """Raise a ``FloatingPointError`` naming the iteration, the layers and
    every loss term when a distillation loss is NaN or infinite.

    It is raised before the backward pass, so no weight is touched and the
    last checkpoint in the work dir is the last good state.
    """
    bad = [k for k, v in distill_losses.items()
           if not torch.isfinite(v).all()]
    if not bad:
        return
    iteration = MessageHub.get_current_instance().get_info('iter')
    terms = {
        k: float(v.detach().float().mean())
        for k, v in {**student_losses, **distill_losses}.items()
        if isinstance(v, torch.Tensor) and 'loss' in k
    }
    raise FloatingPointError(
        f'Non-finite distillation loss at iteration '
        f'{"?" if iteration is None else iteration + 1}: {bad}; loss terms: '
        f'{terms}. Training stopped before the update: the last checkpoint '
        'in the work dir is the last good state. Lower the learning rate or '
        'the loss weights, check the teacher checkpoint and the data, then '
        'resume with --resume.')


def _leave_out_teacher(module: FrozenTeacherDistill, state: Dict,
                       prefix: str, local_metadata: Dict) -> None:
    """State-dict hook: no frozen teacher weights in the state dict."""
    drop_teacher_weights(state, prefix)


def _keep_own_teacher(module: FrozenTeacherDistill, state: Dict, prefix: str,
                      *args) -> None:
    """Load pre-hook: a state dict without teacher weights (a lean
    checkpoint) keeps the teacher loaded from ``teacher_ckpt``, after its
    fingerprint is checked (``TeacherChangedError``); one without a
    fingerprint (older checkpoints, which hold the teacher) is not
    checked."""
    key = prefix + 'teacher_fingerprint'
    own = module.teacher_fingerprint
    if key in state:
        check_fingerprint(decode_fingerprint(state[key]),
                          decode_fingerprint(own))
    state[key] = own
    fill_teacher_weights(module.teacher, state, prefix)


def _teacher_model_cfg(
        teacher: Union[BaseModel, Dict]) -> Union[BaseModel, Dict]:
    """Turn ``dict(cfg_path=<config>)`` (a local file, ``'mmseg::...'`` or
    ``'attnfd_mm::...'``) into that config's model dict, scoped as the
    config is; other keys of the dict (MMRazor's ``pretrained``) are
    dropped: the weights come from ``teacher_ckpt``."""
    if not isinstance(teacher, dict) or 'type' in teacher:
        return teacher
    cfg_path = teacher.get('cfg_path')
    if cfg_path is None:
        return teacher
    if '::' in cfg_path:
        from mmengine.hub import get_config
        cfg = get_config(cfg_path)
        model = cfg.model
        model.setdefault('_scope_', cfg.get('default_scope', None) or
                         cfg_path.split('::')[0])
        return model
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


def _without_init(teacher: Union[BaseModel, Dict]) -> Union[BaseModel,
                                                            Dict]:
    """A teacher dict that downloads no initialisation (random weights)."""
    if not isinstance(teacher, dict):
        return teacher
    teacher = copy.deepcopy(teacher)
    if teacher.get('pretrained'):
        teacher['pretrained'] = None
    if isinstance(teacher.get('backbone'), dict):
        teacher['backbone'].pop('init_cfg', None)
        if teacher['backbone'].get('pretrained'):
            teacher['backbone']['pretrained'] = None
    return teacher


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
