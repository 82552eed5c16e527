# Copyright (c) attnfd-mm contributors. All rights reserved.
"""tools/benchmarks/camvid.py at toy size: killed and re-run it continues,
reports every seed, keeps student-only checkpoints that tools/test.py
scores on a CamVid test split, and refuses a work dir of other settings.
The comparison it runs is tested in tests/test_comparison.py."""
import json
import os
import os.path as osp
import re
import signal

import numpy as np
import pytest
import torch
from conftest import load_tool, run_tool
from PIL import Image

from attnfd_mm.comparison import ComparisonError
from attnfd_mm.datasets import CamVidDataset
from attnfd_mm.testing.synthetic_shapes import _draw_sample

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CLASSES = CamVidDataset.METAINFO['classes']
#: shapes label -> CamVid label (road, car, sign, pole)
TO_CAMVID = np.array([3, 8, 6, 2], np.uint8)


@pytest.fixture(scope='module')
def camvid_root(tmp_path_factory) -> str:
    """Shapes in CamVid's SegNet layout, 48x64, a void band on top."""
    root = str(tmp_path_factory.mktemp('camvid'))
    rng = np.random.default_rng(0)
    for split, count in (('train', 8), ('val', 4), ('test', 3)):
        os.makedirs(osp.join(root, split))
        os.makedirs(osp.join(root, f'{split}annot'))
        lines = []
        for i in range(count):
            image, label = _draw_sample(rng, 64)
            image, label = image[8:56], TO_CAMVID[label[8:56]]
            label[:4] = 11  # void
            name = f'0001TP_{i:06d}.png'
            Image.fromarray(image).save(osp.join(root, split, name))
            Image.fromarray(label).save(osp.join(root, f'{split}annot', name))
            lines.append(f'/SegNet/CamVid/{split}/{name} '
                         f'/SegNet/CamVid/{split}annot/{name}\n')
        with open(osp.join(root, f'{split}.txt'), 'w') as f:
            f.writelines(lines)
    return root


def _args(root, work_dir, iters='2'):
    return [
        'tools/benchmarks/camvid.py', root, '--work-dir', work_dir,
        '--size', '32x32', '--batch-size', '2', '--iters', iters,
        '--teacher-iters', '8', '--teacher-val-interval', '4',
        '--checkpoint-interval', '2',
        '--teacher-depth', '50', '--seeds', '0', '--methods', 'student',
        'attnfd'
    ]


