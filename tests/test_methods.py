# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The method files (configs/_base_/methods/) as attnfd_mm.apis.METHODS
reads them, and the KD loss they name."""
import os.path as osp
import shutil

import pytest
import torch
import torch.nn.functional as F
from mmrazor.models.losses import KLDivergence

from attnfd_mm.apis import DEFAULT_LAYERS, DEFAULT_METHOD, METHODS
from attnfd_mm.apis.methods import MethodFiles
from attnfd_mm.models.losses import PixelKLDivergence

KD = dict(type='PixelKLDivergence', tau=1.0)


def _attnfd(loss_weight=2.0, normalize='batch', **extra):
    return dict(type='AttnFDDistiller', layers=['B', 'E'],
                loss=dict(type='AttnFDLoss', loss_weight=loss_weight,
                          normalize=normalize), **extra)


#: every method's distiller, written out
EXPECTED = {
    'student': None,
    'kd': dict(type='LogitsDistiller', loss_name='loss_kd', loss=KD),
    'cwd': dict(type='LogitsDistiller', loss_name='loss_cwd',
                loss=dict(type='ChannelWiseDivergence', tau=1,
                          loss_weight=5)),
    'attnfd': _attnfd(),
    'attnfd_sample': _attnfd(normalize='sample'),
    'attnfd_sample_w8': _attnfd(8.0, 'sample'),
    'attnfd_w16': _attnfd(16.0),
    'attnfd_tcbam': _attnfd(teacher_connector=dict(type='CBAMConnector',
                                                   learnable=True)),
    'attnfd_kd': _attnfd(8.0, 'sample', logits_loss=KD,
                         logits_loss_name='loss_kd'),
}


def test_every_method_file_is_read():
    assert sorted(METHODS) == sorted(EXPECTED)
    assert DEFAULT_METHOD in METHODS
    for name, distiller in EXPECTED.items():
        method = METHODS[name]
        assert method.distiller == distiller, name
        assert method.label and method.description, name
        assert method.feature_layers == name.startswith('attnfd'), name
        if method.feature_layers:
            assert tuple(method.distiller['layers']) == DEFAULT_LAYERS
    assert 'nope' not in METHODS
    with pytest.raises(KeyError):
        METHODS['nope']


def test_a_new_method_is_one_file(tmp_path):
    (tmp_path / 'at.py').write_text(
        "_base_ = ['./attnfd.py']\n"
        "method = dict(label='AttnFD, AT maps', description='AT maps')\n"
        "distiller = dict(connector=dict(type='ATConnector'),\n"
        "                 teacher_connector=dict(type='ATConnector'))\n")
    shutil.copy(osp.join(METHODS.folder, 'attnfd.py'), tmp_path)
    methods = MethodFiles(str(tmp_path))
    assert list(methods) == ['at', 'attnfd']
    assert methods['at'].distiller == _attnfd(
        connector=dict(type='ATConnector'),
        teacher_connector=dict(type='ATConnector'))
    assert methods['at'].feature_layers


def test_pixel_kl_divergence_is_the_kl_per_pixel():
    """Summed over the classes, averaged over the pixels (float64, an
    independent formula); MMRazor's mean KL times the classes."""
    torch.manual_seed(0)
    student = torch.randn(2, 5, 3, 4, dtype=torch.float64,
                          requires_grad=True)
    teacher = torch.randn(2, 5, 3, 4, dtype=torch.float64)
    for tau in (1.0, 2.0):
        p = F.softmax(teacher / tau, 1)
        expected = tau**2 * (p * (p.log() - F.log_softmax(student / tau, 1))
                             ).sum(1).mean()
        loss = PixelKLDivergence(tau=tau, loss_weight=3.0)(student, teacher)
        assert abs(loss.item() - 3.0 * expected.item()) <= 1e-6
        (grad, ) = torch.autograd.grad(loss, student)
        (want, ) = torch.autograd.grad(3.0 * expected, student)
        assert (grad - want).abs().max() <= 1e-6
    # bit for bit the loss the KD configs had: KLDivergence at weight C
    mean_kl = KLDivergence(tau=1.0, reduction='mean', loss_weight=5)
    assert torch.equal(PixelKLDivergence()(student, teacher),
                       mean_kl(student, teacher))
