# Copyright (c) attnfd-mm contributors. All rights reserved.
"""``_base_ = ['attnfd_mm::...']`` from a user's directory, with the
installed package (here the set-up's editable install)."""
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: prints the scopes of a config built on an ``attnfd_mm::`` base and
#: builds what those scopes must find
CHECK = r'''
import json, os.path as osp, sys
import attnfd_mm
from attnfd_mm.compat import apply_entry_point_patches
from mmengine.config import Config
apply_entry_point_patches()
cfg = Config.fromfile('user_cfg.py')

def typed(node, path=''):
    if isinstance(node, dict):
        if 'type' in node:
            yield path, node.get('_scope_')
            return
        for k, v in node.items():
            yield from typed(v, f'{path}.{k}' if path else k)
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from typed(v, f'{path}.{i}')

scopes = dict(typed(cfg.to_dict()))
from mmengine.registry import METRICS, MODELS, DefaultScope
metric = METRICS.build(cfg.val_evaluator)
with DefaultScope.overwrite_default_scope('mmseg'):
    model = MODELS.build(cfg.model) if BUILD_MODEL else None
print(json.dumps(dict(
    scopes=scopes,
    package=osp.dirname(attnfd_mm.__file__),
    metric=type(metric).__name__,
    model=type(model).__name__ if model is not None else None,
    student=type(model.student).__name__ if model is not None else None,
    teacher_cfg=cfg.model.teacher.get('cfg_path'))))
'''


def _user_config(tmp_path, base: str) -> None:
    (tmp_path / 'user_cfg.py').write_text(
        f"_base_ = ['attnfd_mm::{base}']\n"
        'model = dict(teacher_ckpt=None, random_teacher=True,\n'
        '             architecture=dict(pretrained=None))'
        '\n')


def _run(tmp_path, code: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter, in ``tmp_path``, nothing on
    PYTHONPATH: attnfd_mm comes from the installed package."""
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    return subprocess.run([sys.executable, '-c', code], cwd=str(tmp_path),
                          env=env, capture_output=True, text=True,
                          timeout=600)


def _result(out: subprocess.CompletedProcess) -> dict:
    import json
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_base_resolves_from_a_user_directory_with_mmseg_scopes(tmp_path):
    _user_config(tmp_path, 'attnfd/deeplabv3_r101_r18_voc.py')
    res = _result(_run(tmp_path, CHECK.replace('BUILD_MODEL', 'True')))
    assert res['package'] == osp.join(ROOT, 'attnfd_mm')
    scopes = res['scopes']
    # the base's typed dicts are found in mmseg's registries (mmseg
    # datasets, metrics, loops and hooks), the algorithm in mmrazor's
    assert 'attnfd_mm' not in scopes.values(), scopes
    assert scopes['model'] == 'mmrazor'
    assert scopes['train_dataloader.dataset'] == 'mmseg'
    assert scopes['val_evaluator'] == 'mmseg'
    assert scopes['optim_wrapper'] == 'mmseg'
    assert res['metric'] == 'PerClassIoUMetric'
    assert res['model'] == 'FrozenTeacherDistill'
    assert res['student'] == 'EncoderDecoder'


def _scopes(node, path: str = ''):
    """(path, ``_scope_``) of every outermost typed dict of a config."""
    if isinstance(node, dict):
        if 'type' in node:
            yield path, node.get('_scope_')
            return
        for k, v in node.items():
            yield from _scopes(v, f'{path}.{k}' if path else k)
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _scopes(v, f'{path}.{i}')


def test_teacher_config_next_to_the_base_is_found(tmp_path):
    """``{{fileDirname}}`` of a base resolves inside ``attnfd_mm/.mim``."""
    from mmengine.config import Config
    _user_config(tmp_path, 'attnfd/deeplabv3_r101_r18_camvid.py')
    cfg = Config.fromfile(str(tmp_path / 'user_cfg.py'))
    teacher = cfg.model.teacher.cfg_path
    assert osp.isfile(teacher), teacher
    assert osp.realpath(teacher) == osp.join(
        ROOT, 'configs', 'teachers', 'deeplabv3_r101_camvid.py')
    assert 'attnfd_mm' not in dict(_scopes(cfg.to_dict())).values()


def test_mmengine_get_config_reads_the_metafile():
    from mmengine.hub import get_config
    cfg = get_config('attnfd_mm::attnfd/deeplabv3_r101_r18_voc.py')
    assert cfg.model.type == 'FrozenTeacherDistill'
    assert cfg.model.distiller.layers == ['B', 'E']


def test_unknown_config_is_named(tmp_path):
    from mmengine.config import Config
    _user_config(tmp_path, 'attnfd/no_such_config.py')
    with pytest.raises(FileNotFoundError,
                       match='no_such_config.py" does not exist'):
        Config.fromfile(str(tmp_path / 'user_cfg.py'))


def test_other_packages_are_left_to_mmengine():
    from mmengine.config import config as config_module
    path = config_module.get_installed_path('mmsegmentation')
    assert osp.basename(path) == 'mmseg'
    assert config_module.is_installed('mmsegmentation')
    assert not config_module.is_installed('no-such-package-attnfd')


@pytest.mark.parametrize('base', [
    'baselines/kd_deeplabv3_r101_r18_camvid.py',
    'ablations/table6_attention_bam.py', 'teachers/deeplabv3_r101_coco.py'
])
def test_other_folders_resolve(tmp_path, base):
    """One config of each other folder, in-process (no model built)."""
    from mmengine.config import Config
    _user_config(tmp_path, base)
    cfg = Config.fromfile(str(tmp_path / 'user_cfg.py'))
    scopes = dict(_scopes(cfg.to_dict()))
    assert scopes['train_dataloader.dataset'] == 'mmseg'
    assert 'attnfd_mm' not in scopes.values(), scopes
