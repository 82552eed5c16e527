# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Checkpoints of a frozen teacher leave its weights out and carry its
fingerprint; resuming rebuilds the teacher and refuses another one; the
student is exported at the end of training."""
import hashlib
import json
import os.path as osp

import pytest
import torch
from conftest import run_tool
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import get_state_dict
from mmseg.apis import init_model
from mmseg.registry import MODELS

from attnfd_mm.apis import build_runner, train
from attnfd_mm.models.algorithms import (TeacherChangedError,
                                         decode_fingerprint)
from attnfd_mm.testing import tiny_distill_model, tiny_runner_config
from attnfd_mm.testing.tiny_configs import deeplabv3_segmentor

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _save_teacher(path, seed: int = 1) -> dict:
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmseg'):
        teacher = MODELS.build(deeplabv3_segmentor('r18'))
    teacher.init_weights()
    state = teacher.state_dict()
    torch.save(dict(state_dict=state), str(path))
    return state


def _sha256(state: dict) -> str:
    """The fingerprint, computed here on its own: key, dtype and raw bytes
    of every tensor, in key order."""
    digest = hashlib.sha256()
    for key in sorted(state):
        tensor = state[key].contiguous()
        digest.update(key.encode())
        digest.update(str(tensor.dtype).encode())
        digest.update(bytes(tensor.reshape(-1).view(torch.uint8).tolist()))
    return digest.hexdigest()


def _cfg(tmp_path, shapes_root, iters, work='w', **model_kwargs):
    model = tiny_distill_model('r18', 'r18', 'FrozenTeacherDistill',
                               teacher_ckpt=str(tmp_path / 'teacher.pth'))
    model.update(model_kwargs)
    cfg = tiny_runner_config(str(tmp_path / work), shapes_root, model,
                             max_iters=iters, checkpoint_interval=2)
    cfg.visualizer = dict(type='Visualizer', name=f'vis_{work}_{iters}')
    return cfg


def _load(path):
    return CheckpointLoader.load_checkpoint(str(path), map_location='cpu')


def _build(tmp_path, **kwargs):
    model = tiny_distill_model('r18', 'r18', 'FrozenTeacherDistill',
                               teacher_ckpt=str(tmp_path / 'teacher.pth'))
    model.update(kwargs)
    with DefaultScope.overwrite_default_scope('mmrazor'):
        return MODELS.build(model)


def test_state_dicts_leave_the_teacher_out_and_both_kinds_load(tmp_path):
    teacher = _save_teacher(tmp_path / 'teacher.pth')
    algo = _build(tmp_path)
    for state in (algo.state_dict(), get_state_dict(algo)):  # as the runner
        assert not [k for k in state if k.startswith('teacher.')]
        assert decode_fingerprint(state['teacher_fingerprint']) == dict(
            sha256=_sha256(teacher),
            teacher_ckpt=str(tmp_path / 'teacher.pth'))
    lean = algo.state_dict()
    student = {k: v.clone() for k, v in lean.items()
               if k.startswith('architecture.')}
    assert student
    torch.manual_seed(3)  # another student, the same teacher
    other = _build(tmp_path)
    assert not all(torch.equal(other.state_dict()[k], v)
                   for k, v in student.items())
    # a lean state dict: the student loads, the teacher stays the file's
    other.load_state_dict(lean, strict=True)
    for key, value in student.items():
        assert torch.equal(other.state_dict()[key], value), key
    for key, value in teacher.items():
        assert torch.equal(other.teacher.state_dict()[key], value), key
    # a full one (teacher weights, no fingerprint: written before lean
    # checkpoints) loads its teacher weights
    full = {k: v for k, v in lean.items() if k != 'teacher_fingerprint'}
    full.update(('teacher.' + k, torch.full_like(v, 2))
                for k, v in teacher.items())
    other.load_state_dict(full, strict=True)
    for key, value in teacher.items():
        assert torch.equal(other.teacher.state_dict()[key],
                           torch.full_like(value, 2)), key
    # a lean one of another teacher is refused
    _save_teacher(tmp_path / 'teacher.pth', seed=2)
    with pytest.raises(TeacherChangedError, match='the file changed since'):
        _build(tmp_path).load_state_dict(lean)


@pytest.mark.slow
def test_trainable_teacher_stays_in_the_checkpoint(tmp_path, shapes_root):
    _save_teacher(tmp_path / 'teacher.pth')
    cfg = _cfg(tmp_path, shapes_root, 2, teacher_trainable=True)
    build_runner(cfg).train()
    state = _load(tmp_path / 'w' / 'iter_2.pth')['state_dict']
    assert [k for k in state if k.startswith('teacher.')]
    assert 'teacher_fingerprint' not in state


def test_lean_checkpoint_resumes_losslessly_and_refuses_another_teacher(
        tmp_path, shapes_root):
    teacher = _save_teacher(tmp_path / 'teacher.pth')
    # uninterrupted: 4 iterations
    whole = build_runner(_cfg(tmp_path, shapes_root, 4, work='whole'))
    whole.train()
    # its checkpoints: no teacher weights, the teacher's fingerprint
    ckpt = _load(tmp_path / 'whole' / 'iter_4.pth')
    keys = set(ckpt['state_dict'])
    assert not [k for k in keys if k.startswith('teacher.')]
    assert any(k.startswith('architecture.') for k in keys)
    assert any(k.startswith('distiller.connectors.') for k in keys)
    assert {'optimizer', 'param_schedulers', 'message_hub'} <= set(ckpt)
    assert decode_fingerprint(ckpt['state_dict']['teacher_fingerprint']) \
        == dict(sha256=_sha256(teacher),
                teacher_ckpt=str(tmp_path / 'teacher.pth'))
    # the same schedule stopped after 2 iterations, then a new runner
    # resumes it to 4
    cut = _cfg(tmp_path, shapes_root, 4, work='cut')
    cut.train_cfg.max_iters = 2
    cut.visualizer.name = 'vis_cut_first'
    build_runner(cut).train()
    resumed = _cfg(tmp_path, shapes_root, 4, work='cut')
    resumed.resume = True
    runner = build_runner(resumed)
    runner.train()
    assert runner.iter == 4
    expected = _load(tmp_path / 'whole' / 'iter_4.pth')
    got = _load(tmp_path / 'cut' / 'iter_4.pth')
    assert set(got['state_dict']) == set(expected['state_dict'])
    for key, value in expected['state_dict'].items():
        torch.testing.assert_close(got['state_dict'][key], value, rtol=0,
                                   atol=1e-6, msg=key)
    # the teacher file changes: resuming is refused, naming it
    _save_teacher(tmp_path / 'teacher.pth', seed=2)
    again = _cfg(tmp_path, shapes_root, 6, work='cut')
    again.resume = True
    with pytest.raises(TeacherChangedError,
                       match=r"came from '.*teacher\.pth'.*the file "
                       r'changed since'):
        build_runner(again).train()


@pytest.mark.slow
def test_student_export_scores_as_the_distillation_checkpoint(
        tmp_path, shapes_root):
    _save_teacher(tmp_path / 'teacher.pth')
    cfg = _cfg(tmp_path, shapes_root, 2)
    train(cfg)
    student = tmp_path / 'w' / 'student.pth'
    exported = torch.load(str(student), weights_only=True)
    assert set(exported) == {'state_dict', 'meta'}
    assert exported['meta']['dataset_meta']['classes'] == (
        'background', 'square', 'disc', 'bar')
    # what mmseg loads
    model = init_model(Config(dict(model=deeplabv3_segmentor('r18'))),
                       str(student), device='cpu')
    assert set(model.state_dict()) == set(exported['state_dict'])
    # scored by tools/test.py: the student config with student.pth, and the
    # distillation config with its last checkpoint or with student.pth,
    # give the same metrics, without the teacher's file
    student_cfg = tiny_runner_config(str(tmp_path / 's'), shapes_root,
                                     deeplabv3_segmentor('r18'))
    student_cfg.dump(str(tmp_path / 'student.py'))
    cfg.dump(str(tmp_path / 'distill.py'))
    (tmp_path / 'teacher.pth').unlink()
    scores = []
    for config, ckpt, name in (
            ('student.py', student, 'a'),
            ('distill.py', tmp_path / 'w' / 'iter_2.pth', 'b'),
            ('distill.py', student, 'c')):
        out = run_tool([
            'tools/test.py', str(tmp_path / config), str(ckpt),
            '--work-dir', str(tmp_path / name), '--metrics-out',
            str(tmp_path / f'{name}.json')
        ], cwd=ROOT)
        assert out.returncode == 0, out.stderr[-3000:]
        scores.append(json.loads((tmp_path / f'{name}.json').read_text()))
    assert scores[0] == scores[1] == scores[2]
    assert 0 < scores[0]['mIoU'] <= 100
    # tools/convert_kd_ckpt_to_student.py reads the lean checkpoint too
    out = run_tool(['tools/convert_kd_ckpt_to_student.py',
                    str(tmp_path / 'w' / 'iter_2.pth'),
                    str(tmp_path / 'converted.pth')], cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    converted = torch.load(str(tmp_path / 'converted.pth'),
                           weights_only=True)['state_dict']
    for key, value in exported['state_dict'].items():
        assert torch.equal(converted[key], value), key


def test_export_can_be_turned_off(tmp_path, shapes_root):
    from attnfd_mm.apis.training import add_student_hooks
    cfg = _cfg(tmp_path, shapes_root, 2)
    add_student_hooks(cfg)
    assert dict(type='StudentExportHook') in cfg.custom_hooks
    cfg = _cfg(tmp_path, shapes_root, 2)
    cfg.export_student = False
    add_student_hooks(cfg)
    assert dict(type='StudentExportHook') not in cfg.custom_hooks
    plain = tiny_runner_config('w', shapes_root, deeplabv3_segmentor('r18'))
    add_student_hooks(plain)  # not a distillation config
    assert dict(type='StudentExportHook') not in plain.custom_hooks


def test_frozen_teacher_parameters_are_logged_once(tmp_path, shapes_root):
    _save_teacher(tmp_path / 'teacher.pth')
    cfg = _cfg(tmp_path, shapes_root, 2, work='log')
    cfg.log_level = 'INFO'
    # per-parameter rules: mmengine then logs each frozen parameter
    cfg.optim_wrapper.paramwise_cfg = dict(
        custom_keys={'distiller.connectors': dict(lr_mult=10.0)})
    runner = build_runner(cfg)
    runner.build_optim_wrapper(runner.optim_wrapper)
    (log, ) = (tmp_path / 'log').glob('*/*.log')
    text = log.read_text()
    teacher_params = sum(1 for _ in runner.model.teacher.parameters())
    assert teacher_params > 50
    assert 'teacher.backbone' not in text
    assert text.count('parameters of the frozen teacher') == 1
    assert f'The {teacher_params} parameters of the frozen teacher are ' \
        'left out of the optimizer' in text
