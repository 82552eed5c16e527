# Copyright (c) attnfd-mm contributors. All rights reserved.
"""attnfd_mm.comparison and tools/compare.py: statistics against hand
computations, the shortened schedule, the same-time arm from given step
times, named errors before training, and a killed comparison that the same
command finishes."""
import dataclasses
import json
import math
import os
import os.path as osp
import re
import signal
import subprocess
import sys

import pytest
import torch
from conftest import load_tool, wait_for_file
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS

from attnfd_mm.comparison import (SAME_TIME, Arm, Comparison,
                                  ComparisonError, Plan, StageRunner,
                                  compare_arms, paired_difference,
                                  same_time_iters, shorten_schedule,
                                  summarize_arms, t_quantile_975)
from attnfd_mm.comparison.schedule import ScheduleError
from attnfd_mm.testing import SHAPES_CLASSES
from attnfd_mm.testing.tiny_configs import (deeplabv3_segmentor,
                                            tiny_runner_config)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


# ------------------------------------------------------------ statistics
def test_t_quantiles_are_the_tables():
    # two-sided 95 % critical values of Student's t, from printed tables
    assert t_quantile_975(1) == 12.706
    assert t_quantile_975(4) == 2.776
    assert t_quantile_975(30) == 2.042
    assert t_quantile_975(120) == 1.960
    with pytest.raises(ValueError):
        t_quantile_975(0)


def test_paired_difference_by_hand():
    a = {'0': 35.0, '1': 36.0, '2': 34.0, '3': 37.0, '4': 38.0}
    b = {'0': 34.0, '1': 34.0, '2': 31.0, '3': 33.0, '4': 33.0}
    # diffs 1 2 3 4 5: mean 3, sample sd sqrt(2.5), se sqrt(2.5/5)
    diff = paired_difference(a, b)
    assert list(diff['diffs'].values()) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert diff['mean'] == pytest.approx(3.0)
    half = 2.776 * math.sqrt(0.5)  # 1.96299
    assert diff['ci95'] == pytest.approx([3.0 - half, 3.0 + half])
    assert diff['beats'] is True
    # only common seeds are paired; one seed has no interval
    one = paired_difference({'0': 2.0, '9': 1.0}, {'0': 1.5})
    assert (one['diffs'], one['ci95']) == ({'0': 0.5}, None)
    assert paired_difference({'1': 1.0}, {'0': 1.0}) is None


def test_same_time_iterations_from_given_step_times():
    assert same_time_iters(360, 1.30, 1.02) == 459  # 458.8
    assert same_time_iters(360, 0.5, 0.5) == 360
    with pytest.raises(ValueError):
        same_time_iters(360, 0.0, 1.0)


def _result(miou, step=1.0, iters=10):
    return dict(metrics={'mIoU': miou, 'IoU.road': miou + 1}, iters=iters,
                step_s=step, peak_memory_mib=100.0, wall_s=60.0)


def test_verdicts_need_the_mean_and_every_seed():
    arms = {
        'student': {'0': _result(30.0), '1': _result(31.0)},
        'kd': {'0': _result(33.0), '1': _result(32.0)},
        'cwd': {'0': _result(32.0), '1': _result(34.0)},
        # above KD on the mean (33.5 > 32.5) and on each seed; above CWD on
        # the mean (33.5 > 33.0) but not on seed 1
        'attnfd_kd': {'0': _result(34.0), '1': _result(33.0)},
    }
    summary = summarize_arms(arms, lambda m: m)
    assert summary['attnfd_kd']['mean'] == 33.5
    assert summary['attnfd_kd']['std'] == pytest.approx(math.sqrt(0.5))
    assert summary['attnfd_kd']['per_class'] == {'road': 34.5}
    pairs = compare_arms(summary)
    assert pairs['attnfd_kd']['kd']['beats'] is True
    assert pairs['attnfd_kd']['cwd']['beats'] is False
    assert pairs['attnfd_kd']['cwd']['diffs'] == {'0': 2.0, '1': -1.0}
    # mean 0.5, sd of (2, -1) = 2.1213, se 1.5, t(1) = 12.706
    assert pairs['attnfd_kd']['cwd']['ci95'] == pytest.approx(
        [0.5 - 12.706 * 1.5, 0.5 + 12.706 * 1.5])
    assert pairs['attnfd_kd']['student']['beats'] is True
    assert 'student' not in pairs  # the reference is not an arm to judge
    assert set(pairs['kd']) == {'student', 'cwd'}


