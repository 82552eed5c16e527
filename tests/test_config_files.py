# Copyright (c) attnfd-mm contributors. All rights reserved.
"""A config that does not exist: one short named error with the closest
names, for ``mmseg::``, ``attnfd_mm::`` and local paths, in every tool."""
import os.path as osp
import runpy
import sys

import pytest

from attnfd_mm.apis.config_files import (ConfigNotFoundError,
                                         check_config_file, closest_names,
                                         load_config)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MMSEG = 'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py'


def test_closest_names_by_path_then_file_name():
    names = ['fcn/fcn_r18.py', 'fcn/fcn_r50.py', 'pspnet/psp_r18.py']
    assert closest_names('fcn/fcn_r81.py', names)[0] == 'fcn/fcn_r18.py'
    # the right file name in another folder
    assert closest_names('x/psp_r18.py', names)[0] == 'pspnet/psp_r18.py'
    assert closest_names('unrelated_name_here.py', names) == []


@pytest.mark.parametrize('misspelt,meant', [
    (MMSEG.replace('r18-d8', 'r18-d88'), MMSEG),
    ('attnfd_mm::quickstart/deeplabv3_r18_shape.py',
     'attnfd_mm::quickstart/deeplabv3_r18_shapes.py'),
    ('configs/quickstart/deeplabv3_r18_shape.py',
     'configs/quickstart/deeplabv3_r18_shapes.py'),
    ('configs/quickstar/deeplabv3_r18_shapes.py',
     'configs/quickstart/deeplabv3_r18_shapes.py'),
])
def test_a_misspelt_config_is_named_with_the_closest(
        misspelt, meant, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(ConfigNotFoundError) as err:
        load_config(misspelt)
    message = str(err.value)
    assert message.startswith(f'Config not found: {misspelt!r}; did you '
                              'mean ')
    assert repr(meant) in message
    assert len(message) < 600  # not a list of every config
    check_config_file(meant)  # the suggestion exists


@pytest.mark.parametrize('tool,args', [
    ('train.py', []),
    ('test.py', ['unused.pth']),
    ('distill.py', ['configs/quickstart/deeplabv3_r34_shapes.py',
                    '--teacher-checkpoint', 'unused.pth']),
    ('compare.py', ['configs/quickstart/deeplabv3_r34_shapes.py',
                    '--teacher-checkpoint', 'unused.pth']),
])
def test_every_tool_stops_with_the_short_error(tool, args, monkeypatch):
    monkeypatch.chdir(ROOT)
    misspelt = MMSEG.replace('deeplabv3_r18', 'deeplabv3_r81')
    if tool == 'test.py':  # checked before the checkpoint
        args = [osp.join(ROOT, 'README.md')]
    monkeypatch.setattr(sys, 'argv', [tool, misspelt, *args])
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(osp.join(ROOT, 'tools', tool), run_name='__main__')
    message = str(stop.value)
    assert 'ConfigNotFoundError: Config not found' in message, message
    assert f'did you mean {MMSEG!r}' in message, message


@pytest.mark.parametrize('name', [
    MMSEG, 'mmseg::_base_/models/deeplabv3_r50-d8.py',
    'attnfd_mm::quickstart/deeplabv3_r18_shapes.py'])
def test_package_configs_are_the_files_mmengine_finds(name):
    """A package config is read from the file mmengine's hub finds for it
    (through the metafiles, or the path for a base)."""
    from mmengine.hub import get_config
    expected = get_config(name)
    got = load_config(name)
    assert got.filename == expected.filename
    assert got.to_dict() == expected.to_dict()
