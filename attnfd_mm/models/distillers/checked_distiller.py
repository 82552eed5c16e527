# Copyright (c) attnfd-mm contributors. All rights reserved.
"""``ConfigurableDistiller`` that names bad recorder sources."""
import difflib
import functools
from typing import Callable, List, TypeVar

from mmengine.registry import DefaultScope
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.models.task_modules.recorder import (ModuleOutputsRecorder,
                                                  ParameterRecorder,
                                                  RecorderManager)
from mmrazor.registry import MODELS
from torch import nn

from ..recorders import PreForwardInputsRecorder


Method = TypeVar('Method', bound=Callable)


def in_mmrazor_scope(method: Method) -> Method:
    """Run ``method`` with ``mmrazor`` as the default registry scope.

    The recorders, connectors and losses a distiller builds live in
    MMRazor's registries; inside another default scope (an mmseg runner, a
    test that built an mmseg model first) their names would not be found.
    """

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        current = DefaultScope.get_current_instance()
        if current is not None and current.scope_name == 'mmrazor':
            return method(*args, **kwargs)
        with DefaultScope.overwrite_default_scope('mmrazor'):
            return method(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def closest_names(name: str, candidates: List[str], n: int = 5) -> List[str]:
    """Up to ``n`` names of ``candidates`` closest to ``name``."""
    close = difflib.get_close_matches(name, candidates, n=n, cutoff=0.4)
    if close:
        return close
    # Fall back on the names sharing the longest dotted prefix.
    parts = name.split('.')
    for depth in range(len(parts) - 1, 0, -1):
        prefix = '.'.join(parts[:depth]) + '.'
        shared = [c for c in candidates if c.startswith(prefix)]
        if shared:
            return shared[:n]
    return candidates[:n]


def check_recorder_sources(recorders: RecorderManager, model: nn.Module,
                           side: str) -> None:
    """Raise a ``KeyError`` naming every recorder whose ``source`` is not a
    module (or parameter) of ``model``, with the closest valid names."""
    modules = [n for n, _ in model.named_modules() if n]
    params = [n for n, _ in model.named_parameters()]
    problems = []
    for key, recorder in recorders.recorders.items():
        if isinstance(recorder,
                      (ModuleOutputsRecorder, PreForwardInputsRecorder)):
            valid, kind = modules, 'module'
        elif isinstance(recorder, ParameterRecorder):
            valid, kind = params, 'parameter'
        else:
            continue
        if recorder.source not in valid:
            problems.append(
                f'{side}_recorders[{key!r}]: source {recorder.source!r} is '
                f'not a {kind} of the {side} '
                f'({type(model).__name__}); closest valid names: '
                f'{closest_names(recorder.source, valid)}')
    if problems:
        raise KeyError('\n'.join(problems) +
                       '\nFix the source names in the distiller config.')


@MODELS.register_module()
class CheckedDistiller(ConfigurableDistiller):
    """MMRazor's ``ConfigurableDistiller`` with named errors.

    Before hooking its recorders into the student and the teacher, it checks
    that every module or parameter recorder points at an existing name and,
    if not, lists the closest valid names (MMRazor only asserts). Everything
    else is ``ConfigurableDistiller``'s, built in the ``mmrazor`` registry
    scope whatever the caller's default scope.
    """

    @in_mmrazor_scope
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)

    def prepare_from_student(self, model: nn.Module) -> None:
        """Check the student recorders' sources, then hook them."""
        check_recorder_sources(self.student_recorders, model, 'student')
        super().prepare_from_student(model)

    def prepare_from_teacher(self, model: nn.Module) -> None:
        """Check the teacher recorders' sources, then hook them."""
        check_recorder_sources(self.teacher_recorders, model, 'teacher')
        super().prepare_from_teacher(model)