def test_report_scores_test_beside_val_and_the_gap_closed():
    from attnfd_mm.comparison.report import report

    def arm(val, test):
        return {s: dict(_result(v), test_metrics={'mIoU': t})
                for s, v, t in zip('01', val, test)}

    results = dict(
        teacher={'mIoU': 40.0}, teacher_test={'mIoU': 36.0},
        arms={'student': arm([30.0, 32.0], [28.0, 29.0]),
              'kd': arm([35.0, 36.0], [30.0, 33.0]),
              'student_same_time': arm([31.0, 33.0], [29.0, 28.0])})
    text, data = report(results, str, same_time_as='kd')
    kd = data['arms']['kd']
    assert kd['test_mIoU'] == {'0': 30.0, '1': 33.0}
    assert kd['test_mean'] == 31.5
    assert kd['test_std'] == pytest.approx(math.sqrt(4.5))
    # val: (35.5 - 31) / (40 - 31); test: (31.5 - 28.5) / (36 - 28.5)
    assert kd['gap_closed'] == pytest.approx(0.5)
    assert kd['test_gap_closed'] == pytest.approx(0.4)
    test_pairs = data['comparisons_test']
    assert test_pairs['kd']['student']['diffs'] == {'0': 2.0, '1': 4.0}
    assert data['comparisons']['kd']['student']['diffs'] == {
        '0': 5.0, '1': 4.0}
    assert test_pairs['student_same_time']['kd']['diffs'] == {
        '0': -1.0, '1': -5.0}
    assert data['teacher_test'] == {'mIoU': 36.0}
    assert '| kd | 30.00 / 33.00 | 31.50 | 2.12 | +3.00 | +0.50 | +0.40 |' \
        in text, text
    assert '| teacher | 36.00 | 36.00 | - | +7.50 | - | - |' in text
    assert 'The same on the test split:' in text
    assert 'as many iterations as kd\'s compute buys' in text
    # no test scores: no test table, and the default same-time wording
    for got in results['arms'].values():
        for r in got.values():
            r.pop('test_metrics')
    del results['teacher_test']
    text, data = report(results, str)
    assert 'test split' not in text and 'comparisons_test' not in data
    assert data['arms']['kd']['test_mIoU'] is None
    assert 'the slowest distillation arm\'s compute' in text


# ------------------------------------------------------------------ plan
def test_arms_and_plan_are_data():
    # a stage name is made from the fields, never parsed back: methods with
    # underscores and the same-time arm keep their own fields
    arm = Arm('attnfd_kd', 3)
    assert (arm.stage, arm.method, arm.seed) == ('attnfd_kd_seed3',
                                                 'attnfd_kd', 3)
    assert Arm(SAME_TIME, 0).stage == 'student_same_time_seed0'
    assert not Arm(SAME_TIME, 0).distills and Arm('kd', 0).distills
    plan = Plan(('student', 'student_same_time', 'kd', 'kd', 'attnfd'),
                (0, 1), 20)
    assert plan.methods == ('student', 'student_same_time', 'kd', 'attnfd')
    assert plan.distilled == ['kd', 'attnfd']
    assert [a.stage for a in plan.arms()] == [
        'student_seed0', 'kd_seed0', 'attnfd_seed0', 'student_seed1',
        'kd_seed1', 'attnfd_seed1', 'student_same_time_seed0',
        'student_same_time_seed1']
    assert plan.label('attnfd') == 'AttnFD (B+E)'
    assert Plan(('attnfd', ), layers=['B']).label('attnfd') == 'AttnFD (B)'
    assert plan.label(SAME_TIME) == 'student alone, same time'
    with pytest.raises(ComparisonError, match="'cwd' is not one of the "
                       "distillation methods compared: \\['kd'\\]"):
        Plan(('student', 'kd'), same_time_as='cwd')
    # the references: the student alone, the same-time arm and the logit
    # baselines (the methods that distil no feature layer)
    from attnfd_mm.comparison.plan import references
    assert references() == ['student', 'student_same_time', 'cwd', 'kd']


