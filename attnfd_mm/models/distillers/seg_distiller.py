# Copyright (c) attnfd-mm contributors. All rights reserved.
"""``SegDistiller`` (feature and logits terms) and its ``CheckedDistiller``."""
import copy
import difflib
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmrazor.models.algorithms.base import LossResults
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.models.task_modules.recorder import (ModuleOutputsRecorder,
                                                  ParameterRecorder,
                                                  RecorderManager)
from mmrazor.registry import MODELS
from torch import Tensor, nn

from attnfd_mm.models.connectors import CBAMConnector
from attnfd_mm.models.losses import AttnFDLoss

from .layer_finder import ModelProbe, resolve_layers

#: A ``*_layers``/``*_logits`` value: the layers found in the built model.
AUTO = 'auto'
LOGITS = 'logits'  # the recorder name of the logits
Layers = Union[str, Dict[str, Dict]]
#: Decorator: run in the ``mmrazor`` scope (recorders, connectors, losses).
in_mmrazor_scope = DefaultScope.overwrite_default_scope('mmrazor')


def closest_names(name: str, candidates: List[str], n: int = 5) -> List[str]:
    """Up to ``n`` candidates close to ``name``, else sharing most parents."""
    close = difflib.get_close_matches(name, candidates, n=n, cutoff=0.4)
    parents = name.split('.')[:-1]
    shared = {c: len(osp.commonprefix([c.split('.')[:-1], parents]))
              for c in candidates}
    most = max(shared.values(), default=0)
    return close or [c for c in candidates if shared[c] == most][:n]


def check_recorder_sources(recorders: RecorderManager, model: nn.Module,
                           side: str) -> None:
    """Raise a ``KeyError`` naming recorders whose source is not in model."""
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


def recorder_cfg(layer: Dict) -> Dict:
    """The MMRazor recorder dict of a resolved layer dict."""
    cfg = dict(type=layer['recorder'], source=layer['source'])
    if layer['recorder'] == 'PreForwardInputs':
        cfg['copy_calls'] = [layer['record_idx']]
    cfg.update({k: layer[k] for k in ('path', 'train_path') if k in layer})
    return cfg


def record_mapping(recorder: str, layer: Dict, from_student: bool,
                   connector: Optional[str] = None) -> Dict:
    """The ``loss_forward_mappings`` entry reading ``layer``'s record."""
    mapping = dict(recorder=recorder, from_student=from_student,
                   record_idx=layer['record_idx'])
    if layer['recorder'] in ('PreForwardInputs', 'ModuleInputs'):
        mapping['data_idx'] = 0
    if connector is not None:
        mapping['connector'] = connector
    return mapping


def align_logits(preds_S: Tensor, preds_T: Tensor) -> Dict[str, Tensor]:
    """The student's logits resized to the teacher's; both contiguous (CWD)."""
    if preds_S.shape[-2:] != preds_T.shape[-2:]:
        preds_S = F.interpolate(preds_S, size=preds_T.shape[-2:],
                                mode='bilinear', align_corners=False)
    return dict(preds_S=preds_S.contiguous(), preds_T=preds_T.contiguous())


def check_settings(layers: Sequence[str], logits_loss: Optional[Dict],
                   logits_loss_name: str, logits: Dict) -> None:
    """Raise a ``ValueError`` naming a bad combination of settings."""
    if isinstance(layers, str) or LOGITS in layers or not (
            layers or logits_loss):
        raise ValueError(
            f"layers must be a list of feature layer names such as ['B', "
            f"'E'] (empty only with a logits_loss; set logits_loss to distil "
            f"the logits, 'logits' is not a feature layer), got {layers!r}.")
    if logits_loss is None:
        if any(v != AUTO for v in logits.values()):
            raise ValueError(
                'student_logits/teacher_logits are given but logits_loss is '
                "not: set logits_loss (e.g. dict(type='PixelKLDivergence', "
                'tau=1.0)) or drop them.')
        return
    for side, layer in logits.items():
        if layer is None:
            raise ValueError(
                f'logits_loss is set but no {side} logits layer was given; '
                f"set {side}_logits='auto' or a layer dict.")
    if 'loss' not in logits_loss_name or logits_loss_name.startswith(
            'loss_attnfd_'):
        raise ValueError(
            "The logits loss name must contain 'loss' (mmengine sums only "
            "those into the objective) and not start with 'loss_attnfd_' "
            f"(the feature terms), got {logits_loss_name!r}; e.g. 'loss_kd'.")


