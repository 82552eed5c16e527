# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFD's distiller: recorders, connectors and losses from a layer list."""
import copy
import inspect
from typing import Dict, Optional, Sequence, Union

from mmrazor.models.task_modules.recorder import RecorderManager
from mmrazor.registry import MODELS
from torch import nn

from .auto_layers_distiller import (AUTO, AutoLayersDistiller,
                                    record_mapping, recorder_cfg)
from .layer_finder import find_layers
from .layer_presets import resolve_layers


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
        probe_size (Sequence[int], optional): ``(H, W)`` of the probe input
            used by ``'auto'``. Defaults to 64x64, then the model's crop
            size.
        **kwargs: Other arguments of ``ConfigurableDistiller``
            (e.g. ``init_cfg``).
    """

    def __init__(self,
                 student_layers: Union[str, Dict[str, Dict]] = AUTO,
                 teacher_layers: Union[str, Dict[str, Dict]] = AUTO,
                 layers: Sequence[str] = ('B', 'E'),
                 connector: Optional[Dict] = None,
                 teacher_connector: Optional[Dict] = None,
                 loss: Optional[Dict] = None,
                 probe_size: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        if isinstance(layers, str) or not layers:
            raise ValueError(f'layers must be a non-empty list of layer '
                             f"names such as ['B', 'E'], got {layers!r}.")
        super().__init__(probe_size=probe_size, **kwargs)
        self.layer_names = list(layers)
        self.connector_cfg = dict(connector or dict(type='CBAMConnector'))
        self.teacher_connector_cfg = dict(teacher_connector or dict(
            type='CBAMConnector', learnable=False))
        self.loss_cfg = dict(loss or dict(type='AttnFDLoss', loss_weight=2.0))
        if self.loss_cfg.get('type') == 'AttnFDLoss':
            self.loss_cfg.setdefault(
                'detach_teacher',
                not self.teacher_connector_cfg.get('learnable', False))
        self.set_given_layers(student_layers, teacher_layers)

    def find_layers(self, model: nn.Module) -> Dict[str, Dict]:
        """B, E (and D) of a built segmentor."""
        return find_layers(model, self.probe_size)

    def set_layers(self, side: str,
                   layers: Union[str, Dict[str, Dict]]) -> None:
        """Check and keep one side's layers (a preset or layer dicts),
        build its recorders and, once both sides are known, the connectors,
        losses and mappings."""
        table = resolve_layers(layers, side)
        unknown = [name for name in self.layer_names if name not in table]
        if unknown:
            raise KeyError(
                f'Layers {unknown} are not in {side}_layers; this model '
                f'has {sorted(table)}. Only heads with a context module '
                'and a decoder (e.g. DeepLabV3+) have a layer D distinct '
                'from E.')
        self.resolved[side] = {name: table[name] for name in self.layer_names}
        setattr(self, f'{side}_recorders', RecorderManager({
            name: recorder_cfg(layer)
            for name, layer in self.resolved[side].items()
        }))
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
        self.connectors = self.build_connectors(connectors)
        self.distill_losses = self.build_distill_losses(losses)
        self._check_loss_forward_mappings(self.distill_losses, mappings,
                                          self.student_recorders,
                                          self.teacher_recorders)
        self.loss_forward_mappings = mappings
