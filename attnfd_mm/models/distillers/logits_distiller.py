# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Logit distillation (KD, CWD, ...) between any two mmseg segmentors."""
from typing import Dict, Optional, Sequence, Union

import torch.nn.functional as F
from mmrazor.models.algorithms.base import LossResults
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.models.task_modules.recorder import RecorderManager
from mmrazor.registry import MODELS
from torch import Tensor, nn

from .auto_layers_distiller import (AUTO, AutoLayersDistiller,
                                    record_mapping, recorder_cfg)
from .layer_finder import find_logits
from .layer_presets import resolve_layers


def align_logits(preds_S: Tensor, preds_T: Tensor) -> Tensor:
    """The student's logits resized (bilinear) to the teacher's size, in
    the default memory layout (MMRazor's CWD reshapes with ``.view``)."""
    if preds_S.shape[-2:] != preds_T.shape[-2:]:
        preds_S = F.interpolate(
            preds_S, size=preds_T.shape[-2:], mode='bilinear',
            align_corners=False)
    return preds_S.contiguous()


def logits_mapping(student: Dict, teacher: Dict) -> Dict:
    """The ``loss_forward_mappings`` entry of a logits loss, reading the
    recorders named ``'logits'`` of resolved layer dicts."""
    return dict(
        preds_S=record_mapping('logits', student, True),
        preds_T=record_mapping('logits', teacher, False))


def logits_loss(distiller: ConfigurableDistiller, loss_name: str) -> Tensor:
    """``distiller``'s logits loss ``loss_name`` on the recorded logits, the
    student's resized to the teacher's size where they differ."""
    mapping = distiller.loss_forward_mappings[loss_name]
    preds_T = distiller.get_record(**mapping['preds_T'])
    preds_S = align_logits(distiller.get_record(**mapping['preds_S']),
                           preds_T)
    return distiller.distill_losses[loss_name](
        preds_S=preds_S, preds_T=preds_T.contiguous())


@MODELS.register_module()
class LogitsDistiller(AutoLayersDistiller):
    """Distil the classifier outputs (logits) of a teacher into a student.

    The logit baselines of AttnFD's comparison, for any pair of mmseg
    segmentors: Hinton KD (`Distilling the Knowledge in a Neural Network
    <https://arxiv.org/abs/1503.02531>`_, MMRazor's ``KLDivergence``) and
    CWD (`Channel-wise Knowledge Distillation for Dense Prediction
    <https://arxiv.org/abs/2011.13256>`_, MMRazor's
    ``ChannelWiseDivergence``), or any loss taking ``preds_S, preds_T``.
    With ``'auto'`` logits (the default) the output of the last decode
    head's ``conv_seg`` is found in each built model
    (:func:`~attnfd_mm.models.distillers.find_logits`). When the two maps
    differ in size (e.g. SegFormer at 1/4 vs a D8 ResNet at 1/8) the
    student's logits are resized (bilinear) to the teacher's.

    Args:
        loss (dict): The loss, e.g. ``dict(type='KLDivergence', tau=1.0,
            reduction='mean', loss_weight=19)``.
        loss_name (str): The loss's name in the logs (must contain
            ``'loss'``). Defaults to ``'loss_kd'``.
        student_logits (str | dict): ``'auto'`` or a layer dict
            ``dict(source='decode_head.conv_seg', channels=19)``.
        teacher_logits (str | dict): The same for the teacher.
        probe_size (Sequence[int], optional): ``(H, W)`` of the probe input
            used by ``'auto'``.
        **kwargs: Other arguments of ``ConfigurableDistiller``.

    Shapes:
        logits: ``(N, num_classes, H, W)``; ``H, W`` may differ between
        student and teacher.
    """

    def __init__(self,
                 loss: Dict,
                 loss_name: str = 'loss_kd',
                 student_logits: Union[str, Dict] = AUTO,
                 teacher_logits: Union[str, Dict] = AUTO,
                 probe_size: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        if 'loss' not in loss_name:
            raise ValueError(
                f"loss_name must contain 'loss' (mmengine sums only those "
                f"into the objective), got {loss_name!r}; e.g. 'loss_kd'.")
        super().__init__(
            probe_size=probe_size, distill_losses={loss_name: loss},
            **kwargs)
        self.loss_name = loss_name
        self.set_given_layers(student_logits, teacher_logits)

    def find_layers(self, model: nn.Module, side: str) -> Dict:
        """The logits layer of a built segmentor."""
        return find_logits(model, self.probe_size)

    def set_layers(self, side: str, layer: Dict) -> None:
        """Check and keep one side's logits layer, build its recorder and,
        once both sides are known, the loss mapping."""
        self.resolved[side] = resolve_layers(dict(logits=layer),
                                             side)['logits']
        layer = self.resolved[side]
        setattr(self, f'{side}_recorders',
                RecorderManager(dict(logits=recorder_cfg(layer))))
        if all(self.resolved.values()):
            mappings = {
                self.loss_name:
                logits_mapping(self.resolved['student'],
                               self.resolved['teacher'])
            }
            self._check_loss_forward_mappings(self.distill_losses, mappings,
                                              self.student_recorders,
                                              self.teacher_recorders)
            self.loss_forward_mappings = mappings

    def compute_distill_losses(self) -> LossResults:
        """The loss between the student's logits, resized to the teacher's
        size where they differ, and the teacher's."""
        return {self.loss_name: logits_loss(self, self.loss_name)}
