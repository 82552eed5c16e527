# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The version-gated compatibility fixes, each shown to be needed."""
import pickle
import sys

import pytest
import torch
from conftest import run_python

from attnfd_mm.compat import checkpoint_loading as ckpt_compat
from attnfd_mm.compat import config_bases as bases_compat
from attnfd_mm.compat import mmrazor_quantization as quant_compat

TORCH_2_6_PLUS = ckpt_compat.needs_checkpoint_allowlist()


# --- mmrazor quantization tables -------------------------------------------
def test_quantization_gate_versions():
    assert quant_compat.quantization_tables_supported('1.13.1')
    assert not quant_compat.quantization_tables_supported('2.1.0')
    assert not quant_compat.quantization_tables_supported('2.13.0+cpu')
    assert quant_compat.needs_quantization_stub('2.13.0', '1.0.0')
    assert not quant_compat.needs_quantization_stub('1.13.1', '1.0.0')
    assert not quant_compat.needs_quantization_stub('2.13.0', '1.1.0')


@pytest.mark.slow
@pytest.mark.skipif(
    not quant_compat.needs_quantization_stub(),
    reason='this torch/mmrazor pair imports mmrazor.models unaided')
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
    stub = quant_compat.build_backend_config_stub()
    with pytest.raises(RuntimeError, match='torch 1.13'):
        stub.get_native_backend_config()


def test_late_import_is_reported():
    code = ('import sys, types\n'
            f'sys.modules["{quant_compat.BACKEND_CONFIG_MODULE}"] = '
            'types.ModuleType("x")\n'
            'from attnfd_mm.compat.mmrazor_quantization import '
            'gate_mmrazor_quantization\n'
            'gate_mmrazor_quantization()\n')
    out = run_python(code)
    if quant_compat.needs_quantization_stub():
        assert out.returncode != 0
        assert 'import attnfd_mm before mmrazor.models' in out.stderr
    else:
        assert out.returncode == 0


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


def test_checkpoint_gate_versions():
    assert ckpt_compat.needs_checkpoint_allowlist('2.6.0')
    assert ckpt_compat.needs_checkpoint_allowlist('2.13.0+cpu')
    assert not ckpt_compat.needs_checkpoint_allowlist('2.5.1')


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
        'from mmengine.runner import load_checkpoint\n'
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
    from mmengine.dist import utils as dist_utils

    from attnfd_mm.compat import cpu_distributed
    applied = getattr(dist_utils._init_dist_pytorch,
                      cpu_distributed._PATCH_FLAG, False)
    assert applied == (not torch.cuda.is_available())  # by import attnfd_mm
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
    assert calls == [('torch', dict(backend='gloo', timeout=5)),
                     ('mmengine', 'deepspeed')]


# --- attnfd_mm:: config bases ----------------------------------------------
def test_config_bases_gate_versions():
    assert bases_compat.needs_config_bases('0.10.7')
    assert not bases_compat.needs_config_bases('1.0.0')


BASE_CONFIG = ("_base_ = ['attnfd_mm::attnfd/deeplabv3_r101_r18_voc.py']\n")


@pytest.mark.slow
def test_config_base_fails_without_fix_and_resolves_with_it(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text(BASE_CONFIG)
    without = run_python('from mmengine.config import Config\n'
                         f'Config.fromfile({str(path)!r})')
    assert without.returncode != 0, 'the fix is no longer needed'
    assert 'does not support to load attnfd_mm config' in without.stderr
    with_fix = run_python('import attnfd_mm\n'
                          'from mmengine.config import Config\n'
                          f'cfg = Config.fromfile({str(path)!r})\n'
                          'print(cfg.model._scope_, '
                          'cfg.train_dataloader.dataset._scope_)')
    assert with_fix.returncode == 0, with_fix.stderr[-2000:]
    assert with_fix.stdout.split('\n')[-2] == 'mmrazor mmseg'


def test_missing_mim_folder_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(bases_compat, 'package_dir', lambda: str(tmp_path))
    with pytest.raises(bases_compat.ConfigBasesNotFoundError,
                       match='git checkout -- attnfd_mm/.mim'):
        bases_compat.mim_dir()


def test_name_claimed_by_another_package_is_refused(monkeypatch):
    from mmengine.config.utils import MODULE2PACKAGE
    monkeypatch.setitem(MODULE2PACKAGE, 'attnfd_mm', 'someone-else')
    with pytest.raises(RuntimeError, match='another package claims'):
        bases_compat.enable_config_bases()


def test_fixes_reported_once():
    """What the fixes report matches the installed versions (read here, not
    through the fixes), and applying them again wraps nothing twice."""
    import mmengine
    from mmengine.config import Config
    from mmengine.dist import utils as dist_utils

    import attnfd_mm
    from attnfd_mm.compat import cpu_distributed

    def version(text):
        return tuple(int(v) for v in text.split('+')[0].split('.')[:2])

    torch_version = version(torch.__version__)
    first = attnfd_mm.apply_compat_patches()
    assert first == dict(
        mmrazor_quantization=torch_version >= (2, 1),
        mmengine_checkpoints=torch_version >= (2, 6),
        cpu_distributed=not torch.cuda.is_available(),
        config_bases=version(mmengine.__version__) < (1, 0),
        atomic_checkpoints=version(mmengine.__version__) < (1, 0))
    launcher = dist_utils._init_dist_pytorch
    cfg_path = Config._get_cfg_path
    safe = list(torch.serialization.get_safe_globals())
    # each fix again (not the cached report): nothing changes
    assert cpu_distributed.allow_cpu_distributed() == first['cpu_distributed']
    assert bases_compat.enable_config_bases() == first['config_bases']
    assert ckpt_compat.allow_mmengine_checkpoints() == \
        first['mmengine_checkpoints']
    assert dist_utils._init_dist_pytorch is launcher
    assert Config._get_cfg_path is cfg_path
    assert len(torch.serialization.get_safe_globals()) == len(safe)
    assert attnfd_mm.apply_compat_patches() == first
    assert 'mmrazor.models' in sys.modules
