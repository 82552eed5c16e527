# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Initial weights (``pretrained``, ``init_cfg``) checked before anything is
built or trained: offline downloads and missing files are named errors with
the key to set and the fix."""
import pytest
from conftest import load_tool
import torch
from mmengine.config import Config

from attnfd_mm.apis import (WeightsUnavailableError, check_init_weights,
                            distill_config)
from attnfd_mm.apis.init_weights import init_weight_files
from attnfd_mm.testing.tiny_configs import deeplabv3_segmentor

#: nothing listens there: refused at once, as offline
OFFLINE_URL = 'http://127.0.0.1:9/resnet18_v1c.pth'


def test_every_initial_weight_file_is_found_with_its_key():
    model = dict(
        type='EncoderDecoder', pretrained='open-mmlab://resnet18_v1c',
        backbone=dict(type='ResNetV1c', init_cfg=dict(
            type='Pretrained', checkpoint='torchvision://resnet18')),
        decode_head=dict(init_cfg=[
            dict(type='Normal', std=0.01),
            dict(type='Pretrained', checkpoint='head.pth', prefix='head')
        ]),
        teacher=dict(pretrained=None))
    assert list(init_weight_files(model)) == [
        ('model.pretrained', 'open-mmlab://resnet18_v1c'),
        ('model.backbone.init_cfg', 'torchvision://resnet18'),
        ('model.decode_head.init_cfg', 'head.pth'),
    ]
    # a frozen teacher's initial weights are read only when it has no
    # checkpoint to load
    algorithm = dict(type='FrozenTeacherDistill', teacher_ckpt='t.pth',
                     architecture=dict(pretrained='s.pth'),
                     teacher=dict(pretrained='t_init.pth'))
    assert list(init_weight_files(algorithm)) == [
        ('model.architecture.pretrained', 's.pth')]
    algorithm.update(type='mmrazor.FrozenTeacherDistill', teacher_ckpt=None,
                     teacher_trainable=True)
    assert list(init_weight_files(algorithm)) == [
        ('model.architecture.pretrained', 's.pth'),
        ('model.teacher.pretrained', 't_init.pth')]


def test_an_offline_student_download_is_named_with_the_fix():
    """The student's ImageNet weights of a distillation config: the key to
    set to None in the config and in the student config."""
    student = Config(dict(model=dict(deeplabv3_segmentor('r18'),
                                     pretrained=OFFLINE_URL)))
    cfg = distill_config(student, Config(dict(
        model=deeplabv3_segmentor('r18'))), 'kd', teacher_ckpt='t.pth')
    with pytest.raises(WeightsUnavailableError) as err:
        check_init_weights(cfg)
    message = str(err.value)
    assert message.startswith(
        f"model.architecture.pretrained = '{OFFLINE_URL}' cannot be loaded "
        '(URLError')
    assert '--cfg-options model.architecture.pretrained=None' in message
    assert '--cfg-options model.pretrained=None)' in message  # distill.py


def test_missing_and_present_local_files(tmp_path):
    cfg = Config(dict(model=dict(backbone=dict(init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'r18.pth'))))))
    with pytest.raises(WeightsUnavailableError,
                       match=r'model.backbone.init_cfg = .* \(no such file\)'
                       r'.*--cfg-options model.backbone.init_cfg=None\.$'):
        check_init_weights(cfg)
    torch.save({}, str(tmp_path / 'r18.pth'))
    check_init_weights(cfg)  # a file that is there passes


def test_distill_stops_before_the_teacher_loads(tmp_path, shapes_root):
    """tools/distill.py with an offline student download: the named error,
    before the teacher (here a file that does not exist) is read."""
    from attnfd_mm.testing.tiny_configs import tiny_runner_config
    tool = load_tool('tools/distill.py')
    student = tiny_runner_config('unused', shapes_root, dict(
        deeplabv3_segmentor('r18'), pretrained=OFFLINE_URL))
    student.dump(str(tmp_path / 'student.py'))
    Config(dict(model=deeplabv3_segmentor('r18'))).dump(
        str(tmp_path / 'teacher.py'))
    with pytest.raises(SystemExit, match=r'\[distill\] '
                       r'WeightsUnavailableError: model.architecture'
                       r'.pretrained'):
        tool.main([str(tmp_path / 'student.py'), str(tmp_path / 'teacher.py'),
                   '--teacher-checkpoint', str(tmp_path / 'none.pth'),
                   '--work-dir', str(tmp_path / 'w')])
