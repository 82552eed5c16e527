# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Faults a long run survives: a corrupt latest checkpoint, a save cut
short."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import load_tool, run_tool, wait_for_file
from mmengine.runner import CheckpointLoader

from attnfd_mm.apis import train
from attnfd_mm.apis.training import NoGoodCheckpointError
from attnfd_mm.testing import tiny_distill_model, tiny_runner_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _cfg(work_dir, shapes_root, name):
    cfg = tiny_runner_config(str(work_dir), shapes_root,
                             tiny_distill_model('r18', 'r18'), max_iters=6,
                             checkpoint_interval=2)
    cfg.visualizer = dict(type='Visualizer', name=name)
    return cfg


def _state(path):
    return CheckpointLoader.load_checkpoint(str(path),
                                            map_location='cpu')['state_dict']


@pytest.mark.slow
def test_resume_skips_a_corrupt_latest_checkpoint(tmp_path, shapes_root):
    work = tmp_path / 'w'
    train(_cfg(work, shapes_root, 'faults_whole'))
    expected = _state(work / 'iter_6.pth')
    # the newest checkpoint truncated, the one before garbage
    data = (work / 'iter_6.pth').read_bytes()
    (work / 'iter_6.pth').write_bytes(data[:len(data) // 2])
    (work / 'iter_4.pth').write_bytes(b'not a checkpoint')
    runner = train(_cfg(work, shapes_root, 'faults_resumed'), resume=True)
    assert runner.iter == 6
    (log, ) = sorted(work.glob('*/*.log'))[-1:]
    text = log.read_text()
    assert f'--resume: skipping {work / "iter_6.pth"}, which does not ' \
        'load' in text
    assert f'skipping {work / "iter_4.pth"}' in text
    assert f'--resume: resuming from {work / "iter_2.pth"}.' in text
    got = _state(work / 'iter_6.pth')
    for key, value in expected.items():
        torch.testing.assert_close(got[key], value, rtol=0, atol=1e-6,
                                   msg=key)
    # none loads: named, with the way out
    for path in work.glob('iter_*.pth'):
        path.write_bytes(b'')
    with pytest.raises(NoGoodCheckpointError, match='no checkpoint of .* '
                       'loads.*Start over without --resume'):
        train(_cfg(work, shapes_root, 'faults_none'), resume=True)


#: a plugin making every checkpoint write slow: half the bytes, a marker
#: file, a pause, then the rest
SLOW_PUT = '''
import os, time
from mmengine.fileio.backends import local_backend

original = local_backend.LocalBackend.put


def put(self, obj, filepath):
    if 'iter_4.pth' in str(filepath):  # the checkpoint or its temp file
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 2])
            f.flush()
            open(os.environ['SLOW_PUT_MARKER'], 'w').close()
            time.sleep(600)
            f.write(obj[len(obj) // 2:])
        return
    original(self, obj, filepath)


local_backend.LocalBackend.put = put
'''


@pytest.mark.slow
def test_a_save_cut_short_leaves_the_last_checkpoint_whole(
        tmp_path, shapes_root):
    (tmp_path / 'slow_put.py').write_text(SLOW_PUT)
    cfg = _cfg('unused', shapes_root, 'v')
    cfg.pop('work_dir')
    cfg.custom_imports = dict(imports=['attnfd_mm', 'slow_put'],
                              allow_failed_imports=False)
    config = str(tmp_path / 'cfg.py')
    cfg.dump(config)
    work, marker = tmp_path / 'w', tmp_path / 'writing'
    env = dict(os.environ, PYTHONPATH=f'{ROOT}:{tmp_path}',
               SLOW_PUT_MARKER=str(marker))
    proc = subprocess.Popen(
        [sys.executable, 'tools/train.py', config, '--work-dir', str(work)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        wait_for_file(marker, proc, 300, 'the save of iter_4')
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # killed while writing iter_4: the pointer and iter_2 are intact
    assert (work / 'last_checkpoint').read_text().strip() == \
        str(work / 'iter_2.pth')
    assert not (work / 'iter_4.pth').exists()
    assert list(work.glob('.iter_4.pth.*.tmp'))  # the partial write
    assert _state(work / 'iter_2.pth')  # loads
    # the same command with --resume continues from iter_2
    cfg.custom_imports = dict(imports=['attnfd_mm'],
                              allow_failed_imports=False)
    cfg.log_level = 'INFO'
    cfg.dump(config)
    out = run_tool(['tools/train.py', config, '--work-dir', str(work),
                    '--resume'], cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f'--resume: resuming from {work / "iter_2.pth"}' in \
        out.stdout + out.stderr
    assert 'resumed epoch: 0, iter: 2' in out.stdout + out.stderr
    assert (work / 'iter_6.pth').is_file()


def _rank_pids(launcher_pid: int) -> dict:
    """LOCAL_RANK -> pid of the workers that torchrun, a descendant of
    ``launcher_pid``, started (each in a session of its own)."""
    parent, env = {}, {}
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/stat') as f:
                parent[int(pid)] = int(f.read().rsplit(')', 1)[1].split()[1])
            with open(f'/proc/{pid}/environ', 'rb') as f:
                env[int(pid)] = dict(
                    item.split(b'=', 1) for item in f.read().split(b'\0')
                    if b'=' in item)
        except (OSError, ValueError):
            continue

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parent.get(pid, 0)
            if pid == launcher_pid:
                return True
        return False

    return {int(e[b'LOCAL_RANK']): pid for pid, e in env.items()
            if b'TORCHELASTIC_RUN_ID' in e and b'LOCAL_RANK' in e
            and descends(pid)}


@pytest.mark.slow
def test_a_dead_rank_stops_the_run_then_resume_matches(tmp_path,
                                                       shapes_root):
    """SIGKILL to rank 1 of a 2-process gloo run: the launcher and rank 0
    exit non-zero within 60 s, naming local rank 1; --resume then ends with
    the weights of an uninterrupted 2-process run."""
    import socket

    def free_port() -> str:
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            return str(s.getsockname()[1])

    cfg = _cfg('unused', shapes_root, 'v')
    cfg.pop('work_dir')
    cfg.train_cfg.max_iters = 8
    cfg.param_scheduler[0].end = 8
    cfg.custom_imports = dict(imports=['attnfd_mm'],
                              allow_failed_imports=False)
    config = str(tmp_path / 'cfg.py')
    cfg.dump(config)

    def launch(work, *extra, **popen):
        return subprocess.Popen(
            ['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
             str(work), *extra], cwd=ROOT, text=True,
            env=dict(os.environ, PYTHON=sys.executable, PORT=free_port(),
                     OMP_NUM_THREADS='1', PYTHONPATH=ROOT), **popen)

    whole = launch(tmp_path / 'whole', stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT)
    assert whole.wait(timeout=900) == 0, whole.stdout.read()[-3000:]

    work = tmp_path / 'killed'
    proc = launch(work, start_new_session=True, stdout=subprocess.PIPE,
                  stderr=subprocess.STDOUT)
    try:
        wait_for_file(work / 'iter_2.pth', proc, 300, 'iter_2.pth')
        ranks = _rank_pids(proc.pid)
        assert set(ranks) == {0, 1}, ranks
        os.kill(ranks[1], signal.SIGKILL)
        killed_at = time.time()
        returncode = proc.wait(timeout=60)
        seconds = time.time() - killed_at
        log = proc.stdout.read()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert returncode != 0
    assert seconds < 60
    assert 'local_rank: 1' in log and f'pid: {ranks[1]}' in log, log[-3000:]
    with pytest.raises(ProcessLookupError):  # rank 0 is gone too
        os.kill(ranks[0], 0)
    print(f'launcher exited {seconds:.1f} s after rank 1 was killed')

    resumed = launch(work, '--resume', stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT)
    log = resumed.stdout.read()
    assert resumed.wait(timeout=900) == 0, log[-3000:]
    assert '--resume: resuming from' in log
    expected = _state(tmp_path / 'whole' / 'iter_8.pth')
    got = _state(work / 'iter_8.pth')
    for key, value in expected.items():
        torch.testing.assert_close(got[key], value, rtol=0, atol=1e-6,
                                   msg=key)


def _bad_samples_root(root, case: str) -> str:
    """One good sample (64x64, labels 0-3) and one with ``case``'s fault,
    in mmseg's img_dir/ann_dir layout."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    suffix = '.jpg' if case == 'truncated_jpeg' else '.png'
    for folder in ('img_dir/train', 'ann_dir/train'):
        os.makedirs(osp.join(root, folder))
    for name in ('a_good', 'b_bad'):
        image = rng.integers(0, 255, (64, 64, 3), np.uint8)
        label = rng.integers(0, 4, (64, 64), np.uint8)
        if name == 'b_bad' and case == 'label_value':
            label[5, 5] = 9
        if name == 'b_bad' and case == 'label_size':
            label = label[:32, :48]
        img_path = osp.join(root, 'img_dir/train', name + suffix)
        Image.fromarray(image).save(img_path)
        Image.fromarray(label).save(osp.join(root, 'ann_dir/train',
                                             name + '.png'))
        if name == 'b_bad' and case.startswith('truncated'):
            data = open(img_path, 'rb').read()
            open(img_path, 'wb').write(data[:len(data) * 2 // 3])
    return root


def _dataset(root, suffix='.png', skip_bad=False):
    from mmengine.registry import DefaultScope
    from mmseg.datasets import BaseSegDataset
    with DefaultScope.overwrite_default_scope('mmseg'):
        return _seg_dataset(BaseSegDataset, root, suffix, skip_bad)


def _seg_dataset(BaseSegDataset, root, suffix, skip_bad):
    return BaseSegDataset(
        data_root=root, img_suffix=suffix, seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/train',
                         seg_map_path='ann_dir/train'),
        metainfo=dict(classes=('a', 'b', 'c', 'd')),
        pipeline=[dict(type='CheckSegSample', num_classes=4,
                       skip_bad=skip_bad),
                  dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations'),
                  dict(type='PackSegInputs')])


@pytest.mark.parametrize('case,message', [
    ('truncated_png', r"b_bad\.png does not decode \(.*\)"),
    ('truncated_jpeg', r"b_bad\.jpg does not decode \(.*\)"),
    ('label_value', r"b_bad\.png holds label values \[9\] outside the 4 "
     r"classes \[0, 3\] and the ignore index 255"),
    ('label_size', r"ann_dir/train/b_bad\.png is 32x48 but its image "
     r".*b_bad\.png is 64x64"),
])
def test_a_bad_sample_is_named(tmp_path, case, message):
    from attnfd_mm.datasets import BadSampleError
    root = _bad_samples_root(str(tmp_path / case), case)
    dataset = _dataset(root, '.jpg' if case == 'truncated_jpeg' else '.png')
    assert dataset[0]['inputs'].shape[-2:] == (64, 64)  # the good one
    with pytest.raises(BadSampleError, match=message):
        dataset[1]
    # opt-in: logged and skipped, another sample is loaded instead
    skipping = _dataset(root, '.jpg' if case == 'truncated_jpeg' else
                        '.png', skip_bad=True)
    assert skipping[1]['data_samples'].img_path.endswith(
        'a_good' + ('.jpg' if case == 'truncated_jpeg' else '.png'))


def test_a_bad_label_stops_distillation_before_the_step(tmp_path,
                                                         monkeypatch):
    """tools/distill.py's composed config checks samples: a label outside
    the classes is named in the data loader, before any step."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    from attnfd_mm.datasets import BadSampleError
    from attnfd_mm.testing.tiny_configs import deeplabv3_segmentor
    root = _bad_samples_root(str(tmp_path / 'data'), 'label_value')
    import shutil
    for kind in ('img_dir', 'ann_dir'):  # the val split: the good sample
        os.makedirs(osp.join(root, kind, 'val'))
        shutil.copy(osp.join(root, kind, 'train', 'a_good.png'),
                    osp.join(root, kind, 'val', 'a_good.png'))
    student = tiny_runner_config('unused', root, deeplabv3_segmentor('r18'),
                                 max_iters=2, batch_size=2)
    student.dump(str(tmp_path / 'student.py'))
    Config(dict(model=deeplabv3_segmentor('r18'))).dump(
        str(tmp_path / 'teacher.py'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        state = MODELS.build(deeplabv3_segmentor('r18')).state_dict()
    torch.save(dict(state_dict=state), str(tmp_path / 'teacher.pth'))
    tool = load_tool('tools/distill.py')
    monkeypatch.chdir(tmp_path)
    args = tool.parse_args(['student.py', 'teacher.py',
                            '--teacher-checkpoint', 'teacher.pth',
                            '--work-dir', 'w'])
    args.cfg_options = {'visualizer': dict(type='Visualizer',
                                           name='vis_bad_label')}
    with pytest.raises(BadSampleError, match=r'b_bad\.png holds label '
                       r'values \[9\].*--skip-bad-samples with '
                       r'tools/distill\.py and tools/compare\.py'):
        tool.main_with(args)
    assert not list((tmp_path / 'w').glob('iter_*.pth'))
    # the fix the message names: the checks skip bad samples (as
    # test_a_bad_sample_is_named shows), training runs
    skipping = tool.parse_args(['student.py', 'teacher.py',
                                '--teacher-checkpoint', 'teacher.pth',
                                '--work-dir', 'w2', '--skip-bad-samples',
                                '--print-config'])
    skipping.cfg_options = None
    composed = Config.fromfile(tool.compose(skipping))
    for split in ('train', 'val', 'test'):
        assert composed[f'{split}_dataloader'].dataset.pipeline[0] == dict(
            type='CheckSegSample', num_classes=4, ignore_index=255,
            skip_bad=True)
    # compare.py passes the same flag to every arm
    compare = load_tool('tools/compare.py')
    for flag, skip in (([], False), (['--skip-bad-samples'], True)):
        comparison = compare.build(compare.parse_args([
            'student.py', 'teacher.py', '--teacher-checkpoint',
            'teacher.pth', *flag]))
        cfg = comparison.arm_config('kd', 0)
        assert cfg.train_dataloader.dataset.pipeline[0] == dict(
            type='CheckSegSample', num_classes=4, ignore_index=255,
            skip_bad=skip)


def test_each_sample_is_checked_once_per_process(tmp_path, monkeypatch):
    """A sample that passed is not decoded again; a bad one is named every
    time."""
    from attnfd_mm.datasets import BadSampleError, check_seg_sample
    root = _bad_samples_root(str(tmp_path / 'data'), 'label_value')
    dataset = _dataset(root)
    checked = []
    problems = check_seg_sample.CheckSegSample.problems
    monkeypatch.setattr(
        check_seg_sample.CheckSegSample, 'problems',
        lambda self, results: checked.append(results['img_path']) or
        problems(self, results))
    for _ in range(3):  # three epochs
        assert dataset[0]['inputs'].shape[-2:] == (64, 64)
    assert [osp.basename(p) for p in checked] == ['a_good.png']
    for _ in range(2):
        with pytest.raises(BadSampleError):
            dataset[1]
    assert [osp.basename(p) for p in checked] == ['a_good.png'] + \
        ['b_bad.png'] * 2


@pytest.mark.parametrize('raw,mode,reduce_zero,label_map,outside', [
    # 8-bit: the table of raw values; reduce_zero_label: 0 -> 255, v -> v-1
    ([0, 1, 4], 'L', True, None, []),
    ([0, 1, 5], 'L', True, None, [4]),
    ([3, 255], 'L', False, None, []),
    ([3, 250, 255], 'L', False, None, [250]),
    ([7, 2], 'L', False, {7: 1}, []),
    ([7, 9], 'L', False, {7: 1}, [9]),
    # 16-bit labels: the values themselves
    ([2, 300], 'I;16', False, None, [300]),
    ([2, 3], 'I;16', False, None, []),
])
def test_label_values_after_the_label_map(tmp_path, raw, mode, reduce_zero,
                                         label_map, outside):
    """Label values checked as LoadAnnotations leaves them (4 classes,
    ignore 255), against the values written by hand."""
    import numpy as np
    from PIL import Image

    from attnfd_mm.datasets.check_seg_sample import CheckSegSample
    label = np.array([raw * 4] * 3, np.uint16 if mode == 'I;16' else
                     np.uint8)
    path = str(tmp_path / 'label.png')
    Image.fromarray(label).save(path)
    assert Image.open(path).mode.startswith('I' if mode != 'L' else 'L')
    found = CheckSegSample(num_classes=4).problems(dict(
        seg_map_path=path, reduce_zero_label=reduce_zero,
        label_map=label_map))
    if outside:
        assert found and f'label values {outside}' in found[0], found
    else:
        assert found == []


def test_sigkill_then_resume_is_lossless_fast(tmp_path, shapes_root):
    """The fast loop's kill-and-resume: a run SIGKILLed once it saved
    iteration 2, resumed, ends with the weights of an uninterrupted run;
    dropout draws random numbers, so this needs the random states that
    RandomStateHook restores."""
    cfg = tiny_runner_config('unused', shapes_root,
                             tiny_distill_model('r18', 'r18'), max_iters=4,
                             checkpoint_interval=2, batch_size=2)
    cfg.pop('work_dir')
    cfg.custom_imports = dict(imports=['attnfd_mm'],
                              allow_failed_imports=False)
    config = str(tmp_path / 'cfg.py')
    cfg.dump(config)
    killed = tmp_path / 'killed'
    # as many threads as this process, which resumes it: the same sums
    proc = subprocess.Popen(
        [sys.executable, 'tools/train.py', config, '--work-dir', str(killed)],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT,
                           OMP_NUM_THREADS=str(torch.get_num_threads())),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_file(killed / 'iter_2.pth', proc, 120, 'iter_2.pth')
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, 'training ended before kill'
    assert not (killed / 'iter_4.pth').exists()
    assert 'random_states' in CheckpointLoader.load_checkpoint(
        str(killed / 'iter_2.pth'), map_location='cpu')
    # a run that retrained from scratch would write iter_2.pth again
    saved_at_2 = (killed / 'iter_2.pth').stat().st_mtime_ns

    from mmengine.config import Config

    def config_for(work, name):
        run = Config.fromfile(config)
        run.work_dir = str(work)
        run.visualizer = dict(type='Visualizer', name=name)
        return run

    # resumed and uninterrupted here, in this process (no start-up time)
    assert train(config_for(killed, 'fast_resumed'), resume=True).iter == 4
    train(config_for(tmp_path / 'whole', 'fast_whole'))
    assert (killed / 'iter_2.pth').stat().st_mtime_ns == saved_at_2, \
        'the resumed run trained iterations 1-2 again'
    whole, resumed = (CheckpointLoader.load_checkpoint(
        str(d / 'iter_4.pth'), map_location='cpu')
        for d in (tmp_path / 'whole', killed))
    expected, got = whole['state_dict'], resumed['state_dict']
    assert any(k.startswith('distiller.connectors.B_s.') for k in got), \
        'connector weights are not in the checkpoint'
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        torch.testing.assert_close(got[key], value, rtol=0, atol=1e-6,
                                   msg=key)
    # the optimizer's state of every parameter, and the schedulers
    states, resumed_states = (c['optimizer']['state']
                              for c in (whole, resumed))
    assert len(resumed_states) == len(states) > 0
    for key, state in states.items():
        torch.testing.assert_close(resumed_states[key]['momentum_buffer'],
                                   state['momentum_buffer'], rtol=0,
                                   atol=1e-6, msg=str(key))
    assert resumed['param_schedulers'] == whole['param_schedulers']
    assert resumed['meta']['iter'] == whole['meta']['iter'] == 4
