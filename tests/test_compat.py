# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The version-gated compatibility fixes: each applied only on the releases
it names, each shown to be needed there."""
import os
import pickle
import sys
import types

import pytest
import torch
from conftest import run_python

from attnfd_mm import compat
from attnfd_mm.compat import (atomic_checkpoints, config_bases,
                              cpu_distributed, mmrazor_quantization)


def _release(text):
    """``'2.13.0+cpu'`` -> ``(2, 13)``, read here, not through the fixes."""
    return tuple(int(v) for v in text.split('+')[0].split('.')[:2])


TORCH = _release(torch.__version__)
TORCH_2_6_PLUS = TORCH >= (2, 6)
QUANTIZATION_STUB = TORCH != (1, 13)  # with mmrazor 1.0.0 installed


def _patch(name):
    return next(patch for patch in compat.PATCHES if patch.name == name)


def _with_versions(monkeypatch, **versions):
    """Fake the installed versions (None: not installed)."""
    monkeypatch.setattr(compat, 'installed_version',
                        lambda package: versions.get(package))


# --- the version gates, both ways --------------------------------------------
@pytest.mark.parametrize('name,versions,needed', [
    ('mmrazor_quantization', dict(mmrazor='1.0.0', torch='2.13.0+cpu'), True),
    ('mmrazor_quantization', dict(mmrazor='1.0.0', torch='2.1.0'), True),
    ('mmrazor_quantization', dict(mmrazor='1.0.0', torch='1.13.1'), False),
    ('mmrazor_quantization', dict(mmrazor='1.1.0', torch='2.13.0'), False),
    ('mmrazor_quantization', dict(torch='2.13.0'), False),  # no mmrazor
    ('mmengine_checkpoints', dict(mmengine='0.10.7', torch='2.6.0'), True),
    ('mmengine_checkpoints', dict(mmengine='0.10.7', torch='2.13.0+cpu'),
     True),
    ('mmengine_checkpoints', dict(mmengine='0.10.7', torch='2.5.1'), False),
    ('mmengine_checkpoints', dict(mmengine='1.0.0', torch='2.13.0'), False),
    ('config_bases', dict(mmengine='0.10.7'), True),
    ('config_bases', dict(mmengine='1.0.0'), False),
    ('cpu_distributed', dict(mmengine='0.10.0'), True),
    ('cpu_distributed', dict(mmengine='0.9.1'), False),
    ('atomic_checkpoints', dict(mmengine='0.10.7'), True),
    ('atomic_checkpoints', dict(mmengine='1.0.0rc0'), False),
])
def test_each_fix_is_needed_only_on_the_releases_it_names(
        monkeypatch, name, versions, needed):
    _with_versions(monkeypatch, **versions)
    assert _patch(name).needed() is needed


def test_a_fix_not_needed_is_not_applied_and_a_needed_one_once(monkeypatch):
    calls = []
    patches = (
        compat.Patch('at_import', dict(torch='>=2.6'),
                     lambda: calls.append('at_import'), at_import=True),
        compat.Patch('entry', dict(mmengine='<1.0'),
                     lambda: calls.append('entry')),
        compat.Patch('old_torch', dict(torch='<2.0'),
                     lambda: calls.append('old_torch')),
    )
    monkeypatch.setattr(compat, 'PATCHES', patches)
    monkeypatch.setattr(compat, '_applied', set())
    _with_versions(monkeypatch, torch='2.6.0', mmengine='0.10.7')
    assert compat.apply_import_patches() == ['at_import']
    assert calls == ['at_import']
    assert compat.apply_entry_point_patches() == ['at_import', 'entry']
    assert compat.apply_entry_point_patches() == ['at_import', 'entry']
    assert compat.apply_import_patches() == ['at_import', 'entry']
    assert calls == ['at_import', 'entry']


IMPORT_THEN_ENTRY_POINT = r'''
from mmengine.config import Config
from mmengine.dist import utils as dist_utils
from mmengine.runner import runner
originals = (Config._get_cfg_path, dist_utils._init_dist_pytorch,
             runner.save_checkpoint)
import torch
safe = len(torch.serialization.get_safe_globals())
import attnfd_mm
from attnfd_mm.compat import apply_entry_point_patches
from mmengine.config.utils import MODULE2PACKAGE
now = lambda: (Config._get_cfg_path, dist_utils._init_dist_pytorch,
               runner.save_checkpoint)
print([a is b for a, b in zip(now(), originals)], 'attnfd_mm' in
      MODULE2PACKAGE, len(torch.serialization.get_safe_globals()) > safe)
print(apply_entry_point_patches())
wrapped = now()
print([a is b for a, b in zip(wrapped, originals)], 'attnfd_mm' in
      MODULE2PACKAGE)
print(apply_entry_point_patches(), now() == wrapped)
'''


def test_import_applies_what_custom_imports_needs_entry_points_the_rest():
    out = run_python(IMPORT_THEN_ENTRY_POINT)
    assert out.returncode == 0, out.stderr[-2000:]
    at_import, applied, after, again = out.stdout.strip().splitlines()[-4:]
    assert at_import == f'[True, True, True] False {TORCH_2_6_PLUS}'
    # on the mmengine 0.10 and mmrazor 1.0.0 this suite runs with
    expected = (['mmrazor_quantization'] * QUANTIZATION_STUB +
                ['mmengine_checkpoints'] * TORCH_2_6_PLUS +
                ['config_bases', 'cpu_distributed', 'atomic_checkpoints'])
    assert applied == str(expected)
    assert after == '[False, False, False] True'
    assert again == f'{expected} True'  # nothing wrapped twice


# --- mmrazor quantization tables -------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(not QUANTIZATION_STUB,
                    reason='torch 1.13 imports mmrazor.models unaided')
def test_mmrazor_models_fails_without_fix_and_imports_with_it():
    without = run_python('import mmrazor.models')
    assert without.returncode != 0, 'the fix is no longer needed'
    with_fix = run_python(
        'import attnfd_mm, mmrazor.models\n'
        'from mmrazor.models import SingleTeacherDistill, '
        'ConfigurableDistiller\n'
        'from mmrazor.structures.quantization import BackendConfigs\n'
        'assert set(BackendConfigs.values()) == {None}\n'
        'print("ok")')
    assert with_fix.returncode == 0, with_fix.stderr[-2000:]
    assert 'ok' in with_fix.stdout


def test_stub_explains_quantization_is_unavailable():
    stub = mmrazor_quantization.backend_config_stub()
    assert stub.BackendConfigs == dict(
        academic=None, native=None, tensorrt=None, openvino=None)
    with pytest.raises(RuntimeError, match='torch 1.13'):
        stub.get_native_backend_config()


def test_late_import_is_reported(monkeypatch):
    module = mmrazor_quantization.BACKEND_CONFIG_MODULE
    monkeypatch.setitem(sys.modules, module, types.ModuleType(module))
    with pytest.raises(mmrazor_quantization.MMRazorImportedFirstError,
                       match='import attnfd_mm before mmrazor.models'):
        mmrazor_quantization.stub_backend_config()


# --- mmengine checkpoints under weights_only=True ---------------------------
def _mmengine_checkpoint(path):
    """A checkpoint with what mmengine's CheckpointHook puts in ``meta``."""
    import numpy as np
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('compat_test')
    for i in range(3):
        hub.update_scalar('train/loss', np.float64(0.5 + i))
    hub.update_info('iter', 3)
    torch.save(
        dict(
            meta=dict(seed=np.int64(0), message_hub=hub.state_dict(),
                      stats=np.arange(3.0)),
            state_dict=dict(w=torch.ones(2))), path)


