# Copyright (c) attnfd-mm contributors. All rights reserved.
"""A distillation config from student and teacher configs and a method."""
import copy
from typing import Dict, List, Optional, Sequence, Union

from mmengine.config import Config, ConfigDict

from attnfd_mm.utils import without_init
from .config_files import load_config
from .methods import DEFAULT_METHOD, METHODS, check_method
from .runner_config import DEFAULT_SCOPE, dataset_dicts


def _scoped(model: Dict, scope: str) -> ConfigDict:
    model = ConfigDict(copy.deepcopy(dict(model)))
    model.setdefault('_scope_', scope)
    return model


def add_custom_import(cfg: Config) -> None:
    """Add ``attnfd_mm`` to ``cfg.custom_imports`` (failures not allowed)."""
    imports = dict(cfg.get('custom_imports') or {})
    names = list(imports.get('imports') or [])
    if 'attnfd_mm' not in names:
        names.append('attnfd_mm')
    imports.update(imports=names, allow_failed_imports=False)
    cfg.custom_imports = imports


def add_custom_hook(cfg: Config, hook: Dict) -> None:
    """Append ``hook`` unless ``cfg.custom_hooks`` has one of its type."""
    hooks: List = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') == hook['type'] for h in hooks):
        hooks.append(hook)
    cfg.custom_hooks = hooks


def add_sample_checks(cfg: Config, skip_bad: bool = False) -> None:
    """Insert ``CheckSegSample`` (the last decode head's classes) first in
    every pipeline that loads annotations."""
    head = cfg.model.get('decode_head')
    if isinstance(head, (list, tuple)):  # cascade heads
        head = head[-1] if head else None
    if not isinstance(head, dict) or \
            not isinstance(head.get('num_classes'), int):
        return
    for dataset in dataset_dicts(cfg):
        pipeline = dataset.get('pipeline')
        types = [t.get('type') for t in pipeline] \
            if isinstance(pipeline, list) else []
        if 'LoadAnnotations' in types and 'CheckSegSample' not in types:
            pipeline.insert(0, ConfigDict(
                type='CheckSegSample', num_classes=head['num_classes'],
                ignore_index=head.get('ignore_index', 255),
                skip_bad=skip_bad))


def distill_config(student: Union[str, Config], teacher: Union[str, Config],
                   method: str = DEFAULT_METHOD,
                   teacher_ckpt: Optional[str] = None,
                   layers: Optional[Sequence[str]] = None,
                   skip_bad_samples: bool = False) -> Config:
    """The student config, its model distilled from the teacher's by
    ``method`` in a ``FrozenTeacherDistill`` (docs/design.md).

    Args:
        student: The student's config (Config, file, ``'mmseg::...'``).
        teacher: The teacher's config, the same kinds (only its ``model``).
        method: A key of :data:`METHODS` (``'student'``: no distillation).
        teacher_ckpt: The teacher's weights (path or URL; None: its init).
        layers: An AttnFD method's feature layers (default: the method's).
        skip_bad_samples: Log and skip bad samples instead of stopping.

    Raises:
        UnknownMethodError: ``method`` is not in :data:`METHODS`.
        ValueError: ``layers`` given to a method without feature layers.
    """
    row = check_method(method)
    if layers is not None and not row.feature_layers:
        raise ValueError(
            f'Layers {list(layers)} were given, but {method!r} distils no '
            'feature layers; drop them or use an AttnFD method '
            f'({[m for m, r in METHODS.items() if r.feature_layers]}).')
    cfg = load_config(student)
    add_custom_import(cfg)
    add_custom_hook(cfg, dict(type='RandomStateHook'))
    add_sample_checks(cfg, skip_bad_samples)
    if row.distiller is None:
        return cfg
    scope = cfg.get('default_scope', None) or DEFAULT_SCOPE
    teacher_cfg = load_config(teacher)
    if 'model' not in teacher_cfg:
        raise ValueError(f'The teacher config {teacher!r} defines no model.')
    student_model = _scoped(cfg.model, scope)
    teacher_model = _scoped(teacher_cfg.model,
                            teacher_cfg.get('default_scope', None) or scope)
    if teacher_ckpt:
        teacher_model = without_init(teacher_model)
    distiller = copy.deepcopy(row.distiller)
    if layers is not None:
        distiller['layers'] = list(layers)
    cfg.model = ConfigDict(
        _scope_='mmrazor', type='FrozenTeacherDistill',
        architecture=student_model,  # its preprocessor, not the top-level one
        data_preprocessor=dict(student_model.get('data_preprocessor', {}),
                               _scope_=scope),
        teacher=teacher_model, teacher_ckpt=teacher_ckpt, distiller=distiller)
    cfg.find_unused_parameters = True
    val_cfg = cfg.get('val_cfg', None)
    if val_cfg and val_cfg.get('type') in ('ValLoop', 'mmseg.ValLoop'):
        cfg.val_cfg = dict(type='mmrazor.SingleTeacherDistillValLoop')
    return cfg
