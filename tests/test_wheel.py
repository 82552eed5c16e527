# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The wheel carries the configs and tools; installed into a scratch
environment, ``attnfd_mm::`` bases work from a directory outside the clone,
in a script and through ``mim train attnfd-mm``."""
import glob
import json
import os
import os.path as osp
import zipfile

import pytest
from scratch_env import ROOT, ScratchEnv, build_wheel, copy_sources

#: run in the scratch environment, in a directory outside the clone
USE_WHEEL = r'''
import os.path as osp, sys
import torch
import attnfd_mm
package = osp.dirname(attnfd_mm.__file__)
assert package.startswith(sys.prefix), package  # the wheel, not the clone
assert not osp.islink(osp.join(package, '.mim', 'configs'))
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

attnfd_mm.compat.apply_entry_point_patches()
cfg = Config.fromfile('user_cfg.py')
assert cfg.model._scope_ == 'mmrazor'
assert cfg.train_dataloader.dataset._scope_ == 'mmseg'
with DefaultScope.overwrite_default_scope('mmseg'):
    model = MODELS.build(cfg.model)
model.train()
torch.manual_seed(0)
inputs = torch.randn(2, 3, 64, 64)
samples = []
for _ in range(2):
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.randint(0, 21, (1, 64, 64)))
    sample.set_metainfo(dict(img_shape=(64, 64), ori_shape=(64, 64),
                             pad_shape=(64, 64)))
    samples.append(sample)
losses = model.loss(inputs, samples)
total = sum(v for k, v in losses.items() if 'loss' in k)
total.backward()
assert torch.isfinite(total)
assert all(p.grad is not None
           for p in model.distiller.connectors.parameters())
print(package)
print(sorted(k for k in losses if k.startswith('distill.')))
'''


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> str:
    """``pip wheel`` of a copy of the working tree (offline)."""
    tmp = tmp_path_factory.mktemp('wheel')
    return build_wheel(copy_sources(str(tmp / 'src')), str(tmp / 'dist'))


def test_wheel_holds_configs_tools_and_model_index(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    mim = 'attnfd_mm/.mim/'
    configs = {
        mim + osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                           recursive=True)
    }
    assert configs and configs <= names, sorted(configs - names)[:5]
    assert mim + 'model-index.yml' in names
    assert {mim + f'configs/{d}/metafile.yaml'
            for d in ('attnfd', 'baselines', 'ablations', 'teachers')
            } <= names
    for tool in ('tools/train.py', 'tools/test.py', 'tools/dist_train.sh'):
        assert mim + tool in names
    assert not [n for n in names if '__pycache__' in n or 'tests/' in n]


@pytest.fixture(scope='module')
def wheel_env(wheel, tmp_path_factory) -> ScratchEnv:
    """A scratch environment with the wheel installed (and nothing of the
    clone importable)."""
    env = ScratchEnv(str(tmp_path_factory.mktemp('wheel_env')))
    out = env.pip_install(['--force-reinstall', wheel], cwd=env.root)
    assert out.returncode == 0, out.stdout + out.stderr
    return env


@pytest.mark.slow
def test_base_from_wheel_outside_the_clone_trains_one_step(
        wheel_env, tmp_path):
    (tmp_path / 'user_cfg.py').write_text(
        "_base_ = ['attnfd_mm::attnfd/deeplabv3_r101_r18_voc.py']\n"
        'model = dict(teacher_ckpt=None, random_teacher=True,\n'
        '             architecture=dict(pretrained=None))'
        '\n')
    out = wheel_env.run(['-c', USE_WHEEL], cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr[-4000:]
    package, terms = out.stdout.strip().splitlines()[-2:]
    assert package == osp.join(wheel_env.site_packages, 'attnfd_mm')
    assert terms == "['distill.loss_attnfd_B', 'distill.loss_attnfd_E']"


#: a user's config on ``attnfd_mm::`` bases, shrunk to two iterations on
#: the tiny CamVid-layout data; its teacher config is a base of the package
#: too, without ImageNet weights to download
USER_CONFIG = """\
_base_ = ['attnfd_mm::attnfd/deeplabv3_r101_r18_camvid.py']
pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')]
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        dataset=dict(data_root={root!r}, pipeline=pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root={root!r}, pipeline=pipeline))
model = dict(data_preprocessor=dict(size=(64, 64)),
             architecture=dict(pretrained=None),
             teacher=dict(cfg_path='teacher.py'), teacher_ckpt=None,
             random_teacher=True)
train_cfg = dict(max_iters=2, val_interval=2)
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0,
                        end=2, by_epoch=False)]
default_hooks = dict(checkpoint=dict(save_last=False, save_best=None),
                     logger=dict(interval=1))
"""


@pytest.mark.slow
def test_mim_train_attnfd_mm_runs_the_wheels_train_tool(
        wheel_env, tmp_path, camvid_shapes_root):
    (tmp_path / 'teacher.py').write_text(
        "_base_ = ['attnfd_mm::teachers/deeplabv3_r101_camvid.py']\n"
        'model = dict(pretrained=None)\n')
    (tmp_path / 'my_config.py').write_text(
        USER_CONFIG.format(root=camvid_shapes_root))
    work_dir = str(tmp_path / 'work')
    out = wheel_env.run(['-m', 'mim', 'train', 'attnfd-mm', 'my_config.py',
                         '--work-dir', work_dir], cwd=str(tmp_path))
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert osp.join(wheel_env.site_packages, 'attnfd_mm', '.mim', 'tools',
                    'train.py') in log
    records = []
    for root, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            with open(osp.join(root, 'scalars.json')) as f:
                records += [json.loads(line) for line in f]
    assert [r['iter'] for r in records
            if 'distill.loss_attnfd_B' in r] == [1, 2]


@pytest.mark.slow
def test_mim_run_distill_composes_from_the_wheel(wheel_env, tmp_path,
                                                  shapes_root):
    """``mim run attnfd_mm distill`` runs the wheel's tools/distill.py from
    a directory outside the clone."""
    from attnfd_mm.testing.tiny_configs import (deeplabv3_segmentor,
                                                tiny_runner_config)
    from mmengine.config import Config
    tiny_runner_config('unused', shapes_root,
                       deeplabv3_segmentor('r18')).dump(
                           str(tmp_path / 'student.py'))
    Config(dict(model=deeplabv3_segmentor('r18'))).dump(
        str(tmp_path / 'teacher.py'))
    out = wheel_env.run([
        '-m', 'mim', 'run', 'attnfd_mm', 'distill', 'student.py',
        'teacher.py', '--teacher-checkpoint', 'teacher.pth', '--method',
        'kd', '--work-dir', 'w', '--print-config'
    ], cwd=str(tmp_path))
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert osp.join(wheel_env.site_packages, 'attnfd_mm', '.mim', 'tools',
                    'distill.py') in log
    written = Config.fromfile(str(tmp_path / 'w' / 'distill_config.py'))
    assert written.model.distiller.type == 'LogitsDistiller'
    # paths made absolute: the written config runs from any directory
    assert written.model.teacher_ckpt == str(tmp_path / 'teacher.pth')
