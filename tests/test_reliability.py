# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Non-finite losses, refused pickles, and
2-process CPU (gloo) training through tools/dist_train.sh."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from conftest import run_tool
from mmengine.hooks import Hook
from mmengine.registry import MODELS, DefaultScope

from attnfd_mm.apis import build_runner
from attnfd_mm.models.algorithms.teacher_checkpoint import \
    load_teacher_checkpoint
from attnfd_mm.testing import (DEEPLABV3_CONFIGS, stock_segmentor,
                               tiny_distill_model, tiny_runner_config)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _teacher_ckpt(tmp_path, arch: str = 'r18', seed: int = 1) -> str:
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmseg'):
        teacher = MODELS.build(stock_segmentor(DEEPLABV3_CONFIGS[arch]))
    teacher.init_weights()
    path = str(tmp_path / f'teacher_{arch}.pth')
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


def _write(cfg, path) -> str:
    cfg.pop('work_dir', None)
    cfg.custom_imports = dict(imports=['attnfd_mm'],
                              allow_failed_imports=False)
    cfg.dump(str(path))
    return str(path)


def _load(path):
    return torch.load(path, map_location='cpu', weights_only=True)


class _PoisonConnector(Hook):
    """Make the student's B connector output NaN from iteration 3 on."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == 2:
            with torch.no_grad():
                conv = runner.model.distiller.connectors['B_s'].spatial_conv
                conv.weight.fill_(float('nan'))


def test_non_finite_loss_stops_after_last_good_checkpoint(
        tmp_path, shapes_root):
    model = tiny_distill_model('r18', 'r18',
                               teacher_ckpt=_teacher_ckpt(tmp_path))
    cfg = tiny_runner_config(str(tmp_path / 'work'), shapes_root, model,
                             max_iters=4, checkpoint_interval=2)
    runner = build_runner(cfg)
    runner.register_hook(_PoisonConnector())
    with pytest.raises(FloatingPointError) as err:
        runner.train()
    msg = str(err.value)
    assert 'iteration 3' in msg and "['loss_attnfd_B']" in msg
    assert 'distill.loss_attnfd_E' not in msg and 'loss_attnfd_E' in msg
    assert 'resume with --resume' in msg
    work = str(tmp_path / 'work')
    assert open(osp.join(work, 'last_checkpoint')).read().endswith(
        'iter_2.pth')
    assert not osp.isfile(osp.join(work, 'iter_4.pth'))
    state = _load(osp.join(work, 'iter_2.pth'))['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values()
               if v.is_floating_point())


class _Payload:

    def __reduce__(self):
        return (print, ('pwned', ))


def test_checkpoint_with_pickled_object_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, extra=_Payload()), path)
    with DefaultScope.overwrite_default_scope('mmseg'):
        teacher = MODELS.build(stock_segmentor(DEEPLABV3_CONFIGS['r18']))
    with pytest.raises(RuntimeError) as err:
        load_teacher_checkpoint(teacher, path)
    msg = str(err.value)
    assert 'Refusing the teacher checkpoint' in msg and path in msg
    assert 'pickled object that is not plain data (print)' in msg
    assert 'weights_only' in msg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _group_norm(node):
    """Every BN of a model dict as GroupNorm (batch-split independent)."""
    if isinstance(node, dict):
        node = {k: _group_norm(v) for k, v in node.items()}
        if node.get('type') == 'BN':
            node = dict(node, type='GN', num_groups=8)
        return node
    if isinstance(node, (list, tuple)):
        return type(node)(_group_norm(v) for v in node)
    return node


def _scalars(work_dir: str, iteration: int) -> dict:
    for root, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            with open(osp.join(root, 'scalars.json')) as f:
                for line in f:
                    record = json.loads(line)
                    if record.get('iter') == iteration and \
                            'loss' in record:
                        return record
    raise AssertionError(f'no scalars for iter {iteration} in {work_dir}')


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(tmp_path, shapes_root):
    """2 processes x batch 2 == 1 process x batch 4 with normalize='sample',
    batch-independent norms (GN) and no dropout."""
    student = _group_norm(stock_segmentor(DEEPLABV3_CONFIGS['r18']))
    for head in ('decode_head', 'auxiliary_head'):
        student[head]['dropout_ratio'] = 0.
    gn = dict(type='GN', num_groups=1)
    model = dict(
        _scope_='mmrazor',
        type='FrozenTeacherDistill',
        architecture=student,
        teacher=stock_segmentor(DEEPLABV3_CONFIGS['r50']),
        teacher_ckpt=_teacher_ckpt(tmp_path, 'r50'),
        distiller=dict(
            type='AttnFDDistiller',
            student_layers='deeplabv3_r18',
            teacher_layers='deeplabv3_r50',
            connector=dict(type='CBAMConnector', norm_cfg=gn,
                           align_norm_cfg=gn),
            loss=dict(type='AttnFDLoss', normalize='sample')))
    configs = {}
    for name, batch in (('single', 4), ('dist', 2)):
        configs[name] = _write(
            tiny_runner_config('unused', shapes_root, model, max_iters=3,
                               batch_size=batch),
            tmp_path / f'{name}.py')
    single, dist = str(tmp_path / 'single'), str(tmp_path / 'dist')
    out = run_tool(['tools/train.py', configs['single'], '--work-dir',
                    single], cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    out = subprocess.run(
        ['bash', 'tools/dist_train.sh', configs['dist'], '2', '--work-dir',
         dist],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()),
                 OMP_NUM_THREADS='1'))
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]

    s1, d1 = _scalars(single, 1), _scalars(dist, 1)
    for key in ('distill.loss_attnfd_B', 'distill.loss_attnfd_E',
                'student.decode.loss_ce'):
        assert d1[key] == pytest.approx(s1[key], rel=1e-4), key
    a, b = (_load(osp.join(d, 'iter_3.pth'))['state_dict']
            for d in (single, dist))
    assert a.keys() == b.keys()
    moved = 0
    for k, v in a.items():
        if k.startswith(('architecture.', 'distiller.')):
            assert torch.allclose(v, b[k], atol=1e-4, rtol=1e-3), k
            moved += 1
    assert moved > 100
