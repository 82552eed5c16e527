# Copyright (c) attnfd-mm contributors. All rights reserved.
"""tools/train.py and tools/test.py: flags, work-dir layout, resume."""
import os.path as osp

from conftest import run_tool

from attnfd_mm.testing import tiny_distill_model, tiny_runner_config


def test_help(tmp_path):
    for tool in ('tools/train.py', 'tools/test.py'):
        out = run_tool([tool, '--help'], cwd=osp.dirname(osp.dirname(
            osp.abspath(__file__))))
        assert out.returncode == 0, out.stderr
        for flag in ('--work-dir', '--cfg-options', '--launcher'):
            assert flag in out.stdout


def test_dist_train_usage():
    import subprocess
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    ok = subprocess.run(['bash', 'tools/dist_train.sh', '--help'],
                        capture_output=True, text=True, cwd=root)
    assert ok.returncode == 0 and 'CONFIG GPUS' in ok.stdout
    bad = subprocess.run(['bash', 'tools/dist_train.sh', 'only_config.py'],
                         capture_output=True, text=True, cwd=root)
    assert bad.returncode == 2 and 'CONFIG GPUS' in bad.stderr


def _write_config(tmp_path, shapes_root):
    cfg = tiny_runner_config('unused', shapes_root, tiny_distill_model(),
                             max_iters=2)
    cfg.pop('work_dir')
    cfg.custom_imports = dict(imports=['attnfd_mm'],
                              allow_failed_imports=False)
    path = str(tmp_path / 'tiny_attnfd.py')
    cfg.dump(path)
    return path


def test_train_resume_and_test(tmp_path, shapes_root):
    config = _write_config(tmp_path, shapes_root)
    work_dir = str(tmp_path / 'work')
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    out = run_tool(['tools/train.py', config, '--work-dir', work_dir],
                   cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
    assert open(osp.join(work_dir, 'last_checkpoint')).read().strip() \
        .endswith('iter_2.pth')
    # --resume continues from iter 2 up to the new max_iters
    out = run_tool([
        'tools/train.py', config, '--work-dir', work_dir, '--resume',
        '--cfg-options', 'train_cfg.max_iters=3',
        'param_scheduler.0.end=3', 'default_hooks.checkpoint.interval=1',
        'log_level=INFO'
    ], cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 2' in out.stdout + out.stderr
    assert osp.isfile(osp.join(work_dir, 'iter_3.pth'))
    out = run_tool([
        'tools/test.py', config, osp.join(work_dir, 'iter_3.pth'),
        '--work-dir', str(tmp_path / 'test'), '--cfg-options', 'log_level=INFO'
    ], cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'mIoU' in out.stdout + out.stderr


def test_missing_config_and_checkpoint(tmp_path):
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    out = run_tool(['tools/train.py', 'configs/no_such.py'], cwd=root)
    assert out.returncode != 0
    assert 'Config file not found' in out.stderr
    out = run_tool([
        'tools/test.py', 'configs/attnfd/deeplabv3_r101_r18_voc.py',
        str(tmp_path / 'none.pth')
    ], cwd=root)
    assert out.returncode != 0 and 'Checkpoint not found' in out.stderr