# -------------------------------------------------------------- schedule
def test_shortened_schedule_keeps_its_shape():
    cfg = Config(dict(
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=80000,
                       val_interval=8000),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.1, begin=0, end=1500,
                 by_epoch=False),
            dict(type='PolyLR', power=0.9, begin=1500, end=80000,
                 by_epoch=False)
        ],
        default_hooks=dict(logger=dict(type='LoggerHook', interval=50)),
        val_dataloader=dict(), val_cfg=dict(), val_evaluator=dict()))
    shorten_schedule(cfg, 800, checkpoint_interval=100)
    assert [(s.begin, s.end) for s in cfg.param_scheduler] == [(0, 15),
                                                                (15, 800)]
    assert cfg.train_cfg == dict(type='IterBasedTrainLoop', max_iters=800)
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    assert cfg.default_hooks.checkpoint.interval == 100
    assert cfg.default_hooks.logger.interval == 10


def test_shortened_epoch_schedule_counts_iterations():
    cfg = Config(dict(
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=200),
        param_scheduler=dict(type='MultiStepLR', milestones=[100, 150],
                             by_epoch=True)))
    shorten_schedule(cfg, 1000)
    (scheduler, ) = cfg.param_scheduler
    assert scheduler.milestones == [500, 750]
    assert (scheduler.begin, scheduler.end, scheduler.by_epoch) == (0, 1000,
                                                                    False)
    iter_scheduler = Config(dict(
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=20),
        param_scheduler=[dict(type='PolyLR', by_epoch=False, end=5000)]))
    with pytest.raises(ScheduleError, match='counts iterations'):
        shorten_schedule(iter_scheduler, 100)


# ------------------------------------------------------------ fixtures
@pytest.fixture()
def tiny_files(tmp_path, shapes_root):
    """student.py (DeepLabV3-R18, 4 classes), teacher.py (the same model)
    and teacher.pth in ``tmp_path``."""
    student = tiny_runner_config('unused', shapes_root,
                                 deeplabv3_segmentor('r18'), max_iters=100)
    student.dump(str(tmp_path / 'student.py'))
    teacher = deeplabv3_segmentor('r18')
    Config(dict(model=teacher)).dump(str(tmp_path / 'teacher.py'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        state = MODELS.build(teacher).state_dict()
    torch.save(dict(state_dict=state), str(tmp_path / 'teacher.pth'))
    return tmp_path


def _comparison(files, methods, work_dir='cmp', **kwargs):
    return Comparison(str(files / 'student.py'), str(files / 'teacher.py'),
                      str(files / 'teacher.pth'), str(files / work_dir),
                      methods=methods, **kwargs)


def _step_times(comparison, stage, seconds):
    work_dir = osp.join(comparison.runner.dirs['train'], stage)
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'step_times.json'), 'w') as f:
        json.dump(dict(seconds={str(i + 1): s for i, s in enumerate(seconds)},
                       peak_memory_mib=1.0, device='cpu'), f)


def test_same_time_arm_from_the_recorded_step_times(tiny_files):
    comparison = _comparison(
        tiny_files, ['student', 'kd', 'attnfd_kd', 'student_same_time'],
        seeds=[0], iters=360)
    comparison.bind()
    # the first step (data loader start-up) is left out of the median
    _step_times(comparison, 'student_seed0', [9.0, 1.0, 1.1, 0.9])
    _step_times(comparison, 'kd_seed0', [9.0, 1.2, 1.3, 1.25])
    _step_times(comparison, 'attnfd_kd_seed0', [9.0, 1.5, 1.4, 1.6])
    same_time = Arm(SAME_TIME, 0)
    # the slowest distillation arm: 360 x 1.5 / 1.0
    assert comparison.arm_iters(same_time) == 540
    assert comparison.arm_iters(Arm('kd', 0)) == 360
    comparison.plan = dataclasses.replace(comparison.plan,
                                          same_time_as='kd')
    assert comparison.arm_iters(same_time) == 450  # 360 x 1.25 / 1.0
    assert comparison.arm_config(SAME_TIME, 0, 450)\
        .train_cfg.max_iters == 450
    assert comparison.plan.arms()[-1] == same_time
    with pytest.raises(ComparisonError, match='No step times for the '
                       'same-time arm of seed 1'):
        comparison.arm_iters(Arm(SAME_TIME, 1))


