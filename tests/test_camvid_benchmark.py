# Copyright (c) attnfd-mm contributors. All rights reserved.
"""tools/benchmarks/camvid.py at toy size: killed and re-run it continues,
reports every seed, keeps student-only checkpoints that tools/test.py
scores on a CamVid test split, and refuses a work dir of other settings."""
import json
import os
import os.path as osp
import re
import signal
import statistics
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import run_tool
from PIL import Image

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
        '--teacher-iters', '8', '--checkpoint-interval', '2',
        '--teacher-depth', '50', '--seeds', '0', '1', '--methods', 'student',
        'attnfd'
    ]


@pytest.mark.slow
def test_camvid_benchmark_kill_resume_report(tmp_path, camvid_root):
    work_dir = str(tmp_path / 'bench')
    env = dict(os.environ, PYTHONPATH=ROOT)
    # 1. stopped (SIGTERM to the benchmark alone) while training the
    # teacher, once it saved a checkpoint
    proc = subprocess.Popen([sys.executable, *_args(camvid_root, work_dir)],
                            cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    last = osp.join(work_dir, 'train', 'teacher', 'last_checkpoint')
    deadline = time.time() + 300
    while not osp.isfile(last) and proc.poll() is None \
            and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=120) == 128 + signal.SIGTERM
        # it stopped the training process it had started
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert osp.isfile(last), 'the teacher never saved a checkpoint'
    assert not osp.isfile(osp.join(work_dir, 'checkpoints', 'teacher.pth'))
    with open(osp.join(work_dir, 'timings.json')) as f:
        interrupted = json.load(f)['teacher']
    assert interrupted > 0

    # 2. the same command continues: the teacher resumes, the rest runs
    out = run_tool(_args(camvid_root, work_dir), cwd=ROOT)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert '[camvid] teacher: resuming 8 iterations' in log
    assert re.search(r'resumed epoch: 0, iter: [2468]', log)
    stages = ['teacher', 'student_seed0', 'attnfd_seed0', 'student_seed1',
              'attnfd_seed1']
    metrics = {}
    for stage in stages:
        with open(osp.join(work_dir, 'metrics', f'{stage}.json')) as f:
            metrics[stage] = json.load(f)
        assert {f'IoU.{c}' for c in CLASSES} <= set(metrics[stage])
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
        osp.join(work_dir, 'checkpoints', 'attnfd_seed1.pth'),
        weights_only=True)['state_dict']) == student_keys

    with open(osp.join(work_dir, 'results.json')) as f:
        results = json.load(f)
    for method in ('student', 'attnfd'):
        seeds = [metrics[f'{method}_seed{s}']['mIoU'] for s in (0, 1)]
        got = results['methods'][method]
        assert got['mIoU'] == {'0': seeds[0], '1': seeds[1]}
        assert got['mean'] == pytest.approx(statistics.fmean(seeds))
        assert got['std'] == pytest.approx(statistics.stdev(seeds))
        assert set(got['per_class']) == set(CLASSES)
    assert results['teacher']['mIoU'] == metrics['teacher']['mIoU']
    assert set(results['timings_s']) == set(stages)
    # the interrupted part of the teacher counts
    assert results['timings_s']['teacher'] > interrupted
    report = open(osp.join(work_dir, 'results.md')).read()
    assert re.search(r'^\| \+ AttnFD \(B\+E\) \| 0 1 \| [\d.]+ / [\d.]+ \|',
                     report, re.M), report
    delta = results['methods']['attnfd']['mean'] - \
        results['methods']['student']['mean']
    assert f'| {delta:+.2f} |' in report
    assert f'AttnFD (B+E) (mean over seeds) minus DeepLabV3-R18 alone: ' \
        f'{delta:+.2f} mIoU.' in report
    teacher_gap = metrics['teacher']['mIoU'] - \
        results['methods']['student']['mean']
    assert f'Teacher minus student alone: {teacher_gap:+.2f} mIoU.' in report
    assert report.count('\n| sky |') == 1

    # 3. a student checkpoint scores on a CamVid root's test split
    scored = str(tmp_path / 'test_metrics.json')
    out = run_tool([
        'tools/test.py', osp.join(work_dir, 'configs', 'student_test.py'),
        osp.join(work_dir, 'checkpoints', 'attnfd_seed1.pth'), '--data-root',
        camvid_root, '--work-dir', str(tmp_path / 'test'), '--metrics-out',
        scored
    ], cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'Iter(test) [3/3]' in out.stdout + out.stderr  # 3 test images
    assert 0 <= json.load(open(scored))['mIoU'] <= 100

    # 4. re-running trains nothing; other settings are refused
    out = run_tool(_args(camvid_root, work_dir), cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count('reusing its results') == len(stages)
    assert not re.search(r'^\[camvid\] \w+: (training|resuming|scoring)',
                         out.stdout, re.M), out.stdout
    out = run_tool(_args(camvid_root, work_dir, iters='3'), cwd=ROOT)
    assert out.returncode != 0
    assert "other settings" in out.stderr and "'iters': [2, 3]" \
        not in out.stderr and "'iters': (2, 3)" in out.stderr


def test_camvid_benchmark_names_a_bad_root(tmp_path):
    os.makedirs(tmp_path / 'train')
    out = run_tool(['tools/benchmarks/camvid.py', str(tmp_path)], cwd=ROOT)
    assert out.returncode == 2
    assert "missing ['trainannot', 'val', 'valannot']" in out.stderr


def _camvid_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'camvid_benchmark', osp.join(ROOT, 'tools', 'benchmarks',
                                     'camvid.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('flags,size,iters,depth', [
    ([], (72, 96), 360, 34),
    # the GPU protocol's settings (slow: every config is written again)
    pytest.param(['--full'], (360, 480), 9175, 101, marks=pytest.mark.slow),
])
def test_camvid_benchmark_stage_configs(tmp_path, camvid_root, flags, size,
                                        iters, depth):
    from mmengine.config import Config
    camvid = _camvid_tool()
    args = camvid.parse_args([camvid_root, '--work-dir', str(tmp_path),
                              *flags])
    bench = camvid.Benchmark(args)
    cfg = Config.fromfile(bench.stage_config('attnfd_seed1', 'attnfd', 1))
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
    assert cfg.model.teacher_ckpt == bench.checkpoint('teacher')
    assert cfg.model.distiller.teacher_layers == f'deeplabv3_r{depth}'
    # opt-in: the learnable teacher-side CBAM, on the same teacher
    tcbam = Config.fromfile(
        bench.stage_config('attnfd_tcbam_seed1', 'attnfd_tcbam', 1))
    assert tcbam.model.distiller.teacher_layers == f'deeplabv3_r{depth}'
    assert tcbam.model.distiller.teacher_connector.learnable is True
    assert tcbam.model.teacher_ckpt == bench.checkpoint('teacher')
    assert tcbam.train_cfg.max_iters == iters
    # opt-in: per-sample normalisation of the AttnFD loss
    sample = Config.fromfile(
        bench.stage_config('attnfd_sample_seed1', 'attnfd_sample', 1))
    assert sample.model.distiller.loss.normalize == 'sample'
    assert sample.model.distiller.loss.loss_weight == 2.0
    assert sample.model.distiller.teacher_layers == f'deeplabv3_r{depth}'
    assert sample.train_cfg.max_iters == iters
    teacher = Config.fromfile(cfg.model.teacher.cfg_path)
    assert teacher.model.backbone.depth == depth
    assert teacher.model.pretrained is None
    assert teacher.train_cfg.max_iters == (iters if flags else 1000)
    test = Config.fromfile(bench.test_config('student'))
    assert test.test_dataloader.dataset.split == 'test'
    resize = [t for t in test.test_dataloader.dataset.pipeline
              if t.type == 'Resize'][0]
    assert tuple(resize.scale) == size[::-1]
    if flags:
        return  # the arms below change the loss, not the protocol
    # opt-in: the loss-scale arms and AttnFD + KD
    w8 = Config.fromfile(
        bench.stage_config('attnfd_sample_w8_seed1', 'attnfd_sample_w8', 1))
    assert (w8.model.distiller.loss.normalize,
            w8.model.distiller.loss.loss_weight) == ('sample', 8.0)
    w16 = Config.fromfile(
        bench.stage_config('attnfd_w16_seed1', 'attnfd_w16', 1))
    assert (w16.model.distiller.loss.normalize,
            w16.model.distiller.loss.loss_weight) == ('batch', 16.0)
    both = Config.fromfile(
        bench.stage_config('attnfd_kd_seed1', 'attnfd_kd', 1))
    kd = Config.fromfile(bench.stage_config('kd_seed1', 'kd', 1))
    assert both.model.distiller.logits_loss == kd.model.distiller.loss
    assert both.model.distiller.loss == w8.model.distiller.loss
    assert both.model.distiller.teacher_layers == f'deeplabv3_r{depth}'
    assert both.model.teacher_ckpt == bench.checkpoint('teacher')
    for arm in (w8, w16, both):
        assert arm.model.distiller.teacher_layers == f'deeplabv3_r{depth}'
        assert arm.train_cfg.max_iters == iters


def test_camvid_benchmark_report_compares_each_attnfd_variant(
        tmp_path, camvid_root):
    camvid = _camvid_tool()
    args = camvid.parse_args([
        camvid_root, '--work-dir', str(tmp_path), '--methods', 'student',
        'kd', 'attnfd', 'attnfd_tcbam'
    ])
    assert camvid.parse_args([camvid_root]).methods == [
        'student', 'kd', 'cwd', 'attnfd'
    ]

    def metrics(miou):
        return {'mIoU': miou, 'IoU.sky': miou + 1, 'IoU.road': miou - 1}
    results = dict(teacher=metrics(40.0), students={
        'student': {0: metrics(30.0), 1: metrics(32.0)},
        'kd': {0: metrics(33.0), 1: metrics(33.0)},
        'attnfd': {0: metrics(30.0), 1: metrics(30.0)},
        'attnfd_tcbam': {0: metrics(34.0), 1: metrics(36.0)},
    })
    report, summary = camvid.summarize(results, {'teacher': 60.0}, args)
    assert 'Teacher minus student alone: +9.00 mIoU.' in report
    assert ('AttnFD (B+E) (mean over seeds) minus DeepLabV3-R18 alone: '
            '-1.00, KD: -3.00 mIoU.') in report
    assert ('AttnFD (B+E), learnable teacher CBAM (mean over seeds) minus '
            'DeepLabV3-R18 alone: +4.00, KD: +2.00 mIoU.') in report
    assert summary['methods']['attnfd_tcbam']['mean'] == 35.0
    assert summary['methods']['attnfd_tcbam']['per_class']['sky'] == 36.0
    assert '| + AttnFD (B+E), learnable teacher CBAM | 0 1 | 34.00 / ' \
        '36.00 | 35.00 | 1.41 | 2.00 | +4.00 |' in report


def test_camvid_benchmark_reuses_a_teacher_checkpoint(tmp_path, camvid_root,
                                                      capsys):
    """--teacher-checkpoint: checked against the run's teacher model, then
    used as its teacher without training one; the work dir is bound to
    it."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    camvid = _camvid_tool()
    flags = ['--size', '32x32', '--teacher-depth', '34']
    first = camvid.Benchmark(camvid.parse_args(
        [camvid_root, '--work-dir', str(tmp_path / 'first'), *flags]))
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(
            Config.fromfile(first.test_config('teacher')).model)
    src = str(tmp_path / 'r34.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=CLASSES))), src)

    args = camvid.parse_args([camvid_root, '--work-dir',
                              str(tmp_path / 'bench'), *flags,
                              '--teacher-checkpoint', src])
    camvid.check_settings(args)
    bench = camvid.Benchmark(args)
    bench.train('teacher', 'teacher', 0)
    adopted = torch.load(bench.checkpoint('teacher'), weights_only=True)
    assert adopted['meta']['dataset_meta']['classes'] == CLASSES
    for key, value in model.state_dict().items():
        assert torch.equal(adopted['state_dict'][key], value), key
    assert not os.listdir(bench.dirs['train'])  # nothing trained
    _, summary = camvid.summarize(
        dict(teacher={'mIoU': 40.0}, students={}), {}, args)
    assert summary['settings']['teacher_checkpoint'] == src

    # the same work dir without the flag is another run
    with pytest.raises(SystemExit, match='other settings'):
        camvid.check_settings(camvid.parse_args(
            [camvid_root, '--work-dir', str(tmp_path / 'bench'), *flags]))
    # weights of another teacher depth are named, not used
    args = camvid.parse_args([
        camvid_root, '--work-dir', str(tmp_path / 'r50'), '--size', '32x32',
        '--teacher-depth', '50', '--teacher-checkpoint', src])
    with pytest.raises(SystemExit, match='not a DeepLabV3-R50-D8'):
        camvid.Benchmark(args).train('teacher', 'teacher', 0)
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
            '--teacher-checkpoint', bench.checkpoint('teacher')])
    assert "this work dir's own teacher" in capsys.readouterr().err


def _method(seeds):
    return dict(mIoU={str(i): v for i, v in enumerate(seeds)},
                mean=statistics.fmean(seeds))


def test_camvid_benchmark_verdict_needs_the_mean_and_every_seed():
    camvid = _camvid_tool()
    methods = dict(student=_method([30, 31]), kd=_method([34, 33]),
                   cwd=_method([35, 33]), attnfd=_method([36, 32.5]),
                   attnfd_kd=_method([35.5, 34]),
                   attnfd_w16=_method([35, 34]))
    # attnfd: best mean over KD, not on seed 1; attnfd_w16 ties CWD on seed 0
    assert camvid.verdicts(methods) == dict(
        attnfd=False, attnfd_kd=True, attnfd_w16=False)
    del methods['cwd']
    assert camvid.verdicts(methods) == {}


def test_camvid_benchmark_chart(tmp_path):
    camvid = _camvid_tool()
    summary = dict(teacher={'mIoU': 40.0}, methods=dict(
        student=_method([30, 31]), kd=_method([34, 33]),
        attnfd_kd=_method([35.5, 34])))
    path = str(tmp_path / 'results.png')
    camvid.plot(summary, path, 'Val split, 72x96')
    with Image.open(path) as image:
        assert image.format == 'PNG' and image.size[0] > 300


def test_camvid_benchmark_report_states_each_verdict(tmp_path, camvid_root):
    camvid = _camvid_tool()
    args = camvid.parse_args([camvid_root, '--work-dir', str(tmp_path)])

    def metrics(miou):
        return {'mIoU': miou, 'IoU.sky': miou}
    seeds = dict(student=(30, 31), kd=(34, 33), cwd=(35, 33),
                 attnfd=(36, 32.5), attnfd_kd=(35.5, 34))
    results = dict(teacher=metrics(40.0), students={
        m: {s: metrics(v) for s, v in enumerate(values)}
        for m, values in seeds.items()})
    report, summary = camvid.summarize(results, {}, args)
    assert ('AttnFD (B+E), per-sample norm, weight 8, + KD beats KD and CWD '
            'on the mean and on every seed: yes.') in report
    assert ('AttnFD (B+E) beats KD and CWD on the mean and on every seed: '
            'no.') in report
    assert summary['methods']['attnfd_kd']['beats_kd_and_cwd'] is True
    assert 'beats_kd_and_cwd' not in summary['methods']['kd']
    assert '![mIoU per method](results.png)' in report
