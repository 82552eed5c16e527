# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Checks that stop a distillation model with a message naming the fix."""
from typing import Dict

import torch
from mmengine.logging import MessageHub


def check_num_classes(student: torch.nn.Module,
                      teacher: torch.nn.Module) -> None:
    """Raise a ``ValueError`` unless both segmentors' decode heads predict
    the same number of classes (a model without one is not checked)."""
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
    """Raise a ``FloatingPointError`` naming the iteration, the layers and
    every loss term when a distillation loss is NaN or infinite."""
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
