# Copyright (c) attnfd-mm contributors. All rights reserved.
"""attnfd_mm.apis.distill_config: the composed config, the method files
against the repository's own configs, and the named errors."""
import os.path as osp

import pytest
from mmengine.config import Config

from attnfd_mm.apis import UnknownMethodError, distill_config, method_label
from attnfd_mm.testing.tiny_configs import (deeplabv3_segmentor,
                                            tiny_runner_config)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _config(name: str) -> Config:
    return Config.fromfile(osp.join(ROOT, 'configs', name))


@pytest.fixture()
def pair(tmp_path, shapes_root):
    """A tiny student runner config and a teacher config, as files."""
    student = tiny_runner_config(str(tmp_path / 'w'), shapes_root,
                                 deeplabv3_segmentor('r18'))
    student.val_cfg = dict(type='ValLoop')
    teacher = Config(dict(model=deeplabv3_segmentor('r50')))
    teacher.model.pretrained = 'open-mmlab://resnet50_v1c'
    paths = str(tmp_path / 'student.py'), str(tmp_path / 'teacher.py')
    student.dump(paths[0])
    teacher.dump(paths[1])
    return paths


def test_composed_config_holds_student_teacher_and_method(pair):
    student, teacher = pair
    cfg = distill_config(student, teacher, 'attnfd_kd',
                         teacher_ckpt='teacher.pth')
    model = cfg.model
    assert model.type == 'FrozenTeacherDistill'
    assert model._scope_ == 'mmrazor'
    # the student model whole, its data and schedule kept
    original = Config.fromfile(student)
    assert model.architecture.backbone == original.model.backbone
    assert model.architecture._scope_ == 'mmseg'
    assert model.data_preprocessor == dict(
        original.model.data_preprocessor, _scope_='mmseg')
    # the pipelines check their samples' files first
    for split in ('train', 'val', 'test'):
        pipeline = cfg[f'{split}_dataloader'].dataset.pipeline
        assert pipeline.pop(0) == dict(type='CheckSegSample', num_classes=4,
                                       ignore_index=255, skip_bad=False)
    assert cfg.train_dataloader == original.train_dataloader
    assert cfg.param_scheduler == original.param_scheduler
    # the teacher's model, its ImageNet init dropped (the checkpoint loads)
    assert model.teacher.backbone.depth == 50
    assert model.teacher.pretrained is None
    assert model.teacher_ckpt == 'teacher.pth'
    # the method: AttnFD per-image norm weight 8 + pixel-wise KD
    assert model.distiller == dict(
        type='AttnFDDistiller', layers=['B', 'E'],
        loss=dict(type='AttnFDLoss', loss_weight=8.0, normalize='sample'),
        logits_loss=dict(type='PixelKLDivergence', tau=1.0),
        logits_loss_name='loss_kd')
    assert cfg.custom_imports.imports == ['attnfd_mm']
    assert {'type': 'RandomStateHook'} in cfg.custom_hooks
    assert cfg.val_cfg == dict(type='mmrazor.SingleTeacherDistillValLoop')
    assert cfg.find_unused_parameters is True


def test_student_method_is_the_student_config(pair):
    student, teacher = pair
    cfg = distill_config(student, teacher, 'student')
    original = Config.fromfile(student)
    assert cfg.model == original.model
    assert cfg.custom_hooks == [dict(type='RandomStateHook')]


def test_layers_and_their_errors(pair):
    student, teacher = pair
    cfg = distill_config(student, teacher, 'attnfd', teacher_ckpt='t.pth',
                         layers=['B', 'E', 'D'])
    assert cfg.model.distiller.layers == ['B', 'E', 'D']
    assert cfg.model.distiller.loss == dict(
        type='AttnFDLoss', loss_weight=2.0, normalize='batch')
    with pytest.raises(ValueError, match="'kd' distils no feature layers"):
        distill_config(student, teacher, 'kd', layers=['B'])
    with pytest.raises(UnknownMethodError, match="'atnfd'.*valid methods"):
        distill_config(student, teacher, 'atnfd')
    assert method_label('attnfd_kd', ['B', 'E', 'D']) == \
        'AttnFD (B+E+D) + KD'


@pytest.mark.parametrize('method,config', [
    ('kd', 'baselines/kd_deeplabv3_r101_r18_camvid.py'),
    ('cwd', 'baselines/cwd_deeplabv3_r101_r18_camvid.py'),
    ('attnfd', 'attnfd/deeplabv3_r101_r18_camvid.py'),
    ('attnfd_sample', 'ablations/loss_normalize_sample_camvid.py'),
    ('attnfd_sample_w8', 'ablations/loss_normalize_sample_w8_camvid.py'),
    ('attnfd_w16', 'ablations/loss_weight_16_camvid.py'),
    ('attnfd_tcbam', 'ablations/teacher_cbam_learnable_camvid.py'),
    ('attnfd_kd', 'attnfd_kd/attnfd_kd_deeplabv3_r101_r18_camvid.py'),
])
def test_methods_match_the_repository_configs(method, config, pair):
    """Each method composes the distiller its CamVid config holds (the
    configs name presets where the composed one finds the same layers,
    'auto': tests/test_layer_finder.py)."""
    written = _config(config).model.distiller.to_dict()
    for key in ('student_layers', 'teacher_layers'):
        written.pop(key, None)
    composed = distill_config(*pair, method, teacher_ckpt='t.pth')
    assert composed.model.distiller.to_dict() == written