@pytest.mark.slow
def test_camvid_benchmark_trains_reports_and_reuses(tmp_path, camvid_root,
                                                   capsys):
    work_dir = str(tmp_path / 'bench')
    # 1. the teacher, then each arm (stopping and continuing: in
    # tests/test_comparison.py, which runs the same code)
    out = run_tool(_args(camvid_root, work_dir), cwd=ROOT)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert '[camvid] teacher: training 8 iterations' in log, log[-3000:]
    stages = ['teacher', 'student_seed0', 'attnfd_seed0']
    metrics, tests = {}, {}
    for stage in stages:
        with open(osp.join(work_dir, 'metrics', f'{stage}.json')) as f:
            metrics[stage] = json.load(f)
        with open(osp.join(work_dir, 'metrics', f'{stage}.test.json')) as f:
            tests[stage] = json.load(f)
        assert {f'IoU.{c}' for c in CLASSES} <= set(metrics[stage])
        assert {f'IoU.{c}' for c in CLASSES} <= set(tests[stage])
        ckpt = torch.load(osp.join(work_dir, 'checkpoints', f'{stage}.pth'),
                          weights_only=True)
        assert set(ckpt) == {'state_dict', 'meta'}, stage
        keys = set(ckpt['state_dict'])
        assert 'decode_head.conv_seg.weight' in keys, stage
        assert not any(k.startswith(('architecture.', 'teacher.',
                                     'distiller.')) for k in keys), stage
        assert ckpt['meta']['dataset_meta']['classes'] == CLASSES
        # the resumable training checkpoints are gone once exported
        assert not [n for n in os.listdir(osp.join(work_dir, 'train', stage))
                    if n.endswith('.pth')], stage
    student_keys = set(torch.load(
        osp.join(work_dir, 'checkpoints', 'student_seed0.pth'),
        weights_only=True)['state_dict'])
    assert set(torch.load(
        osp.join(work_dir, 'checkpoints', 'attnfd_seed0.pth'),
        weights_only=True)['state_dict']) == student_keys

    with open(osp.join(work_dir, 'results.json')) as f:
        results = json.load(f)
    for method in ('student', 'attnfd'):
        assert results['arms'][method]['mIoU'] == {
            '0': metrics[f'{method}_seed0']['mIoU']}
        assert set(results['arms'][method]['per_class']) == set(CLASSES)
        assert results['arms'][method]['test_mIoU'] == {
            '0': tests[f'{method}_seed0']['mIoU']}
    assert results['teacher']['mIoU'] == metrics['teacher']['mIoU']
    assert results['teacher_test']['mIoU'] == tests['teacher']['mIoU']
    # the teacher's val curve: scored at 4 while training, and at the end
    curve = results['teacher_curve']
    assert [p['iter'] for p in curve] == [4, 8], curve
    assert curve[-1]['mIoU'] == metrics['teacher']['mIoU']
    assert results['benchmark']['command'].startswith(
        'python tools/benchmarks/camvid.py ')
    assert '--teacher-iters 8' in results['benchmark']['command']
    assert re.fullmatch(r'[0-9a-f]{40}(\+dirty)?',
                        results['benchmark']['commit'])
    assert set(results['timings_s']) == set(stages)
    assert all(t > 0 for t in results['timings_s'].values())
    report = open(osp.join(work_dir, 'results.md')).read()
    assert report.startswith('# CamVid benchmark\n\nCamVid val and test '
                             'splits, '
                             '32x32, batch 2, LR 0.01; student '
                             'DeepLabV3-R18-D8, 2 iterations; teacher '
                             'DeepLabV3-R50-D8 8 iterations; from scratch.')
    assert re.search(r'^\| AttnFD \(B\+E\) \| 0 \| [\d.]+ \|',
                     report, re.M), report
    assert report.count('\n| sky |') == 1
    assert re.search(r'^\| AttnFD \(B\+E\) \| [\d.]+ \| [\d.]+ \| 0.00 \|',
                     report, re.M), report  # the test table

    # 2. a student checkpoint scores on a CamVid root's test split
    scored = str(tmp_path / 'test_metrics.json')
    out = run_tool([
        'tools/test.py', osp.join(work_dir, 'configs', 'student_test.py'),
        osp.join(work_dir, 'checkpoints', 'attnfd_seed0.pth'), '--data-root',
        camvid_root, '--work-dir', str(tmp_path / 'test'), '--metrics-out',
        scored
    ], cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'Iter(test) [3/3]' in out.stdout + out.stderr  # 3 test images
    assert 0 <= json.load(open(scored))['mIoU'] <= 100

    # 3. re-running trains nothing; other settings are refused (in this
    # process: nothing is trained)
    camvid = _camvid_tool()
    sigterm = signal.getsignal(signal.SIGTERM)  # main() sets its own
    try:
        capsys.readouterr()
        camvid.main(_args(camvid_root, work_dir)[1:])
        printed = capsys.readouterr().out
        assert printed.count('reusing its results') == len(stages) - 1
        assert not re.search(r'^\[camvid\] \w+: (training|resuming|scoring)',
                             printed, re.M), printed
        # a teacher far from the expected score stops it before any student
        with pytest.raises(SystemExit) as refused:
            camvid.main(_args(camvid_root, work_dir)[1:] +
                        ['--expect-teacher-miou', '150'])
        assert 'from the expected 150.00' in str(refused.value.code)
        assert 'no student is trained from it' in str(refused.value.code)
        with pytest.raises(SystemExit) as refused:
            camvid.main(_args(camvid_root, work_dir, iters='3')[1:])
        message = str(refused.value.code)
        assert 'other settings' in message and "'iters': [2, 3]" \
            not in message and "'iters': (2, 3)" in message, message
    finally:
        signal.signal(signal.SIGTERM, sigterm)


def test_camvid_benchmark_names_a_bad_root(tmp_path, capsys):
    os.makedirs(tmp_path / 'train')
    with pytest.raises(SystemExit) as exit_info:
        _camvid_tool().parse_args([str(tmp_path)])
    assert exit_info.value.code == 2
    assert "missing ['trainannot', 'val', 'valannot']" in \
        capsys.readouterr().err


def _camvid_tool():
    return load_tool('tools/benchmarks/camvid.py')


@pytest.mark.parametrize('flags,size,iters,depth', [
    ([], (72, 96), 360, 34),
    # the GPU protocol's settings (slow: every config is built again)
    pytest.param(['--full'], (360, 480), 9175, 101, marks=pytest.mark.slow),
])
def test_camvid_benchmark_stage_configs(tmp_path, camvid_root, flags, size,
                                        iters, depth):
    from mmengine.config import Config
    camvid = _camvid_tool()
    args = camvid.parse_args([camvid_root, '--work-dir', str(tmp_path),
                              *flags])
    comparison = camvid.CamVidBenchmark(args)
    assert camvid.parse_args([camvid_root]).methods == [
        'student', 'kd', 'cwd', 'attnfd'
    ]
    cfg = comparison.arm_config('attnfd', 1)
    assert cfg.train_cfg.max_iters == iters
    assert cfg.param_scheduler[0].end == iters
    assert cfg.train_dataloader.batch_size == 8
    assert cfg.randomness.seed == 1
    crop = [t for t in cfg.train_dataloader.dataset.pipeline
            if t.type == 'RandomCrop'][0]
    assert tuple(crop.crop_size) == size
    assert tuple(cfg.model.data_preprocessor.size) == size
    assert cfg.model.architecture.pretrained is None
    assert cfg.val_cfg is None and cfg.val_dataloader is None
    assert cfg.train_dataloader.dataset.data_root == camvid_root
    assert cfg.model.teacher_ckpt == \
        comparison.runner.checkpoint('teacher')
    assert cfg.model.teacher.backbone.depth == depth
    assert cfg.model.teacher.pretrained is None
    assert cfg.model.distiller.loss == dict(
        type='AttnFDLoss', loss_weight=2.0, normalize='batch')
    # the arms change the loss, not the protocol
    arms = {m: comparison.arm_config(m, 1) for m in (
        'kd', 'attnfd_tcbam', 'attnfd_sample', 'attnfd_sample_w8',
        'attnfd_w16', 'attnfd_kd')}
    for arm in arms.values():
        assert arm.train_cfg == cfg.train_cfg
        assert arm.train_dataloader == cfg.train_dataloader
        assert arm.model.teacher == cfg.model.teacher
        assert arm.model.teacher_ckpt == cfg.model.teacher_ckpt
    assert arms['attnfd_tcbam'].model.distiller.teacher_connector.learnable
    assert arms['attnfd_sample'].model.distiller.loss.normalize == 'sample'
    w8 = arms['attnfd_sample_w8'].model.distiller.loss
    assert (w8.normalize, w8.loss_weight) == ('sample', 8.0)
    w16 = arms['attnfd_w16'].model.distiller.loss
    assert (w16.normalize, w16.loss_weight) == ('batch', 16.0)
    both = arms['attnfd_kd'].model.distiller
    assert both.logits_loss == arms['kd'].model.distiller.loss
    assert both.loss == w8
    assert arms['kd'].model.distiller.loss == dict(type='PixelKLDivergence',
                                                   tau=1.0)  # any classes
    teacher = comparison.teacher_train_config(args.teacher_iters)
    assert teacher.model.backbone.depth == depth
    assert teacher.model.pretrained is None
    assert teacher.train_cfg.max_iters == (iters if flags else 1000)
    assert teacher.randomness.seed == 0
    # without the test split, the configs that score on one are written
    camvid.CamVidBenchmark(camvid.parse_args([
        camvid_root, '--work-dir', str(tmp_path), '--no-test-split', *flags
    ])).bind()
    test = Config.fromfile(str(tmp_path / 'configs' / 'student_test.py'))
    assert test.test_dataloader.dataset.split == 'test'
    resize = [t for t in test.test_dataloader.dataset.pipeline
              if t.type == 'Resize'][0]
    assert tuple(resize.scale) == size[::-1]
    assert Config.fromfile(str(tmp_path / 'configs' / 'teacher_test.py')
                           ).model.backbone.depth == depth


def test_camvid_benchmark_reuses_a_teacher_checkpoint(tmp_path, camvid_root,
                                                      capsys):
    """--teacher-checkpoint: checked against the run's teacher model, then
    used as its teacher without training one; the work dir is bound to
    it."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    camvid = _camvid_tool()
    flags = ['--size', '32x32', '--teacher-depth', '34']
    args = camvid.parse_args([camvid_root, *flags])
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(camvid.model_config('teacher', args).model)
    src = str(tmp_path / 'r34.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=CLASSES))), src)

    args = camvid.parse_args([camvid_root, '--work-dir',
                              str(tmp_path / 'bench'), *flags,
                              '--teacher-checkpoint', src])
    bench = camvid.CamVidBenchmark(args)
    bench.bind()
    bench.train_teacher()
    adopted = torch.load(bench.runner.checkpoint('teacher'),
                         weights_only=True)
    assert adopted['meta']['dataset_meta']['classes'] == CLASSES
    for key, value in model.state_dict().items():
        assert torch.equal(adopted['state_dict'][key], value), key
    # nothing trained
    assert not os.listdir(bench.runner.dirs['train'])
    with open(tmp_path / 'bench' / 'benchmark.json') as f:
        assert json.load(f)['teacher_checkpoint'] == src

    # the same work dir without the flag is another run
    with pytest.raises(ComparisonError, match='other settings'):
        camvid.CamVidBenchmark(camvid.parse_args(
            [camvid_root, '--work-dir', str(tmp_path / 'bench'),
             *flags])).bind()
    # weights of another teacher depth are named, not used
    args = camvid.parse_args([
        camvid_root, '--work-dir', str(tmp_path / 'r50'), '--size', '32x32',
        '--teacher-depth', '50', '--teacher-checkpoint', src])
    other = camvid.CamVidBenchmark(args)
    other.bind()
    with pytest.raises(SystemExit, match='not a DeepLabV3-R50-D8'):
        other.train_teacher()
    # once adopted, the source is no longer needed to continue the run
    os.remove(src)
    camvid.parse_args([camvid_root, '--work-dir', str(tmp_path / 'bench'),
                       *flags, '--teacher-checkpoint', src])
    capsys.readouterr()
    with pytest.raises(SystemExit):
        camvid.parse_args([camvid_root, '--work-dir', str(tmp_path / 'new'),
                           '--teacher-checkpoint', src])
    assert 'no such file' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        camvid.parse_args([
            camvid_root, '--work-dir', str(tmp_path / 'bench'),
            '--teacher-checkpoint',
            bench.runner.checkpoint('teacher')])
    assert "this work dir's own teacher" in capsys.readouterr().err
