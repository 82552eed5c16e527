# Copyright (c) attnfd-mm contributors. All rights reserved.
"""openmim: ``mim install -e`` offline, and ``mim train mmseg`` running an
AttnFD config through mmseg's own ``tools/train.py``."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from scratch_env import ROOT, ScratchEnv, copy_sources

CAMVID_CONFIG = osp.join(ROOT, 'configs', 'attnfd',
                         'deeplabv3_r101_r18_camvid.py')


@pytest.fixture(autouse=True)
def openmim() -> None:
    """The tests need openmim; its absence is a failure, not a skip."""
    if importlib.util.find_spec('mim') is None:
        pytest.fail('openmim is not installed in this environment: run '
                    '`make install` (tools/install_env.sh installs it).')


@pytest.mark.slow
def test_mim_install_editable_offline(tmp_path):
    """``mim install -e <clone> --no-build-isolation`` with everything
    installed needs no network, and ``attnfd_mm::`` bases resolve from that
    editable install."""
    src = copy_sources(str(tmp_path / 'src'))
    env = ScratchEnv(str(tmp_path / 'env'))
    out = env.run(['-m', 'mim', 'install', '-e', src,
                   '--no-build-isolation'], cwd=str(tmp_path), timeout=300)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    assert 'Successfully installed attnfd-mm' in out.stdout
    user = tmp_path / 'user'
    user.mkdir()
    (user / 'cfg.py').write_text(
        "_base_ = ['attnfd_mm::attnfd/deeplabv3_r101_r18_voc.py']\n")
    out = env.run(['-c', (
        'import attnfd_mm\n'
        'from mmengine.config import Config\n'
        'attnfd_mm.compat.apply_entry_point_patches()\n'
        "cfg = Config.fromfile('cfg.py')\n"
        'print(attnfd_mm.__file__)\n'
        'print(cfg.model.type, cfg.train_dataloader.dataset._scope_)')],
        cwd=str(user))
    assert out.returncode == 0, out.stderr[-4000:]
    module, model = out.stdout.strip().splitlines()[-2:]
    assert module == osp.join(src, 'attnfd_mm', '__init__.py')
    assert model == 'FrozenTeacherDistill mmseg'


def _scalars(work_dir: str) -> list:
    found = []
    for root, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            with open(osp.join(root, 'scalars.json')) as f:
                found += [json.loads(line) for line in f]
    return found


@pytest.mark.slow
def test_mim_train_mmseg_distils_with_a_camvid_config(tmp_path,
                                                      camvid_shapes_root):
    """``mim train mmseg configs/attnfd/<camvid config>`` runs mmseg's
    packaged ``tools/train.py``; the config's ``custom_imports`` bring in
    attnfd_mm. Data, sizes and schedule are shrunk with --cfg-options."""
    camvid = camvid_shapes_root
    # the config's teacher with no ImageNet weights to download (the
    # teacher checkpoint is left out below)
    teacher = tmp_path / 'teacher.py'
    base = osp.join(ROOT, 'configs', 'teachers', 'deeplabv3_r101_camvid.py')
    teacher.write_text(f'_base_ = [{base!r}]\nmodel = dict(pretrained=None)\n')
    work_dir = str(tmp_path / 'work')
    options = [
        f'train_dataloader.dataset.data_root={camvid}',
        f'val_dataloader.dataset.data_root={camvid}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'train_dataloader.dataset.pipeline.2.scale=(64,64)',
        'train_dataloader.dataset.pipeline.3.crop_size=(64,64)',
        'val_dataloader.dataset.pipeline.1.scale=(64,64)',
        'model.data_preprocessor.size=(64,64)',
        'model.architecture.pretrained=None',
        f'model.teacher.cfg_path={teacher}',
        'model.teacher_ckpt=None', 'model.random_teacher=True',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'param_scheduler.0.end=2', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.save_last=False',
        'default_hooks.checkpoint.save_best=None',
    ]
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    out = subprocess.run(
        [sys.executable, '-m', 'mim', 'train', 'mmseg', CAMVID_CONFIG,
         '--work-dir', work_dir, '--cfg-options', *options],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert osp.join('mmseg', '.mim', 'tools', 'train.py') in log
    assert 'Training finished successfully' in log
    scalars = _scalars(work_dir)
    train = [s for s in scalars if 'distill.loss_attnfd_B' in s]
    assert [s['iter'] for s in train] == [1, 2]
    assert all(s['distill.loss_attnfd_E'] > 0 for s in train)
    assert any('teacher.mIoU' in s and 'mIoU' in s for s in scalars)
