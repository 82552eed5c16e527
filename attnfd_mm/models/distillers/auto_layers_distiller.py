# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Base of the distillers whose layers may be found in the built models."""
from typing import Any, Dict, Optional, Sequence

from torch import nn

from .checked_distiller import CheckedDistiller, in_mmrazor_scope

#: A ``*_layers``/``*_logits`` value that finds the layers in the built
#: model (:func:`~attnfd_mm.models.distillers.find_layers`).
AUTO = 'auto'


def recorder_cfg(layer: Dict) -> Dict:
    """The MMRazor recorder dict of a resolved layer dict (a
    ``PreForwardInputs`` recorder copies only the call that is read)."""
    cfg = dict(type=layer['recorder'], source=layer['source'])
    if layer['recorder'] == 'PreForwardInputs':
        cfg['copy_calls'] = [layer['record_idx']]
    for key in ('path', 'train_path'):
        if key in layer:
            cfg[key] = layer[key]
    return cfg


def record_mapping(recorder: str, layer: Dict, from_student: bool,
                   connector: Optional[str] = None) -> Dict:
    """The ``loss_forward_mappings`` entry reading ``layer``'s record."""
    mapping = dict(
        recorder=recorder, from_student=from_student,
        record_idx=layer['record_idx'])
    if layer['recorder'] in ('PreForwardInputs', 'ModuleInputs'):
        mapping['data_idx'] = 0
    if connector is not None:
        mapping['connector'] = connector
    return mapping


class AutoLayersDistiller(CheckedDistiller):
    """``CheckedDistiller`` whose layers are given per side, or found in the
    student and teacher (``'auto'``) when the algorithm hands them over in
    ``prepare_from_student``/``prepare_from_teacher``, before their
    recorders are hooked.

    Subclasses implement :meth:`find_layers` (the layers of a built model)
    and :meth:`set_layers` (keep one side's layers and build what depends on
    them), and call :meth:`set_given_layers` at the end of ``__init__``.

    Args:
        probe_size (Sequence[int], optional): ``(H, W)`` of the probe input
            used by ``'auto'``. Defaults to 64x64, then the model's crop
            size.
        **kwargs: The arguments of ``ConfigurableDistiller``.
    """

    def __init__(self,
                 probe_size: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.probe_size = probe_size
        self.resolved: Dict[str, Optional[Any]] = dict(
            student=None, teacher=None)

    @in_mmrazor_scope
    def set_given_layers(self, student: Any, teacher: Any) -> None:
        """Set the sides not given as ``'auto'``."""
        for side, spec in (('student', student), ('teacher', teacher)):
            if spec != AUTO:
                self.set_layers(side, spec)

    def find_layers(self, model: nn.Module, side: str) -> Any:
        """The layers of ``side``'s built model, as :meth:`set_layers`
        takes them."""
        raise NotImplementedError

    def set_layers(self, side: str, layers: Any) -> None:
        """Keep ``side``'s layers in ``self.resolved`` and build what
        depends on them."""
        raise NotImplementedError

    @in_mmrazor_scope
    def prepare_from_student(self, model: nn.Module) -> None:
        """Find the student's layers if ``'auto'``, then hook them."""
        if self.resolved['student'] is None:
            self.set_layers('student', self.find_layers(model, 'student'))
        super().prepare_from_student(model)

    @in_mmrazor_scope
    def prepare_from_teacher(self, model: nn.Module) -> None:
        """Find the teacher's layers if ``'auto'``, then hook them."""
        if self.resolved['teacher'] is None:
            self.set_layers('teacher', self.find_layers(model, 'teacher'))
        super().prepare_from_teacher(model)
