# Copyright (c) attnfd-mm contributors. All rights reserved.
"""tools/train.py and tools/test.py: flags, work-dir layout, resume."""
import os.path as osp

from conftest import run_tool

from attnfd_mm.testing import attnfd_distiller, stock_segmentor, \
    tiny_runner_config
from attnfd_mm.testing.tiny_configs import DEEPLABV3_LAYERS

STUDENT = 'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py'
TEACHER = 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py'


def test_help(tmp_path):
    for tool in ('tools/train.py', 'tools/test.py'):
        out = run_tool([tool, '--help'], cwd=osp.dirname(osp.dirname(
            osp.abspath(__file__))))
        assert out.returncode == 0, out.stderr
        for flag in ('--work-dir', '--cfg-options', '--launcher'):
            assert flag in out.stdout


def _write_config(tmp_path, shapes_root):
    model = dict(
        _scope_='mmrazor',
        type='FrozenTeacherDistill',
        architecture=stock_segmentor(STUDENT),
        teacher=stock_segmentor(TEACHER),
        distiller=attnfd_distiller(DEEPLABV3_LAYERS['r18'],
                                   DEEPLABV3_LAYERS['r50']))
    cfg = tiny_runner_config('unused', shapes_root, model, max_iters=2)
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
