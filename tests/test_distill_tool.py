# Copyright (c) attnfd-mm contributors. All rights reserved.
"""tools/distill.py: from two configs to a trained student, from any
directory; the written config re-runs unchanged; stock mmseg pairs train
with every method; bad input is named before training."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from conftest import load_tool
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS
from PIL import Image

from attnfd_mm.testing.tiny_configs import (deeplabv3_segmentor,
                                            stock_segmentor,
                                            tiny_runner_config)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
STOCK_STUDENT = \
    'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py'
STOCK_TEACHER = 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'


def _save_teacher(model_cfg: dict, path: str) -> str:
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(model_cfg)
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


@pytest.fixture()
def tiny_pair(tmp_path, shapes_root):
    """A tiny student runner config, a teacher config and the teacher's
    weights, as files in a directory outside the clone."""
    student = tiny_runner_config('unused', shapes_root,
                                 deeplabv3_segmentor('r18'), max_iters=2)
    student.dump(str(tmp_path / 'student.py'))
    teacher = deeplabv3_segmentor('r18')
    Config(dict(model=teacher)).dump(str(tmp_path / 'teacher.py'))
    _save_teacher(teacher, str(tmp_path / 'teacher.pth'))
    return tmp_path


def _state(path: str) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)[
        'state_dict']


@pytest.mark.slow
def test_dist_distill_launcher_trains_on_two_processes(tiny_pair):
    """tools/dist_distill.sh: torchrun, two CPU processes (gloo)."""
    out = subprocess.run([
        'bash', osp.join(ROOT, 'tools', 'dist_distill.sh'), 'student.py',
        'teacher.py', '2', '--teacher-checkpoint', 'teacher.pth',
        '--work-dir', 'ddp', '--cfg-options', 'train_cfg.max_iters=1'
    ], cwd=str(tiny_pair), capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PORT='29517', PYTHON=sys.executable))
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert 'gloo backend' in log
    assert (tiny_pair / 'ddp' / 'iter_1.pth').is_file()
    assert (tiny_pair / 'ddp' / 'distill_config.py').is_file()


def _fake_cityscapes(root: str, size=(64, 128)) -> str:
    """Four images per split in Cityscapes' layout and file names."""
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        img_dir = osp.join(root, 'leftImg8bit', split, 'town')
        ann_dir = osp.join(root, 'gtFine', split, 'town')
        os.makedirs(img_dir)
        os.makedirs(ann_dir)
        for i in range(4):
            stem = f'town_{i:06d}_000019'
            Image.fromarray(rng.integers(0, 255, (*size, 3), np.uint8)).save(
                osp.join(img_dir, f'{stem}_leftImg8bit.png'))
            Image.fromarray(rng.integers(0, 19, size, np.uint8)).save(
                osp.join(ann_dir, f'{stem}_gtFine_labelTrainIds.png'))
    return root


#: stock Cityscapes configs shrunk to 64x64 crops, one iteration, no
#: ImageNet weights, no workers, no validation
SHRINK = {
    'val_dataloader': None,
    'val_evaluator': None,
    'val_cfg': None,
    'model.pretrained': None,
    'model.data_preprocessor.size': (64, 64),
    'train_dataloader.dataset.pipeline.2.scale': (128, 64),
    'train_dataloader.dataset.pipeline.3.crop_size': (64, 64),
    'train_dataloader.batch_size': 2,
    'train_dataloader.num_workers': 0,
    'train_dataloader.persistent_workers': False,
    'train_cfg.max_iters': 1,
    'measure_student_cost': False,  # the stock test size: 1024x2048
}