@pytest.mark.slow
@pytest.mark.skipif(not TORCH_2_6_PLUS, reason='torch < 2.6 loads unaided')
def test_checkpoint_fails_without_fix_and_loads_with_it(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    _mmengine_checkpoint(path)
    without = run_python(f'import torch; torch.load({path!r})')
    assert without.returncode != 0, 'the fix is no longer needed'
    assert 'weights_only' in without.stderr
    with_fix = run_python(
        'import attnfd_mm, torch\n'
        f'ck = torch.load({path!r})\n'
        'print(ck["meta"]["message_hub"]["log_scalars"]["train/loss"]'
        '.current())')
    assert with_fix.returncode == 0, with_fix.stderr[-2000:]
    assert with_fix.stdout.strip() == '2.5'


class _Payload:
    """An object no checkpoint should carry."""

    def __reduce__(self):
        return (print, ('code ran while loading',))


@pytest.mark.skipif(not TORCH_2_6_PLUS, reason='torch < 2.6 loads unaided')
def test_unexpected_pickled_object_is_still_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict=dict(w=torch.ones(1)), x=_Payload()), path)
    with pytest.raises(pickle.UnpicklingError,
                       match='GLOBAL print was not an allowed global'):
        torch.load(path)


class _Getattr:
    """Reaches beyond HistoryBuffer's statistics methods via getattr."""

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return (getattr, (HistoryBuffer, 'update'))


