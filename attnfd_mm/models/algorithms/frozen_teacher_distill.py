# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Single-teacher distillation with a teacher frozen in eval mode."""
import os.path as osp
from typing import Dict, List, Optional

import torch
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

    Args:
        teacher_ckpt (str, optional): Path or URL of the teacher checkpoint.
            A local path that does not exist raises ``FileNotFoundError``
            before anything is built.
        **kwargs: The arguments of ``SingleTeacherDistill``.
    """

    def __init__(self, *args, teacher_ckpt: Optional[str] = None,
                 **kwargs) -> None:
        if teacher_ckpt and '://' not in teacher_ckpt \
                and not osp.isfile(teacher_ckpt):
            raise FileNotFoundError(
                f'Teacher checkpoint not found: {teacher_ckpt!r}. Train the '
                'teacher first, or set teacher_ckpt (e.g. --cfg-options '
                'model.teacher_ckpt=PATH) to an existing file or a URL.')
        super().__init__(*args, teacher_ckpt=teacher_ckpt, **kwargs)

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