@pytest.mark.parametrize('method', [
    # the default method in the fast subset, the others marked slow
    'attnfd_kd',
    *(pytest.param(m, marks=pytest.mark.slow)
      for m in ('kd', 'cwd', 'attnfd'))
])
def test_stock_mmseg_pair_trains_one_step_with_each_method(
        tmp_path, method, monkeypatch, pooled_weight_init):
    data = _fake_cityscapes(str(tmp_path / 'cityscapes'))
    teacher = _save_teacher(
        stock_segmentor(STOCK_TEACHER, num_classes=19),
        str(tmp_path / 'teacher.pth'))
    monkeypatch.chdir(tmp_path)
    tool = load_tool('tools/distill.py')
    args = tool.parse_args([
        STOCK_STUDENT, STOCK_TEACHER, '--teacher-checkpoint', teacher,
        '--method', method, '--data-root', data, '--work-dir', 'w'
    ])
    # what --cfg-options KEY=VALUE give; a visualizer of its own (mmengine
    # keeps one instance per name in the process)
    args.cfg_options = dict(SHRINK, **{'visualizer.name': f'vis_{method}'})
    tool.main_with(args)
    state = _state(str(tmp_path / 'w' / 'iter_1.pth'))
    assert any(k.startswith('architecture.decode_head') for k in state)
    cfg = Config.fromfile(str(tmp_path / 'w' / 'distill_config.py'))
    assert cfg.model.teacher.decode_head.type == 'PSPHead'
    assert cfg.model.architecture.decode_head.type == 'ASPPHead'
    expected = {'kd': 'LogitsDistiller', 'cwd': 'LogitsDistiller'}
    assert cfg.model.distiller.type == expected.get(method,
                                                    'AttnFDDistiller')
    if method in ('kd', 'attnfd_kd'):  # the KL per pixel, any num_classes
        loss = cfg.model.distiller.get('logits_loss') or \
            cfg.model.distiller.loss
        assert loss == dict(type='PixelKLDivergence', tau=1.0)


def _tiny_args(pair, *extra):
    tool = load_tool('tools/distill.py')
    return tool, tool.parse_args([
        str(pair / 'student.py'), str(pair / 'teacher.py'),
        '--teacher-checkpoint', str(pair / 'teacher.pth'), '--work-dir',
        str(pair / 'w'), *extra
    ])


@pytest.mark.slow
def test_named_errors_before_training(tiny_pair, tmp_path):
    # the teacher predicts other classes
    other = deeplabv3_segmentor('r18', num_classes=19)
    Config(dict(model=other)).dump(str(tiny_pair / 'teacher.py'))
    tool, args = _tiny_args(tiny_pair)
    with pytest.raises(ValueError, match='teacher predicts 19 classes but '
                       'the student 4'):
        tool.main_with(args)
    # a checkpoint that does not fit the teacher
    Config(dict(model=deeplabv3_segmentor('r50'))).dump(
        str(tiny_pair / 'teacher.py'))
    with pytest.raises(ValueError, match='does not fit the teacher model'):
        tool.main_with(args)
    # a layer the models do not have
    Config(dict(model=deeplabv3_segmentor('r18'))).dump(
        str(tiny_pair / 'teacher.py'))
    tool, args = _tiny_args(tiny_pair, '--layers', 'B', 'E', 'D')
    with pytest.raises(KeyError, match=r"Layers \['D'\] are not in "
                       r"student_layers; this model has \['B', 'E'\]"):
        tool.main_with(args)
    # a URL that cannot be fetched (offline)
    tool, args = _tiny_args(tiny_pair)
    args.teacher_checkpoint = 'http://127.0.0.1:9/teacher.pth'
    with pytest.raises(RuntimeError, match='could not be downloaded.*'
                       '--teacher-checkpoint PATH'):
        tool.main_with(args)
    # an unknown method
    with pytest.raises(SystemExit):
        _tiny_args(tiny_pair, '--method', 'atnfd')


def test_resume_refuses_another_config(tiny_pair):
    tool, args = _tiny_args(tiny_pair, '--print-config')
    tool.main_with(args)
    tool, args = _tiny_args(tiny_pair, '--resume', '--method', 'kd')
    with pytest.raises(SystemExit, match='holds another distillation '
                       'config'):
        tool.main_with(args)


def _mIoU(path) -> float:
    with open(path) as f:
        return json.load(f)['mIoU']


