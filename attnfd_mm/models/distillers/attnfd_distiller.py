# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFD's distiller: recorders, connectors and losses from a layer list."""
import copy
import inspect
from typing import Dict, NamedTuple, Optional, Sequence, Union

from mmrazor.models.algorithms.base import LossResults
from mmrazor.models.task_modules.recorder import RecorderManager
from mmrazor.registry import MODELS
from torch import nn

from attnfd_mm.models.connectors import CBAMConnector
from attnfd_mm.models.losses import AttnFDLoss

from .auto_layers_distiller import (AUTO, AutoLayersDistiller,
                                    record_mapping, recorder_cfg)
from .layer_finder import find_layers, find_logits
from .layer_presets import resolve_layers
from .logits_distiller import logits_loss, logits_mapping

#: recorder name of the logits when ``logits_loss`` is set
LOGITS = 'logits'


class SideLayers(NamedTuple):
    """One side's layers: the feature layers (a preset name or layer dicts)
    and, with a logits loss, the logits layer dict (else None)."""
    features: Union[str, Dict[str, Dict]]
    logits: Optional[Dict] = None


def _accepts(connector_type: str, arg: str) -> bool:
    """Whether the registered connector's ``__init__`` takes ``arg``."""
    cls = MODELS.get(connector_type)
    if cls is None:
        raise KeyError(f'Connector type {connector_type!r} is not registered '
                       'in MMRazor MODELS (is attnfd_mm imported?).')
    return arg in inspect.signature(cls.__init__).parameters


