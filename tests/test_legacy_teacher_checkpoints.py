# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Teacher checkpoints as users have them: mmseg 0.x model-zoo files
written under older torch and numpy 1, loaded through ``teacher_ckpt``."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.registry import MODELS, DefaultScope

from attnfd_mm.testing import tiny_distill_model
from attnfd_mm.testing.tiny_configs import deeplabv3_segmentor


def _build(cfg):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


@pytest.fixture(scope='module')
def teacher_state():
    torch.manual_seed(5)
    teacher = _build(deeplabv3_segmentor('r18'))
    teacher.init_weights()
    return OrderedDict((k, v.clone()) for k, v in
                       teacher.state_dict().items())


def _mmseg0x(state):
    """A checkpoint laid out as mmseg 0.x's ``save_checkpoint`` wrote it."""
    return dict(
        meta=dict(mmseg_version='0.30.0', env_info='sys.platform: linux',
                  config='norm_cfg = dict(type=\'SyncBN\')', seed=np.int64(0),
                  exp_name='deeplabv3_r18-d8_512x1024_80k_cityscapes.py',
                  CLASSES=('background', 'square', 'disc', 'bar'),
                  PALETTE=[[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3]],
                  epoch=np.int64(1), iter=np.int64(80000)),
        state_dict=state,
        optimizer=dict(state={}, param_groups=[dict(lr=np.float64(1e-4),
                                                    params=[0])]))


def _as_numpy1(path):
    """Rewrite a legacy (non-zip) checkpoint's pickles as numpy 1 wrote
    them: ``numpy.core.multiarray`` instead of ``numpy._core``."""
    data = open(path, 'rb').read()
    assert b'numpy._core.multiarray' in data
    open(path, 'wb').write(data.replace(b'numpy._core.multiarray',
                                        b'numpy.core.multiarray'))


def _legacy_save(obj, path):
    torch.save(obj, path, _use_new_zipfile_serialization=False)


@pytest.mark.parametrize('layout', [
    'module_prefix', 'no_num_batches_tracked', 'mmseg0x_nested',
    'legacy_format_numpy1_meta'
])
def test_teacher_checkpoint_layouts_load(tmp_path, teacher_state, layout):
    state = OrderedDict(teacher_state)
    path = str(tmp_path / f'{layout}.pth')
    if layout == 'module_prefix':  # saved from a DataParallel model
        torch.save(dict(state_dict=OrderedDict(
            (f'module.{k}', v) for k, v in state.items())), path)
    elif layout == 'no_num_batches_tracked':  # older BN
        torch.save(dict(state_dict=OrderedDict(
            (k, v) for k, v in state.items()
            if not k.endswith('num_batches_tracked'))), path)
    elif layout == 'mmseg0x_nested':
        torch.save(_mmseg0x(state), path)
    else:
        _legacy_save(_mmseg0x(state), path)
        _as_numpy1(path)
        with open(path, 'rb') as f:  # not a zip archive
            assert f.read(2) != b'PK'
    algo = _build(tiny_distill_model('r18', 'r18', teacher_ckpt=path))
    loaded = algo.teacher.state_dict()
    for key, value in state.items():
        if layout == 'no_num_batches_tracked' and \
                key.endswith('num_batches_tracked'):
            continue
        assert torch.equal(loaded[key], value), key


def test_what_is_not_a_teacher_checkpoint_is_named(tmp_path,
                                                   teacher_state):
    no_state = str(tmp_path / 'list.pth')
    torch.save([1, 2, 3], no_state)
    with pytest.raises(RuntimeError, match='holds no state dict'):
        _build(tiny_distill_model('r18', 'r18', teacher_ckpt=no_state))
    distilled = str(tmp_path / 'distill.pth')
    torch.save(dict(state_dict=OrderedDict(
        [(f'architecture.{k}', v) for k, v in teacher_state.items()] +
        [(f'teacher.{k}', v) for k, v in teacher_state.items()])), distilled)
    with pytest.raises(ValueError, match='looks like a distillation '
                       'checkpoint: convert it with '
                       'tools/convert_kd_ckpt_to_student.py first'):
        _build(tiny_distill_model('r18', 'r18', teacher_ckpt=distilled))