def test_bad_input_is_named_before_training(tiny_files):
    with pytest.raises(ComparisonError, match=r"Unknown methods \['atnfd'\]"):
        _comparison(tiny_files, ['student', 'atnfd'])
    with pytest.raises(ComparisonError, match='needs the student alone'):
        _comparison(tiny_files, ['kd', 'student_same_time'])
    # a work dir holding another comparison
    _comparison(tiny_files, ['student'], iters=5).bind()
    with pytest.raises(ComparisonError, match=r"different comparison.*"
                       r"'iters': \(5, 6\)"):
        _comparison(tiny_files, ['student', 'kd'], iters=6).bind()
    # methods and seeds may be added
    _comparison(tiny_files, ['student', 'kd'], iters=5, seeds=[0, 1]).bind()
    # a teacher of other classes, found before any arm trains
    other = deeplabv3_segmentor('r18', num_classes=7)
    Config(dict(model=other)).dump(str(tiny_files / 'teacher.py'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.save(dict(state_dict=MODELS.build(other).state_dict()),
                   str(tiny_files / 'teacher.pth'))
    comparison = _comparison(tiny_files, ['student', 'kd'], 'cmp2', iters=5)
    comparison.bind()
    with pytest.raises(ValueError, match='teacher predicts 7 classes but '
                       'the student 4'):
        comparison.check()
    assert not os.listdir(comparison.runner.dirs['train'])
    # a checkpoint that does not fit
    Config(dict(model=deeplabv3_segmentor('r18'))).dump(
        str(tiny_files / 'teacher.py'))
    comparison = _comparison(tiny_files, ['student', 'kd'], 'cmp2', iters=5)
    with pytest.raises(ComparisonError, match='--teacher-checkpoint.*does '
                       'not fit the teacher model'):
        comparison.check()


# ------------------------------------------------------------ end to end
def _compare(files, *extra):
    return [
        sys.executable, osp.join(ROOT, 'tools', 'compare.py'), 'student.py',
        'teacher.py', '--teacher-checkpoint', 'teacher.pth', '--iters', '4',
        '--seeds', '0', '--work-dir', 'cmp', '--checkpoint-interval', '1',
        '--cfg-options', 'log_level=INFO',  # logs 'resumed ... iter: N'
        '--methods', 'student', 'kd', *extra
    ]


@pytest.mark.slow
def test_compare_killed_then_continued_writes_its_results(tiny_files,
                                                          monkeypatch):
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)  # the installed package, outside the clone
    work = tiny_files / 'cmp'
    # 1. SIGTERM to the comparison alone (as a scheduler stops a job) while
    # the KD arm trains, once it saved a checkpoint: it stops the training
    # process it started and keeps the interrupted stage's wall time
    proc = subprocess.Popen(_compare(tiny_files), cwd=str(tiny_files),
                            env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    last = work / 'train' / 'kd_seed0' / 'last_checkpoint'
    try:
        wait_for_file(last, proc, 300, "KD's first checkpoint")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 128 + signal.SIGTERM
        with pytest.raises(ProcessLookupError):  # the KD training is gone
            os.killpg(proc.pid, 0)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    interrupted = json.loads((work / 'timings.json').read_text())['kd_seed0']
    assert interrupted > 0
    assert (work / 'metrics' / 'student_seed0.json').is_file()
    assert not (work / 'metrics' / 'kd_seed0.json').is_file()
    student_before = (work / 'metrics' / 'student_seed0.json').read_text()

    # 2. the same command reuses the student arm and resumes KD
    out = subprocess.run(_compare(tiny_files), cwd=str(tiny_files), env=env,
                         capture_output=True, text=True, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert '[compare] student_seed0: reusing its results' in log
    assert '[compare] kd_seed0: resuming 4 iterations' in log
    assert re.search(r'resumed epoch: 0, iter: [123]', log), log[-3000:]
    assert (work / 'metrics' / 'student_seed0.json').read_text() == \
        student_before
    for name in ('results.md', 'results.json', 'results.png'):
        assert (work / name).is_file(), name
    results = json.loads((work / 'results.json').read_text())
    metrics = {arm: json.loads((work / 'metrics' / f'{arm}_seed0.json')
                               .read_text()) for arm in ('student', 'kd')}
    assert results['arms']['kd']['mIoU'] == {'0': metrics['kd']['mIoU']}
    assert results['comparisons']['kd']['student']['diffs'] == {
        '0': pytest.approx(metrics['kd']['mIoU'] -
                           metrics['student']['mIoU'])}
    assert results['arms']['kd']['step_s_mean'] > 0
    assert results['timings_s']['kd_seed0'] > interrupted
    assert results['arms']['kd']['peak_memory_mib'] > 0
    assert results['teacher']['mIoU'] == json.loads(
        (work / 'metrics' / 'teacher.json').read_text())['mIoU']
    report = (work / 'results.md').read_text()
    assert re.search(r'^\| KD \| 0 \| [\d.]+ \| ', report, re.M), report
    # what the networks cost, measured once, beside each arm
    cost = json.loads((work / 'student_vs_teacher.json').read_text())
    assert results['cost'] == cost
    assert [r['arm'] for r in results['cost_rows']] == ['teacher', 'student',
                                                       'kd']
    assert re.search(r'^\| KD \| [\d.]+ \| [-+\d.]+ \| [\d.]+ \| ', report,
                     re.M), report
    assert (work / 'results_cost.png').is_file()
    # the exported students are plain mmseg checkpoints
    ckpt = torch.load(str(work / 'checkpoints' / 'kd_seed0.pth'),
                      weights_only=True)
    assert not any(k.startswith(('architecture.', 'teacher.'))
                   for k in ckpt['state_dict'])
    assert not list((work / 'train' / 'kd_seed0').glob('iter_*.pth'))

    # 3. other settings are refused (in this process: before any
    # training), nothing finished is touched
    monkeypatch.setattr(signal, 'signal', lambda *_: None)  # pytest's own
    monkeypatch.chdir(tiny_files)
    with pytest.raises(SystemExit, match='holds a different comparison'):
        load_tool('tools/compare.py').main(_compare(tiny_files)[2:] + ['--iters', '5'])
    assert (work / 'metrics' / 'student_seed0.json').read_text() == \
        student_before


def test_report_names_the_arm_the_same_time_arm_matched():
    from attnfd_mm.comparison import report
    arms = {
        'student': {'0': _result(30.0)},
        'kd': {'0': _result(32.0, step=1.5)},  # the slowest
        'attnfd_kd': {'0': _result(33.0, step=1.2)},
        'student_same_time': {'0': _result(31.0, iters=12)},
    }
    labels = {'student': 'student alone', 'kd': 'KD',
              'attnfd_kd': 'AttnFD + KD',
              'student_same_time': 'student alone, same time'}
    text, _ = report(dict(teacher={'mIoU': 40.0}, arms=arms), labels.get,
                     same_time_as='attnfd_kd')
    assert "as many iterations as AttnFD + KD's compute buys" in text
    assert 'slowest' not in text
    text, _ = report(dict(teacher={'mIoU': 40.0}, arms=arms), labels.get)
    assert "as many iterations as the slowest distillation arm's compute " \
        'buys' in text


FAKE_TRAIN = """
import json, os, sys
assert sys.argv[1] == 'train'
work_dir = sys.argv[3]
if MODE != 'no folder':
    os.makedirs(work_dir)
if MODE == 'ok':
    with open(os.path.join(work_dir, 'step_times.json'), 'w') as f:
        json.dump(dict(seconds={'1': 9.0, '2': 2.0}), f)
sys.exit(0 if MODE == 'ok' else 3)
"""


def test_estimate_names_only_folders_that_exist(tiny_files, monkeypatch):
    """A timing run that fails names its logs folder only when there is
    one, and keeps it; one that finishes leaves nothing behind."""
    fake = tiny_files / 'fake_stages.py'
    monkeypatch.setattr(StageRunner, 'command', [sys.executable, str(fake)])
    comparison = _comparison(tiny_files, ['student'], iters=5)
    for mode in ('folder', 'no folder'):
        fake.write_text(f'MODE = {mode!r}\n' + FAKE_TRAIN)
        with pytest.raises(SystemExit) as failed:
            comparison.estimate()
        message = str(failed.value)
        named = re.findall(r'logs are under (\S+)\.', message)
        if mode == 'folder':
            assert named and osp.isdir(named[0]), message
        else:
            assert not named and 'its output is above' in message, message
    fake.write_text("MODE = 'ok'\n" + FAKE_TRAIN)
    assert comparison.estimate().endswith(
        'min of training (plus start-up and scoring of each arm).')
    assert not osp.exists(osp.join(comparison.work_dir, 'estimate'))


def test_chart_draws_every_arm(tmp_path):
    from PIL import Image

    from attnfd_mm.comparison import plot
    arms = {
        'student': {'0': _result(30.0), '1': _result(31.0)},
        'attnfd_kd': {'0': _result(34.0), '1': _result(33.0)},
    }
    data = dict(teacher={'mIoU': 40.0}, arms=summarize_arms(arms, str))
    path = str(tmp_path / 'results.png')
    plot(data, path, 'Val split')
    with Image.open(path) as image:
        assert image.format == 'PNG' and image.size[0] > 300


def test_a_stage_trains_exports_and_scores(tiny_files, shapes_root):
    """attnfd_mm.apis.stages, run in-process: the student's weights of the
    final checkpoint exported, a finished run not trained again, the
    training checkpoints removed, and metrics only for weights that fit
    the model."""
    from mmengine.runner import CheckpointLoader

    from attnfd_mm.apis import stages
    from attnfd_mm.apis.test_config import CheckpointMismatchError
    comparison = _comparison(tiny_files, ['student', 'kd'], iters=2)
    comparison.bind()
    config = str(tiny_files / 'kd.py')
    comparison.arm_config('kd', 0).dump(config)
    work_dir, export = str(tiny_files / 'kd'), str(tiny_files / 'kd.pth')
    stages.main(['train', config, work_dir, export, '--keep-checkpoints'])
    final = CheckpointLoader.load_checkpoint(
        osp.join(work_dir, 'iter_2.pth'), map_location='cpu')['state_dict']
    plain = torch.load(export, weights_only=True)['state_dict']
    student = {k[len('architecture.'):]: v for k, v in final.items()
               if k.startswith('architecture.')}
    assert set(plain) == set(student)
    assert all(torch.equal(plain[k], v) for k, v in student.items())
    os.remove(export)
    os.remove(osp.join(work_dir, 'last_checkpoint'))  # no resume, no train
    val = str(tiny_files / 'val.py')
    comparison.val_config().dump(val)
    metrics = str(tiny_files / 'metrics.json')
    stages.main(['train', config, work_dir, export, '--score', val,
                 str(tiny_files / 'eval'), metrics])
    assert osp.isfile(export) and not list(
        (tiny_files / 'kd').glob('iter_*.pth'))
    with open(metrics) as f:
        scores = json.load(f)
    assert 0 <= scores['mIoU'] <= 100
    assert {f'IoU.{c}' for c in SHAPES_CLASSES} <= set(scores), scores
    # the exported weights scored in a process of their own: the same
    stages.main(['test', export, '--score', val, str(tiny_files / 'eval1'),
                 metrics + '1'])
    with open(metrics + '1') as f:
        assert json.load(f) == scores
    # weights with other keys (here, a distillation checkpoint's)
    other = str(tiny_files / 'distillation.pth')
    torch.save(dict(state_dict={f'architecture.{k}': v
                                for k, v in plain.items()}), other)
    with pytest.raises(CheckpointMismatchError, match='does not fit'):
        stages.main(['test', other, '--score', val,
                     str(tiny_files / 'eval2'), metrics + '2'])


def test_a_finished_work_dir_is_reused_without_a_child(tiny_files,
                                                       monkeypatch):
    """A work dir as every version writes it (comparison.json,
    metrics/<stage>[.test].json, checkpoints/<stage>.pth, step_times.json,
    timings.json) gives its results again without starting a process."""
    monkeypatch.setattr(StageRunner, 'command',
                        [sys.executable, '-c', 'raise SystemExit(7)'])
    comparison = _comparison(tiny_files, ['student', 'kd'], iters=5,
                             test_split=True, measure_cost=False)
    work = tiny_files / 'cmp'
    for folder in ('metrics', 'checkpoints', 'train/student_seed0',
                   'train/kd_seed0'):
        (work / folder).mkdir(parents=True)
    (work / 'comparison.json').write_text(json.dumps(comparison.settings()))
    (work / 'timings.json').write_text(json.dumps(
        {'teacher': 3.0, 'student_seed0': 60.0, 'kd_seed0': 90.0}))
    scores = {'teacher': 50.0, 'student_seed0': 30.0, 'kd_seed0': 34.0}
    for stage, miou in scores.items():
        for suffix, delta in (('', 0.0), ('.test', -1.0)):
            (work / 'metrics' / f'{stage}{suffix}.json').write_text(
                json.dumps({'mIoU': miou + delta}))
        if stage != 'teacher':
            (work / 'checkpoints' / f'{stage}.pth').write_bytes(b'')
    _step_times(comparison, 'student_seed0', [9.0, 1.0, 1.0])
    _step_times(comparison, 'kd_seed0', [9.0, 2.0, 1.0, 3.0])
    comparison.bind()
    results = comparison.run()
    assert results['teacher'] == {'mIoU': 50.0}
    assert results['teacher_test'] == {'mIoU': 49.0}
    kd = results['arms']['kd']['0']
    assert kd['metrics'] == {'mIoU': 34.0}
    assert kd['test_metrics'] == {'mIoU': 33.0}
    assert (kd['iters'], kd['step_s'], kd['wall_s']) == (5, 2.0, 90.0)
    assert results['arms']['student']['0']['step_s'] == 1.0
    # the projected time of a same-time arm left: 5 x 2.0 / 1.0 iterations
    # at the student's 60 s / 5 iterations
    assert comparison.eta([Arm(SAME_TIME, 0)]) == pytest.approx(10 * 12.0)


FAKE_STAGES = """
import json, os, sys
args = sys.argv[1:]
if args[0] == 'train':  # config work_dir export [--keep-checkpoints]
    os.makedirs(args[2], exist_ok=True)
    with open(os.path.join(args[2], 'step_times.json'), 'w') as f:
        json.dump(dict(seconds={'1': 9.0, '2': 1.0}), f)
    open(args[3], 'wb').close()
for i, arg in enumerate(args):  # --score config eval_dir metrics
    if arg == '--score':
        with open(args[i + 3], 'w') as f:
            json.dump({'mIoU': 30.0 + 5 * ('kd' in args[i + 3])}, f)
"""


def test_compare_tool_runs_checks_and_reports(tiny_files, monkeypatch,
                                              capsys):
    """tools/compare.py through run_comparison, its stages faked: checked,
    run and reported once, then another setting refused by name."""
    compare = load_tool('tools/compare.py')
    fake = tiny_files / 'fake_stages.py'
    fake.write_text(FAKE_STAGES)
    monkeypatch.setattr(StageRunner, 'command', [sys.executable, str(fake)])
    monkeypatch.setattr(signal, 'signal', lambda *_: None)  # pytest's own
    monkeypatch.chdir(tiny_files)
    argv = ['student.py', 'teacher.py', '--teacher-checkpoint',
            'teacher.pth', '--iters', '2', '--seeds', '0', '--methods',
            'student', 'kd', '--work-dir', 'cmp', '--no-cost']
    compare.main(argv)
    out = capsys.readouterr().out
    assert 'checking the teacher checkpoint and the arms' in out
    assert '| KD | 0 | 35.00 |' in out and '[compare] results: ' in out
    # one child process a stage: an arm is scored where it trained
    assert re.findall(r'^\[compare\] (\S+): (training|scoring)', out,
                      re.M) == [('teacher', 'scoring'),
                                ('student_seed0', 'training'),
                                ('kd_seed0', 'training')], out
    results = json.loads((tiny_files / 'cmp' / 'results.json').read_text())
    assert results['comparisons']['kd']['student']['diffs'] == {'0': 5.0}
    with pytest.raises(SystemExit, match=r"\[compare\] ComparisonError: "
                       r".* holds a different comparison .*'iters': \(2, 3"):
        compare.main(argv + ['--iters', '3'])