@MODELS.register_module()
class AttnFDDistiller(AutoLayersDistiller):
    """Distiller of `Attention-guided Feature Distillation for Semantic
    Segmentation <https://arxiv.org/abs/2403.05451>`_ (AttnFD, AAAI 2025).

    It expands a list of layers into MMRazor's recorders, connectors, losses
    and loss mappings. For each layer ``L`` of ``layers``:

    - recorders ``L`` on the student and teacher sources;
    - connectors ``L_s`` (``connector`` on the student feature, with
      ``out_channels`` = the teacher's channels when they differ and the
      connector can align channels) and ``L_t`` (``teacher_connector``);
    - a loss ``loss_attnfd_L`` (``loss``) between the two refined maps.

    With ``'auto'`` layers (the default) the layers, channels included, are
    found in the built student or teacher when the algorithm hands it over
    (:func:`~attnfd_mm.models.distillers.find_layers`), so any pair of mmseg
    segmentors works without a layer table; the connectors are built then.

    With ``logits_loss`` (e.g. the KD baseline's ``KLDivergence``) a logit
    distillation term is added beside the AttnFD terms: the loss named
    ``logits_loss_name`` between the classifier outputs, found as in
    :class:`~attnfd_mm.models.distillers.LogitsDistiller` (the student's
    resized to the teacher's size where they differ).

    With ``memory_efficient=True`` (the default), a ``CBAMConnector`` hands
    an ``AttnFDLoss`` its output as a
    :class:`~attnfd_mm.models.losses.ChannelMap`
    (:meth:`CBAMConnector.channel_map`), which the loss reads a few channels
    at a time: the aligned student map and the refined teacher map are
    never held at full width, in the forward or the backward pass. The loss
    values are those of the connectors' outputs
    (``memory_efficient=False``) up to float rounding.

    Args:
        student_layers (str | dict): ``'auto'``, a preset of
            :data:`~attnfd_mm.models.distillers.ATTNFD_LAYER_PRESETS`
            (e.g. ``'deeplabv3_r18'``) or a dict of layer dicts
            ``dict(source=..., channels=..., recorder='ModuleOutputs',
            record_idx=0)`` by layer name. Defaults to ``'auto'``.
        teacher_layers (str | dict): The same for the teacher.
        layers (Sequence[str]): The layers to distil. Defaults to
            ``('B', 'E')``, the layers every supported model has.
        connector (dict): Student-side connector. Defaults to a learnable
            ``CBAMConnector``.
        teacher_connector (dict): Teacher-side connector. Defaults to the
            parameter-free ``CBAMConnector(learnable=False)``.
        loss (dict): The loss of each layer. Defaults to
            ``AttnFDLoss(loss_weight=2.0)``. Unless set, ``detach_teacher``
            is False exactly when ``teacher_connector`` is learnable, so that
            a learnable teacher-side connector trains through the loss.
        logits_loss (dict, optional): A loss taking ``preds_S, preds_T``
            on the logits, added to the AttnFD terms, e.g. ``dict(
            type='KLDivergence', tau=1.0, reduction='mean',
            loss_weight=num_classes)``. Defaults to None (AttnFD only).
        logits_loss_name (str): Its name in the logs (must contain
            ``'loss'``). Defaults to ``'loss_kd'``.
        student_logits (str | dict): ``'auto'`` or the student's logits
            layer dict ``dict(source='decode_head.conv_seg', channels=11)``;
            a dict needs ``logits_loss``.
        teacher_logits (str | dict): The same for the teacher.
        probe_size (Sequence[int], optional): ``(H, W)`` of the probe input
            used by ``'auto'``. Defaults to 64x64, then the model's crop
            size.
        memory_efficient (bool): Hand ``AttnFDLoss`` the ``CBAMConnector``
            outputs as channel maps (see above). Defaults to True.
        **kwargs: Other arguments of ``ConfigurableDistiller``
            (e.g. ``init_cfg``).

    Shapes:
        features: ``(N, C, H, W)`` per layer; logits: ``(N, num_classes, H,
        W)``. Channels and sizes may differ between student and teacher.
    """

    def __init__(self,
                 student_layers: Union[str, Dict[str, Dict]] = AUTO,
                 teacher_layers: Union[str, Dict[str, Dict]] = AUTO,
                 layers: Sequence[str] = ('B', 'E'),
                 connector: Optional[Dict] = None,
                 teacher_connector: Optional[Dict] = None,
                 loss: Optional[Dict] = None,
                 logits_loss: Optional[Dict] = None,
                 logits_loss_name: str = 'loss_kd',
                 student_logits: Union[str, Dict] = AUTO,
                 teacher_logits: Union[str, Dict] = AUTO,
                 probe_size: Optional[Sequence[int]] = None,
                 memory_efficient: bool = True,
                 **kwargs) -> None:
        if isinstance(layers, str) or not layers:
            raise ValueError(f'layers must be a non-empty list of layer '
                             f"names such as ['B', 'E'], got {layers!r}.")
        if LOGITS in layers:
            raise ValueError(f'{LOGITS!r} is not a feature layer; set '
                             'logits_loss to distil the logits.')
        if logits_loss is None and (student_logits != AUTO
                                    or teacher_logits != AUTO):
            raise ValueError(
                'student_logits/teacher_logits are given but logits_loss is '
                "not: set logits_loss (e.g. dict(type='KLDivergence', "
                "tau=1.0, reduction='mean', loss_weight=num_classes)) or "
                'drop them.')
        if logits_loss is not None and (
                'loss' not in logits_loss_name
                or logits_loss_name.startswith('loss_attnfd_')):
            raise ValueError(
                f'logits_loss_name must contain \'loss\' (mmengine sums '
                'only those into the objective) and not start with '
                f"'loss_attnfd_' (the feature terms), got "
                f"{logits_loss_name!r}; e.g. 'loss_kd'.")
        super().__init__(probe_size=probe_size, **kwargs)
        self.layer_names = list(layers)
        self.memory_efficient = memory_efficient
        self.connector_cfg = dict(connector or dict(type='CBAMConnector'))
        self.teacher_connector_cfg = dict(teacher_connector or dict(
            type='CBAMConnector', learnable=False))
        self.loss_cfg = dict(loss or dict(type='AttnFDLoss', loss_weight=2.0))
        if self.loss_cfg.get('type') == 'AttnFDLoss':
            self.loss_cfg.setdefault(
                'detach_teacher',
                not self.teacher_connector_cfg.get('learnable', False))
        self.logits_loss_cfg = copy.deepcopy(logits_loss)
        self.logits_loss_name = logits_loss_name
        # the logits are needed only with a logits loss
        needed = logits_loss is not None
        self.given = dict(
            student=SideLayers(student_layers, student_logits if needed
                               else None),
            teacher=SideLayers(teacher_layers, teacher_logits if needed
                               else None))
        self.resolved_logits: Dict[str, Optional[Dict]] = dict(
            student=None, teacher=None)
        self.set_given_layers(self._given('student'),
                              self._given('teacher'))

    def _given(self, side: str) -> Union[str, SideLayers]:
        """``side``'s layers as given, or ``'auto'`` if any part of them
        is to be found in the built model."""
        given = self.given[side]
        return AUTO if AUTO in given else given

    def find_layers(self, model: nn.Module, side: str) -> SideLayers:
        """B, E (and D), and the logits if needed, of ``side``'s built
        segmentor: the parts given as ``'auto'`` are found, the others kept
        as given."""
        features, logits = self.given[side]
        if features == AUTO:
            features = find_layers(model, self.probe_size)
        if logits == AUTO:
            logits = find_logits(model, self.probe_size)
        return SideLayers(features, logits)

    def set_layers(self, side: str,
                   layers: Union[str, Dict[str, Dict], SideLayers]) -> None:
        """Check and keep one side's layers (a preset or layer dicts, and
        the logits layer if needed), build its recorders and, once both
        sides are known, the connectors, losses and mappings."""
        if not isinstance(layers, SideLayers):
            layers = SideLayers(layers)
        if self.logits_loss_cfg is not None and layers.logits is None:
            raise ValueError(
                f'logits_loss is set but no {side} logits layer was given; '
                f"set {side}_logits='auto' or a layer dict.")
        table = resolve_layers(layers.features, side)
        unknown = [name for name in self.layer_names if name not in table]
        if unknown:
            raise KeyError(
                f'Layers {unknown} are not in {side}_layers; this model '
                f'has {sorted(table)}. Only heads with a context module '
                'and a decoder (e.g. DeepLabV3+) have a layer D distinct '
                'from E.')
        recorders = {
            name: recorder_cfg(table[name])
            for name in self.layer_names
        }
        if layers.logits is not None:
            self.resolved_logits[side] = resolve_layers(
                {LOGITS: layers.logits}, side)[LOGITS]
            recorders[LOGITS] = recorder_cfg(self.resolved_logits[side])
        self.resolved[side] = {name: table[name] for name in self.layer_names}
        setattr(self, f'{side}_recorders', RecorderManager(recorders))
        if all(self.resolved.values()):
            self._build_pair()

    def _build_pair(self) -> None:
        """Connectors, losses and loss mappings of every layer."""
        connectors, losses, mappings = {}, {}, {}
        for name in self.layer_names:
            s_layer = self.resolved['student'][name]
            t_layer = self.resolved['teacher'][name]
            s_conn = dict(copy.deepcopy(self.connector_cfg),
                          in_channels=s_layer['channels'])
            if s_layer['channels'] != t_layer['channels'] and _accepts(
                    s_conn['type'], 'out_channels'):
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
            mappings[self.logits_loss_name] = logits_mapping(
                self.resolved_logits['student'],
                self.resolved_logits['teacher'])
        self.connectors = self.build_connectors(connectors)
        self.distill_losses = self.build_distill_losses(losses)
        self._check_loss_forward_mappings(self.distill_losses, mappings,
                                          self.student_recorders,
                                          self.teacher_recorders)
        self.loss_forward_mappings = mappings

    def compute_distill_losses(self) -> LossResults:
        """The AttnFD term of each layer and, with ``logits_loss``, the
        logits term (student logits resized to the teacher's size)."""
        losses = {}
        for name, mapping in self.loss_forward_mappings.items():
            if self.logits_loss_cfg is not None and \
                    name == self.logits_loss_name:
                losses[name] = logits_loss(self, name)
                continue
            loss = self.distill_losses[name]
            as_map = self.memory_efficient and isinstance(loss, AttnFDLoss)
            losses[name] = loss(**{
                key: self._connected(record, as_map)
                for key, record in mapping.items()
            })
        return losses

    def _connected(self, record: Dict, as_map: bool):
        """The recorded feature of ``record`` through its connector; with
        ``as_map``, a ``CBAMConnector``'s output as its channel map."""
        record = dict(record)
        connector = self.connectors[record.pop('connector')]
        feature = self.get_record(**record)
        if as_map and isinstance(connector, CBAMConnector):
            return connector.channel_map(feature)
        return connector(feature)
