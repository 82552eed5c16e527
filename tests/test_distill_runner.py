# Copyright (c) attnfd-mm contributors. All rights reserved.
"""End-to-end distillation of stock mmseg DeepLabV3 models through Runner."""
import os.path as osp

import pytest
import torch

from attnfd_mm.apis import build_runner
from attnfd_mm.testing import (DEEPLABV3_CONFIGS, stock_segmentor,
                               tiny_distill_model, tiny_runner_config)


def distill_model(algorithm: str = 'SingleTeacherDistill', **kwargs) -> dict:
    """Stock DeepLabV3-R50 teacher, DeepLabV3-R18 student, AttnFD at B+E."""
    return tiny_distill_model('r18', 'r50', algorithm, **kwargs)


def tiny_runner(work_dir, shapes_root, max_iters, algorithm, **kw):
    cfg = tiny_runner_config(
        str(work_dir), shapes_root, distill_model(algorithm),
        max_iters=max_iters, **kw)
    return build_runner(cfg)


def state(runner):
    model = runner.model
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def save_teacher(path) -> dict:
    """A teacher checkpoint as mmengine writes it; returns its state."""
    from mmengine.model import revert_sync_batchnorm
    from mmseg.registry import MODELS
    teacher = revert_sync_batchnorm(MODELS.build(
        stock_segmentor(DEEPLABV3_CONFIGS['r50'])))
    teacher.init_weights()
    state = {k: v.clone() for k, v in teacher.state_dict().items()}
    torch.save(dict(state_dict=state, meta=dict()), str(path))
    return state


@pytest.mark.parametrize('algorithm', [
    pytest.param('SingleTeacherDistill', marks=pytest.mark.slow),
    'FrozenTeacherDistill'
])
def test_two_iterations_log_attnfd_terms(tmp_path, shapes_root, algorithm):
    teacher_state = save_teacher(tmp_path / 'teacher.pth')
    model = distill_model(algorithm)
    model['teacher_ckpt'] = str(tmp_path / 'teacher.pth')
    runner = build_runner(
        tiny_runner_config(str(tmp_path), shapes_root, model, max_iters=2))
    connectors = runner.model.distiller.connectors
    before = {k: v.clone() for k, v in connectors.state_dict().items()}
    runner.train()
    hub = runner.message_hub
    for layer in ('B', 'E'):
        value = hub.get_scalar(f'train/distill.loss_attnfd_{layer}').current()
        assert value > 0 and torch.isfinite(torch.tensor(value))
    assert hub.get_scalar('train/student.decode.loss_ce').current() > 0
    # connectors trained, teacher untouched (BN stats included)
    after = connectors.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before
               if 'weight' in k)
    for k, v in runner.model.teacher.state_dict().items():
        assert torch.equal(v, teacher_state[k]), k
    assert osp.isfile(osp.join(str(tmp_path), 'iter_2.pth'))
    # the runner's copies of the config are written without yapf
    assert '\nmodel=dict(\n' in runner.cfg.pretty_text


@pytest.mark.slow
def test_learnable_teacher_connectors_train_jointly(tmp_path, shapes_root):
    """SPEC option: teacher-side CBAM trained through the AttnFD loss."""
    teacher_state = save_teacher(tmp_path / 'teacher.pth')
    model = distill_model('FrozenTeacherDistill', method='attnfd_tcbam')
    model['teacher_ckpt'] = str(tmp_path / 'teacher.pth')
    runner = build_runner(
        tiny_runner_config(str(tmp_path), shapes_root, model, max_iters=1))
    conn_t = runner.model.distiller.connectors['B_t']
    before = {k: v.clone() for k, v in conn_t.state_dict().items()}
    runner.train()
    assert any(not torch.equal(before[k], v)
               for k, v in conn_t.state_dict().items() if 'weight' in k)
    for k, v in runner.model.teacher.state_dict().items():
        assert torch.equal(v, teacher_state[k]), k


def test_frozen_teacher_stays_in_eval_mode(tmp_path, shapes_root):
    runner = tiny_runner(tmp_path, shapes_root, 1, 'FrozenTeacherDistill')
    model = runner.model
    model.train()
    assert model.student.training
    assert not any(m.training for m in model.teacher.modules())
    assert all(not p.requires_grad for p in model.teacher.parameters())


def test_missing_teacher_checkpoint_is_named(tmp_path, shapes_root):
    model = distill_model('FrozenTeacherDistill')
    model['teacher_ckpt'] = str(tmp_path / 'no_such_teacher.pth')
    cfg = tiny_runner_config(str(tmp_path), shapes_root, model)
    with pytest.raises(FileNotFoundError, match='no_such_teacher.pth'):
        build_runner(cfg).train()


@pytest.mark.slow
def test_save_and_resume_under_current_torch(tmp_path, shapes_root):
    """Train 2 iters, resume to 4: checkpoints round-trip on torch 2.13."""
    first = tiny_runner(tmp_path, shapes_root, 2, 'SingleTeacherDistill',
                         checkpoint_interval=2)
    first.train()
    saved = state(first)
    saved_optim = first.optim_wrapper.state_dict()

    second = tiny_runner(tmp_path, shapes_root, 4, 'SingleTeacherDistill',
                          checkpoint_interval=2)
    second._resume = True  # what tools/train.py --resume sets
    second.load_or_resume()
    assert second.iter == 2
    for k, v in state(second).items():
        torch.testing.assert_close(v, saved[k], msg=k)
    resumed_optim = second.optim_wrapper.state_dict()
    for pid, st in saved_optim['state'].items():
        torch.testing.assert_close(
            resumed_optim['state'][pid]['momentum_buffer'],
            st['momentum_buffer'])
    second.train()
    assert second.iter == 4
    assert osp.isfile(osp.join(str(tmp_path), 'iter_4.pth'))
