# Copyright (c) attnfd-mm contributors. All rights reserved.
"""``ConfigurableDistiller`` that names bad recorder sources."""
import difflib
import os.path as osp
from typing import List

from mmengine.registry import DefaultScope
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.models.task_modules.recorder import (ModuleOutputsRecorder,
                                                  ParameterRecorder,
                                                  RecorderManager)
from mmrazor.registry import MODELS
from torch import nn


#: Decorator: run a method in the ``mmrazor`` registry scope, where a
#: distiller's recorders, connectors and losses are found.
in_mmrazor_scope = DefaultScope.overwrite_default_scope('mmrazor')


def closest_names(name: str, candidates: List[str], n: int = 5) -> List[str]:
    """Up to ``n`` of ``candidates`` close to ``name``, else sharing its
    longest dotted parent path."""
    close = difflib.get_close_matches(name, candidates, n=n, cutoff=0.4)
    parents = name.split('.')[:-1]
    shared = {c: len(osp.commonprefix([c.split('.')[:-1], parents]))
              for c in candidates}
    most = max(shared.values(), default=0)
    return close or [c for c in candidates if shared[c] == most][:n]


def check_recorder_sources(recorders: RecorderManager, model: nn.Module,
                           side: str) -> None:
    """Raise a ``KeyError`` naming each recorder whose ``source`` is not in
    ``model``."""
    modules = [n for n, _ in model.named_modules() if n]
    params = [n for n, _ in model.named_parameters()]
    problems = []
    for key, recorder in recorders.recorders.items():
        if isinstance(recorder, ModuleOutputsRecorder):
            valid, kind = modules, 'module'
        elif isinstance(recorder, ParameterRecorder):
            valid, kind = params, 'parameter'
        else:
            continue
        if recorder.source not in valid:
            problems.append(
                f'{side}_recorders[{key!r}]: source {recorder.source!r} is '
                f'not a {kind} of the {side} ({type(model).__name__}); '
                'closest valid names: '
                f'{closest_names(recorder.source, valid)}')
    if problems:
        raise KeyError('\n'.join(problems) +
                       '\nFix the source names in the distiller config.')


@MODELS.register_module()
class CheckedDistiller(ConfigurableDistiller):
    """MMRazor's ``ConfigurableDistiller``, built in the ``mmrazor`` scope,
    that names bad recorder sources (:func:`check_recorder_sources`)."""

    __init__ = in_mmrazor_scope(ConfigurableDistiller.__init__)

    def prepare_from_student(self, model: nn.Module) -> None:
        self.prepare_side('student', model)

    def prepare_from_teacher(self, model: nn.Module) -> None:
        self.prepare_side('teacher', model)

    def prepare_side(self, side: str, model: nn.Module) -> None:
        """Check the ``side`` recorders' sources, then hook them."""
        recorders = getattr(self, f'{side}_recorders')
        check_recorder_sources(recorders, model, side)
        recorders.initialize(model)