@pytest.mark.skipif(not TORCH_2_6_PLUS, reason='torch < 2.6 loads unaided')
def test_getattr_is_restricted_to_history_buffer_statistics(tmp_path):
    path = str(tmp_path / 'getattr.pth')
    torch.save(dict(x=_Getattr()), path)
    with pytest.raises(pickle.UnpicklingError,
                       match="Refusing getattr.*'update'"):
        torch.load(path)


# --- torchrun-launched training on CPU --------------------------------------
def test_cpu_launcher_skips_the_cuda_device_call(monkeypatch):
    calls = []
    monkeypatch.setattr(cpu_distributed.torch.cuda, 'is_available',
                        lambda: False)
    monkeypatch.setattr(cpu_distributed.torch_dist, 'init_process_group',
                        lambda **kw: calls.append(('torch', kw)))

    def original(backend, init_backend='torch', **kwargs):
        calls.append(('mmengine', init_backend))

    launcher = cpu_distributed.cpu_safe_pytorch_launcher(original)
    launcher('gloo', timeout=5)
    launcher('gloo', init_backend='deepspeed')
    monkeypatch.setattr(cpu_distributed.torch.cuda, 'is_available',
                        lambda: True)
    launcher('nccl')
    assert calls == [('torch', dict(backend='gloo', timeout=5)),
                     ('mmengine', 'deepspeed'), ('mmengine', 'torch')]


# --- atomic checkpoint writes -----------------------------------------------
def test_a_checkpoint_is_written_whole_or_not_at_all(tmp_path):

    def save(checkpoint, filename):
        with open(filename, 'w') as f:
            f.write(checkpoint[:3])
            if checkpoint == 'fail':
                raise OSError('disk full')
            f.write(checkpoint[3:])

    atomic = atomic_checkpoints.atomic_save(save)
    path = tmp_path / 'iter_1.pth'
    atomic('whole', str(path))
    assert path.read_text() == 'whole'
    assert os.listdir(tmp_path) == ['iter_1.pth']
    with pytest.raises(OSError, match='disk full'):
        atomic('fail', str(path))
    assert path.read_text() == 'whole'  # the earlier one, intact


# --- attnfd_mm:: config bases ----------------------------------------------
BASE_CONFIG = "_base_ = ['attnfd_mm::attnfd/deeplabv3_r101_r18_voc.py']\n"


@pytest.mark.slow
def test_config_base_fails_without_fix_and_resolves_with_it(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text(BASE_CONFIG)
    without = run_python('import attnfd_mm\n'
                         'from mmengine.config import Config\n'
                         f'Config.fromfile({str(path)!r})')
    assert without.returncode != 0, 'the fix is no longer needed'
    assert 'does not support to load attnfd_mm config' in without.stderr
    with_fix = run_python('import attnfd_mm\n'
                          'from mmengine.config import Config\n'
                          'attnfd_mm.compat.apply_entry_point_patches()\n'
                          f'cfg = Config.fromfile({str(path)!r})\n'
                          'print(cfg.model._scope_, '
                          'cfg.train_dataloader.dataset._scope_)')
    assert with_fix.returncode == 0, with_fix.stderr[-2000:]
    assert with_fix.stdout.split('\n')[-2] == 'mmrazor mmseg'


def test_missing_mim_folder_is_named(tmp_path):
    with pytest.raises(config_bases.ConfigBasesNotFoundError,
                       match='git checkout -- attnfd_mm/.mim'):
        config_bases.mim_dir(str(tmp_path))


def test_name_claimed_by_another_package_is_refused(monkeypatch):
    from mmengine.config.utils import MODULE2PACKAGE
    monkeypatch.setitem(MODULE2PACKAGE, 'attnfd_mm', 'someone-else')
    with pytest.raises(config_bases.PackageNameClaimedError,
                       match='another package claims'):
        config_bases.enable_config_bases()