@MODELS.register_module(name=['SegDistiller', 'AttnFDDistiller'])
class SegDistiller(CheckedDistiller):
    """Feature and logits distillation between two mmseg segmentors; by
    default `AttnFD <https://arxiv.org/abs/2403.05451>`_, also registered as
    ``AttnFDDistiller`` (``docs/design.md``, The distiller).

    Args:
        student_layers (str | dict): ``'auto'``, a preset name or layer dicts
            by layer name (:func:`resolve_layers`). Defaults to ``'auto'``.
        teacher_layers (str | dict): The same for the teacher.
        layers (Sequence[str]): Feature layers, empty for logits only.
        connector (dict, optional): Student connector. Defaults to a
            learnable ``CBAMConnector``.
        teacher_connector (dict, optional): Defaults to a fixed CBAM.
        loss (dict, optional): Loss of each feature layer. Defaults to
            ``AttnFDLoss``, teacher detached unless its connector learns.
        logits_loss (dict, optional): A loss on ``preds_S, preds_T`` (KD).
        logits_loss_name (str): Its name. Defaults to ``'loss_kd'``.
        student_logits (str | dict): ``'auto'`` or the logits layer dict.
        teacher_logits (str | dict): The same for the teacher.
        probe_size (Sequence[int], optional): ``(H, W)`` of the probe.
        memory_efficient (bool): ``AttnFDLoss`` reads CBAM outputs as channel
            maps (same values). Defaults to True.
        **kwargs: Other arguments of ``ConfigurableDistiller``.

    Shapes: features ``(N, C, H, W)``, logits ``(N, K, H, W)``; channels and
    sizes may differ between student and teacher.
    """

    @in_mmrazor_scope
    def __init__(self, student_layers: Layers = AUTO,
                 teacher_layers: Layers = AUTO,
                 layers: Sequence[str] = ('B', 'E'),
                 connector: Optional[Dict] = None,
                 teacher_connector: Optional[Dict] = None,
                 loss: Optional[Dict] = None,
                 logits_loss: Optional[Dict] = None,
                 logits_loss_name: str = 'loss_kd',
                 student_logits: Optional[Layers] = AUTO,
                 teacher_logits: Optional[Layers] = AUTO,
                 probe_size: Optional[Sequence[int]] = None,
                 memory_efficient: bool = True, **kwargs) -> None:
        check_settings(layers, logits_loss, logits_loss_name,
                       dict(student=student_logits, teacher=teacher_logits))
        super().__init__(**kwargs)
        self.layer_names = list(layers)
        self.probe_size = probe_size
        self.memory_efficient = memory_efficient
        self.connector_cfg = dict(connector or dict(type='CBAMConnector'))
        self.teacher_connector_cfg = dict(teacher_connector or dict(
            type='CBAMConnector', learnable=False))
        self.loss_cfg = dict(loss or dict(type='AttnFDLoss', loss_weight=2.0))
        if self.loss_cfg['type'] == 'AttnFDLoss':
            self.loss_cfg.setdefault(
                'detach_teacher',
                not self.teacher_connector_cfg.get('learnable', False))
        self.logits_loss_cfg = copy.deepcopy(logits_loss)
        self.logits_loss_name = logits_loss_name
        # what is to be set per side: (feature layers, logits layer)
        self.given = {
            side: (features if layers else None,
                   logits if logits_loss is not None else None)
            for side, features, logits in (
                ('student', student_layers, student_logits),
                ('teacher', teacher_layers, teacher_logits))}
        self.resolved: Dict[str, Optional[Dict]] = dict.fromkeys(self.given)
        self.resolved_logits = dict(self.resolved)
        for side, given in self.given.items():
            if AUTO not in given:
                self._set_layers(side)

    @in_mmrazor_scope
    def prepare_side(self, side: str, model: nn.Module) -> None:
        """Find ``side``'s ``'auto'`` layers, then hook its recorders."""
        if self.resolved[side] is None:
            self._set_layers(side, model)
        super().prepare_side(side, model)

    def _set_layers(self, side: str,
                    model: Optional[nn.Module] = None) -> None:
        """Resolve ``side``'s layers and recorders; with both, the terms."""
        features, logits = self.given[side]
        if AUTO in (features, logits):  # one probe forward for both
            probe = ModelProbe(model, self.probe_size)
            features = probe.find_layers() if features == AUTO else features
            logits = probe.find_logits() if logits == AUTO else logits
        table = {} if features is None else resolve_layers(features, side)
        unknown = [name for name in self.layer_names if name not in table]
        if unknown:
            raise KeyError(
                f'Layers {unknown} are not in {side}_layers; this model '
                f'has {sorted(table)}. Only heads with a context module '
                'and a decoder (e.g. DeepLabV3+) have a layer D distinct '
                'from E.')
        self.resolved[side] = {name: table[name] for name in self.layer_names}
        recorders = {n: recorder_cfg(table[n]) for n in self.layer_names}
        if logits is not None:
            self.resolved_logits[side] = resolve_layers({LOGITS: logits},
                                                        side)[LOGITS]
            recorders[LOGITS] = recorder_cfg(self.resolved_logits[side])
        setattr(self, f'{side}_recorders', RecorderManager(recorders))
        if None not in self.resolved.values():
            self._build_terms()

    def _build_terms(self) -> None:
        """Connectors, losses and loss mappings of both sides' layers."""
        student, teacher = self.resolved['student'], self.resolved['teacher']
        connectors, losses, mappings = {}, {}, {}
        for name in self.layer_names:
            s_layer, t_layer = student[name], teacher[name]
            s_conn = dict(copy.deepcopy(self.connector_cfg),
                          in_channels=s_layer['channels'])
            if s_layer['channels'] != t_layer['channels']:
                s_conn['out_channels'] = t_layer['channels']
            connectors[f'{name}_s'] = s_conn
            connectors[f'{name}_t'] = dict(
                copy.deepcopy(self.teacher_connector_cfg),
                in_channels=t_layer['channels'])
            losses[f'loss_attnfd_{name}'] = copy.deepcopy(self.loss_cfg)
            mappings[f'loss_attnfd_{name}'] = dict(
                s_feature=record_mapping(name, s_layer, True, f'{name}_s'),
                t_feature=record_mapping(name, t_layer, False, f'{name}_t'))
        if self.logits_loss_cfg is not None:
            losses[self.logits_loss_name] = copy.deepcopy(
                self.logits_loss_cfg)
            mappings[self.logits_loss_name] = dict(
                preds_S=record_mapping(
                    LOGITS, self.resolved_logits['student'], True),
                preds_T=record_mapping(
                    LOGITS, self.resolved_logits['teacher'], False))
        self.connectors = self.build_connectors(connectors)
        self.distill_losses = self.build_distill_losses(losses)
        self._check_loss_forward_mappings(self.distill_losses, mappings,
                                          self.student_recorders,
                                          self.teacher_recorders)
        self.loss_forward_mappings = mappings

    def compute_distill_losses(self) -> LossResults:
        """Each loss of ``loss_forward_mappings`` on its connected records."""
        losses = {}
        for name, mapping in self.loss_forward_mappings.items():
            loss = self.distill_losses[name]
            as_map = self.memory_efficient and isinstance(loss, AttnFDLoss)
            inputs = {k: self._connected(v, as_map)
                      for k, v in mapping.items()}
            if name == self.logits_loss_name:
                inputs = align_logits(**inputs)
            losses[name] = loss(**inputs)
        return losses

    def _connected(self, record: Dict, as_map: bool) -> Tensor:
        """The record through its connector (``as_map``: as a channel map)."""
        connector = self.connectors[record['connector']] \
            if 'connector' in record else None
        if as_map and isinstance(connector, CBAMConnector):
            return connector.channel_map(
                self.get_record(**dict(record, connector=None)))
        return self.get_record(**record)


AttnFDDistiller = SegDistiller  # AttnFD: SegDistiller's defaults


@MODELS.register_module()
def LogitsDistiller(loss: Dict, loss_name: str = 'loss_kd',
                    **kwargs) -> SegDistiller:
    """:class:`SegDistiller` with one term, the logits loss ``loss`` named
    ``loss_name`` (e.g. KD, CWD); other arguments as :class:`SegDistiller`."""
    return SegDistiller(layers=(), logits_loss=loss,
                        logits_loss_name=loss_name, **kwargs)
