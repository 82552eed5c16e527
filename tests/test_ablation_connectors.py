# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The attention variants of the paper's Table 6 ablation."""
import pytest
import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS

from attnfd_mm.models import (ATConnector, BAMConnector, EMAConnector,
                              SAConnector)


def test_at_is_mean_of_squared_activations():
    x = torch.randn(2, 5, 4, 3, dtype=torch.float64)
    out = ATConnector(5)(x)
    assert out.shape == (2, 1, 4, 3)
    expected = sum(x[:, c]**2 for c in range(5)) / 5
    torch.testing.assert_close(out[:, 0], expected)
    assert not list(ATConnector(5).parameters())


def test_sa_is_pixel_cosine_similarity():
    x = torch.randn(2, 6, 4, 4, dtype=torch.float64)
    out = SAConnector(6, pool_size=(4, 4))(x)
    assert out.shape == (2, 1, 16, 16)
    f = x[1].reshape(6, 16)
    i, j = 3, 11
    cos = f[:, i] @ f[:, j] / (f[:, i].norm() * f[:, j].norm())
    torch.testing.assert_close(out[1, 0, i, j], cos)
    torch.testing.assert_close(
        torch.diagonal(out[:, 0], dim1=1, dim2=2),
        torch.ones(2, 16, dtype=torch.float64))


def test_sa_compares_different_channel_counts():
    s = SAConnector(8, pool_size=(3, 3))(torch.randn(2, 8, 6, 6))
    t = SAConnector(32, pool_size=(3, 3))(torch.randn(2, 32, 12, 12))
    assert s.shape == t.shape == (2, 1, 9, 9)


def test_bam_teacher_mode_formula():
    x = torch.randn(2, 4, 3, 3, dtype=torch.float64)
    out = BAMConnector(4, learnable=False)(x)
    gate = torch.sigmoid(
        x.mean(dim=(2, 3), keepdim=True) + x.mean(dim=1, keepdim=True))
    torch.testing.assert_close(out, x + x * gate)


def test_ema_teacher_mode_formula():
    torch.manual_seed(0)
    x = torch.randn(1, 4, 3, 5, dtype=torch.float64)
    out = EMAConnector(4, groups=2, learnable=False)(x)
    for g in range(2):
        grp = x[0, 2 * g:2 * g + 2]  # (2, 3, 5)
        gh = grp.mean(dim=2, keepdim=True)
        gw = grp.mean(dim=1, keepdim=True)
        x1 = grp * torch.sigmoid(gh) * torch.sigmoid(gw)
        x1 = (x1 - x1.mean(dim=(1, 2), keepdim=True)) / torch.sqrt(
            x1.var(dim=(1, 2), unbiased=False, keepdim=True) + 1e-5)
        x2 = grp
        d1 = torch.softmax(x1.mean(dim=(1, 2)), 0)
        d2 = torch.softmax(x2.mean(dim=(1, 2)), 0)
        w = torch.einsum('c,chw->hw', d1, x2) + torch.einsum(
            'c,chw->hw', d2, x1)
        torch.testing.assert_close(out[0, 2 * g:2 * g + 2],
                                   grp * torch.sigmoid(w)[None])


@pytest.mark.parametrize('type_', ['BAMConnector', 'EMAConnector',
                                   'CBAMConnector'])
def test_learnable_variants_train_and_align(type_):
    conn = MODELS.build(dict(type=type_, in_channels=32, out_channels=64))
    x = torch.randn(2, 32, 6, 6, requires_grad=True)
    out = conn(x)
    assert out.shape == (2, 64, 6, 6)
    F.mse_loss(out, torch.randn_like(out)).backward()
    assert x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in conn.parameters())
    teacher = MODELS.build(dict(type=type_, in_channels=32, learnable=False))
    assert not list(teacher.parameters())


@pytest.mark.parametrize('type_', ['ATConnector', 'SAConnector',
                                   'BAMConnector', 'EMAConnector'])
def test_channel_check(type_):
    with pytest.raises(ValueError, match='in_channels=16'):
        MODELS.build(dict(type=type_, in_channels=16))(torch.randn(
            1, 8, 4, 4))


def test_ema_groups_must_divide_channels():
    with pytest.raises(ValueError, match='divisible'):
        EMAConnector(30, groups=8)
