# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Single-teacher distillation with a frozen teacher, and its checks."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.dist import all_reduce_dict
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmengine.utils import apply_to
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS

from attnfd_mm.utils import without_init
from .frozen_teacher_log import summarize_frozen_teacher_log
from .teacher_checkpoint import (load_teacher_checkpoint,
                                 make_checkpoints_lean, teacher_model_cfg)

#: ``teacher_autocast`` values and their dtypes.
AUTOCAST_DTYPES: Dict[Optional[str], Optional[torch.dtype]] = {
    None: None, 'bfloat16': torch.bfloat16, 'float16': torch.float16}


@MODELS.register_module()
class FrozenTeacherDistill(SingleTeacherDistill):
    """``SingleTeacherDistill`` whose frozen teacher stays in eval mode and
    runs in ``'tensor'`` mode without grad (``docs/design.md``).

    Args:
        teacher (dict | BaseModel): A model dict, ``dict(cfg_path=...)`` or
            a built model.
        teacher_ckpt (str, optional): Path or URL of the teacher's weights;
            a frozen teacher needs it unless ``random_teacher``.
        random_teacher (bool): Allow a random frozen teacher (tests).
        teacher_autocast (str, optional): ``'bfloat16'``, ``'float16'`` or
            None (float32) for the frozen teacher.
        teacher_channels_last (bool): Channels-last frozen teacher.
        **kwargs: The other arguments of ``SingleTeacherDistill``.
    """

    def __init__(self, *args, teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 random_teacher: bool = False,
                 teacher_autocast: Optional[str] = None,
                 teacher_channels_last: bool = False, **kwargs) -> None:
        if teacher_autocast not in AUTOCAST_DTYPES:
            raise ValueError(
                f'teacher_autocast must be one of {list(AUTOCAST_DTYPES)}, '
                f'got {teacher_autocast!r}.')
        frozen = not kwargs.get('teacher_trainable', False)
        if not frozen and (teacher_autocast or teacher_channels_last):
            raise ValueError(
                'teacher_autocast and teacher_channels_last apply to a '
                'frozen teacher; unset them or set teacher_trainable=False.')
        teacher = teacher_model_cfg(teacher)
        if frozen and not teacher_ckpt:
            if not random_teacher:
                raise ValueError(
                    'FrozenTeacherDistill: teacher_ckpt is not set, so the '
                    'frozen teacher would keep its config\'s initialisation '
                    '(ImageNet backbone weights, downloaded, or random ones) '
                    'and teach noise. Set the teacher\'s weights: '
                    'model.teacher_ckpt=PATH_OR_URL (tools/distill.py: '
                    '--teacher-checkpoint). For tests and smoke runs, '
                    'model.random_teacher=True keeps a random teacher.')
            teacher = without_init(teacher)
        super().__init__(*args, teacher=teacher, **kwargs)
        check_num_classes(self.student, self.teacher)
        if teacher_ckpt:
            load_teacher_checkpoint(self.teacher, teacher_ckpt)
            # keep the loaded weights when the runner initialises the model
            self.teacher._is_init = True
        self.teacher_autocast = teacher_autocast
        self.teacher_channels_last = teacher_channels_last
        if frozen:
            summarize_frozen_teacher_log(len(list(self.teacher.parameters())))
        if frozen and teacher_ckpt:
            make_checkpoints_lean(self, teacher_ckpt)
        if teacher_channels_last:
            self.teacher.to(memory_format=torch.channels_last)

    def teacher_forward(self, batch_inputs: torch.Tensor,
                        data_samples: Optional[List[BaseDataElement]]) -> None:
        """The frozen teacher's recorded no-grad forward."""
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
                # contiguous float32, as losses expect (CWD uses .view())
                for rec in self.distiller.teacher_recorders.recorders.values():
                    rec.data_buffer[:] = apply_to(
                        rec.data_buffer, torch.is_tensor,
                        lambda t: (t.float() if t.is_floating_point()
                                   else t).contiguous())

    def loss(self, batch_inputs: torch.Tensor,
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

    def parse_losses(self, losses: Dict[str, torch.Tensor]
                     ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """``parse_losses`` with the logged values averaged over processes."""
        loss, log_vars = super().parse_losses(losses)
        with torch.no_grad():  # new tensors: the loss stays this process's
            all_reduce_dict(log_vars, op='mean')
        return loss, log_vars

    def train(self, mode: bool = True) -> 'FrozenTeacherDistill':
        """Set train mode, keeping a frozen teacher wholly in eval mode."""
        super().train(mode)
        if not self.teacher_trainable:
            self.teacher.eval()
        return self


def check_num_classes(student: torch.nn.Module,
                      teacher: torch.nn.Module) -> None:
    """Raise a ``ValueError`` if the decode heads' ``num_classes`` differ."""
    s_classes, t_classes = (
        getattr(getattr(model, 'decode_head', None), 'num_classes', None)
        for model in (student, teacher))
    if None not in (s_classes, t_classes) and s_classes != t_classes:
        raise ValueError(
            f'The teacher predicts {t_classes} classes but the student '
            f'{s_classes}: distil a teacher trained on the same dataset, or '
            'set num_classes of both decode heads to the dataset\'s.')


def check_finite_losses(distill_losses: Dict[str, torch.Tensor],
                        student_losses: Dict[str, torch.Tensor]) -> None:
    """Raise a ``FloatingPointError`` if a distillation loss is not finite."""
    bad = [k for k, v in distill_losses.items() if not torch.isfinite(v).all()]
    if not bad:
        return
    iteration = MessageHub.get_current_instance().get_info('iter')
    terms = {k: float(v.detach().float().mean())
             for k, v in {**student_losses, **distill_losses}.items()
             if isinstance(v, torch.Tensor) and 'loss' in k}
    raise FloatingPointError(
        f'Non-finite distillation loss at iteration '
        f'{"?" if iteration is None else iteration + 1}: {bad}; loss terms: '
        f'{terms}. Training stopped before the update: the last checkpoint '
        'in the work dir is the last good state. Lower the learning rate or '
        'the loss weights, check the teacher checkpoint and the data, then '
        'resume with --resume.')
