# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFD's distiller: recorders, connectors and losses from a layer list."""
import copy
import inspect
from typing import Dict, Optional, Sequence, Union

from mmrazor.registry import MODELS

from .checked_distiller import CheckedDistiller
from .layer_presets import resolve_layers


def _accepts(connector_type: str, arg: str) -> bool:
    """Whether the registered connector's ``__init__`` takes ``arg``."""
    cls = MODELS.get(connector_type)
    if cls is None:
        raise KeyError(f'Connector type {connector_type!r} is not registered '
                       'in MMRazor MODELS (is attnfd_mm imported?).')
    return arg in inspect.signature(cls.__init__).parameters


@MODELS.register_module()
class AttnFDDistiller(CheckedDistiller):
    """Distiller of `Attention-guided Feature Distillation for Semantic
    Segmentation <https://arxiv.org/abs/2403.05451>`_ (AttnFD, AAAI 2025).

    It expands a list of layers into MMRazor's recorders, connectors, losses
    and loss mappings. For each layer ``L`` of ``layers``:

    - recorders ``L`` on the student and teacher sources;
    - connectors ``L_s`` (``connector`` on the student feature, with
      ``out_channels`` = the teacher's channels when they differ and the
      connector can align channels) and ``L_t`` (``teacher_connector``);
    - a loss ``loss_attnfd_L`` (``loss``) between the two refined maps.

    Args:
        student_layers (str | dict): A preset of
            :data:`~attnfd_mm.models.distillers.ATTNFD_LAYER_PRESETS`
            (e.g. ``'deeplabv3_r18'``) or a dict of layer dicts
            ``dict(source=..., channels=..., recorder='ModuleOutputs',
            record_idx=0)`` by layer name.
        teacher_layers (str | dict): The same for the teacher.
        layers (Sequence[str]): The layers to distil. Defaults to
            ``('B', 'E')``, the layers of DeepLabV3 and PSPNet.
        connector (dict): Student-side connector. Defaults to a learnable
            ``CBAMConnector``.
        teacher_connector (dict): Teacher-side connector. Defaults to the
            parameter-free ``CBAMConnector(learnable=False)``.
        loss (dict): The loss of each layer. Defaults to
            ``AttnFDLoss(loss_weight=2.0)``. Unless set, ``detach_teacher``
            is False exactly when ``teacher_connector`` is learnable, so that
            a learnable teacher-side connector trains through the loss.
        **kwargs: Other arguments of ``ConfigurableDistiller``
            (e.g. ``init_cfg``).
    """

    def __init__(self,
                 student_layers: Union[str, Dict[str, Dict]],
                 teacher_layers: Union[str, Dict[str, Dict]],
                 layers: Sequence[str] = ('B', 'E'),
                 connector: Optional[Dict] = None,
                 teacher_connector: Optional[Dict] = None,
                 loss: Optional[Dict] = None,
                 **kwargs) -> None:
        connector = dict(connector or dict(type='CBAMConnector'))
        teacher_connector = dict(teacher_connector or dict(
            type='CBAMConnector', learnable=False))
        loss = dict(loss or dict(type='AttnFDLoss', loss_weight=2.0))
        if loss.get('type') == 'AttnFDLoss':
            loss.setdefault('detach_teacher',
                            not teacher_connector.get('learnable', False))
        student = resolve_layers(student_layers, 'student')
        teacher = resolve_layers(teacher_layers, 'teacher')
        if isinstance(layers, str) or not layers:
            raise ValueError(f'layers must be a non-empty list of layer '
                             f"names such as ['B', 'E'], got {layers!r}.")
        for side, table in (('student', student), ('teacher', teacher)):
            unknown = [name for name in layers if name not in table]
            if unknown:
                raise KeyError(
                    f'Layers {unknown} are not in {side}_layers; this model '
                    f'has {sorted(table)}. DeepLabV3 and PSPNet have no '
                    'layer D distinct from E.')
        kwargs.update(
            student_recorders={}, teacher_recorders={}, connectors={},
            distill_losses={}, loss_forward_mappings={})
        for name in layers:
            s_layer, t_layer = student[name], teacher[name]
            kwargs['student_recorders'][name] = dict(
                type=s_layer['recorder'], source=s_layer['source'])
            kwargs['teacher_recorders'][name] = dict(
                type=t_layer['recorder'], source=t_layer['source'])
            s_conn = dict(copy.deepcopy(connector),
                          in_channels=s_layer['channels'])
            if s_layer['channels'] != t_layer['channels'] and _accepts(
                    s_conn['type'], 'out_channels'):
                s_conn['out_channels'] = t_layer['channels']
            kwargs['connectors'][f'{name}_s'] = s_conn
            kwargs['connectors'][f'{name}_t'] = dict(
                copy.deepcopy(teacher_connector),
                in_channels=t_layer['channels'])
            kwargs['distill_losses'][f'loss_attnfd_{name}'] = copy.deepcopy(
                loss)
            kwargs['loss_forward_mappings'][f'loss_attnfd_{name}'] = dict(
                s_feature=self._mapping(name, s_layer, True),
                t_feature=self._mapping(name, t_layer, False))
        super().__init__(**kwargs)

    @staticmethod
    def _mapping(name: str, layer: Dict, from_student: bool) -> Dict:
        """The ``loss_forward_mappings`` entry of one side of a layer."""
        mapping = dict(
            recorder=name, from_student=from_student,
            record_idx=layer['record_idx'],
            connector=f'{name}_{"s" if from_student else "t"}')
        if layer['recorder'] in ('PreForwardInputs', 'ModuleInputs'):
            mapping['data_idx'] = 0
        return mapping
