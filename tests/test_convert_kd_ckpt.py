# Copyright (c) attnfd-mm contributors. All rights reserved.
"""tools/convert_kd_ckpt_to_student.py: the student of a distillation
checkpoint loads in stock mmseg and predicts exactly as in the algorithm."""
import os.path as osp

import pytest
import torch
from conftest import run_tool
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from mmseg.apis import init_model

from attnfd_mm.apis import weights_checkpoint
from attnfd_mm.testing import stock_segmentor, tiny_distill_model
from attnfd_mm.testing.tiny_configs import DEEPLABV3_CONFIGS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def test_converted_student_predicts_identically(tmp_path):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        algorithm = MODELS.build(tiny_distill_model('r18', 'r18'))
    algorithm.init_weights()
    # make BN statistics non-trivial so that a wrong load shows
    algorithm.train()
    with torch.no_grad():
        algorithm.student(torch.randn(2, 3, 64, 64), None, mode='tensor')
    src = str(tmp_path / 'distill.pth')
    torch.save(
        dict(state_dict=algorithm.state_dict(),
             meta=dict(dataset_meta=dict(classes=('a', 'b', 'c', 'd')))),
        src)
    dst = str(tmp_path / 'student.pth')
    out = run_tool(['tools/convert_kd_ckpt_to_student.py', src, dst],
                   cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]

    cfg = Config(dict(model=stock_segmentor(DEEPLABV3_CONFIGS['r18'])))
    model = init_model(cfg, dst, device='cpu')
    assert model.dataset_meta['classes'] == ('a', 'b', 'c', 'd')
    algorithm.eval()
    inputs = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = algorithm.student(inputs, None, mode='tensor')
        got = model(inputs, None, mode='tensor')
    assert torch.equal(expected, got)
    # nothing but the student's own tensors
    state = torch.load(dst, weights_only=True)['state_dict']
    assert set(state) == set(algorithm.student.state_dict())


def test_plain_checkpoint_is_refused(tmp_path):
    src = str(tmp_path / 'plain.pth')
    torch.save(dict(state_dict={'backbone.w': torch.zeros(1)}), src)
    out = run_tool(['tools/convert_kd_ckpt_to_student.py', src,
                    str(tmp_path / 'o.pth')], cwd=ROOT)
    assert out.returncode != 0
    assert "No student weights (keys starting with 'architecture.')" \
        in out.stderr


def test_weights_checkpoint_drops_training_state():
    state = {'backbone.w': torch.ones(2)}
    ckpt = dict(state_dict=state, optimizer={'state': {}},
                param_schedulers=[{}], message_hub={},
                meta=dict(dataset_meta=dict(classes=('a', )), iter=8,
                          seed=3))
    out = weights_checkpoint(ckpt)
    assert set(out) == {'state_dict', 'meta'}
    assert out['state_dict'] is state
    assert out['meta']['dataset_meta'] == dict(classes=('a', ))
    assert out['meta']['seed'] == 3 and 'iter' not in out['meta']
    with pytest.raises(ValueError, match='distillation checkpoint'):
        weights_checkpoint(dict(state_dict={'architecture.w': 1}))
    with pytest.raises(ValueError, match='no state_dict'):
        weights_checkpoint(dict(optimizer={}))