@pytest.mark.slow
def test_cli_outside_the_clone_keeps_its_config_and_scores_the_same(
        tmp_path, shapes_root):
    """The documented commands, with the installed package: distill ->
    test -> train (re-run, then --resume) -> distill --resume -> test. The
    written config keeps its bytes and runs from another directory (its
    paths are absolute); the re-run gives the same weights, both tests the
    same score; a checkpoint that does not fit the config is
    a named error."""
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)  # the installed package, not the clone
    pair = tmp_path / 'pair'
    pair.mkdir()
    # relative paths, read from the directory distill.py runs in
    student = tiny_runner_config('unused', osp.relpath(shapes_root, pair),
                                 deeplabv3_segmentor('r18'), max_iters=2)
    student.pop('measure_student_cost')  # a user's config: priced by default
    student.dump(str(pair / 'student.py'))
    teacher = deeplabv3_segmentor('r18')
    Config(dict(model=teacher)).dump(str(pair / 'teacher.py'))
    _save_teacher(teacher, str(pair / 'teacher.pth'))
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    work = pair / 'distilled'
    config, ckpt = str(work / 'distill_config.py'), str(work / 'iter_2.pth')
    distill = [osp.join(ROOT, 'tools', 'distill.py'), 'student.py',
               'teacher.py', '--teacher-checkpoint', 'teacher.pth',
               '--method', 'attnfd', '--work-dir', 'distilled']
    scores = []

    def run(args, cwd, ok=True):
        out = subprocess.run([sys.executable, *args], cwd=str(cwd), env=env,
                             capture_output=True, text=True, timeout=600)
        assert (out.returncode == 0) == ok, (args, out.stderr[-3000:])
        return out

    def test(cwd):
        out_file = str(tmp_path / f'metrics{len(scores)}.json')
        run([osp.join(ROOT, 'tools', 'test.py'), config, ckpt,
             '--metrics-out', out_file], cwd)
        scores.append(_mIoU(out_file))

    out = run(distill, pair)
    assert '[distill] attnfd: config written to ' + osp.join(
        'distilled', 'distill_config.py') in out.stdout
    written = (work / 'distill_config.py').read_bytes()
    text = written.decode()
    assert text.startswith('# Distillation config written by '
                           'tools/distill.py: attnfd\n')
    assert 'python tools/distill.py student.py teacher.py' in text
    cfg = Config.fromfile(config)
    assert cfg.model.teacher.type == 'EncoderDecoder'  # inline, no path
    first = _state(ckpt)
    assert any(k.startswith('distiller.connectors.') for k in first)
    # the teacher came from the given file (checkpoints leave a frozen
    # teacher out and keep its fingerprint), named by its absolute path
    assert not any(k.startswith('teacher.') for k in first)
    from attnfd_mm.models.algorithms import decode_fingerprint
    assert decode_fingerprint(first['teacher_fingerprint'])[
        'teacher_ckpt'] == str(pair / 'teacher.pth')
    assert (work / 'student.pth').is_file()
    # what the student costs against its teacher (at the config's test
    # size: its crop)
    cost = json.loads((work / 'student_vs_teacher.json').read_text())
    assert cost['size'] == [64, 64]
    for backend in ('torch', 'onnxruntime'):
        assert cost['student']['latency_ms'][backend]['median_ms'] > 0

    test(elsewhere)
    assert (work / 'distill_config.py').read_bytes() == written
    run([osp.join(ROOT, 'tools', 'train.py'), config], elsewhere)
    assert (work / 'distill_config.py').read_bytes() == written
    again = _state(ckpt)  # the re-run: the same weights
    assert first.keys() == again.keys()
    for key in first:
        torch.testing.assert_close(again[key], first[key], rtol=0, atol=1e-6,
                                   msg=key)
    run([osp.join(ROOT, 'tools', 'train.py'), config, '--resume'], elsewhere)
    assert (work / 'distill_config.py').read_bytes() == written
    run(distill + ['--resume'], pair)
    assert (work / 'distill_config.py').read_bytes() == written
    test(elsewhere)
    assert (work / 'distill_config.py').read_bytes() == written
    assert scores[0] > 0
    assert scores == [pytest.approx(scores[0], abs=1e-6)] * 2
    assert not (elsewhere / 'distilled').exists()  # the config's work dir
    # the bare student config with the distillation checkpoint
    out = run([osp.join(ROOT, 'tools', 'test.py'), 'student.py', ckpt], pair,
              ok=False)
    assert 'CheckpointMismatchError' in out.stderr
    assert 'not in the model (architecture.' in out.stderr
