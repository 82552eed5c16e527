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


def _bn_train(x, bn):
    """BatchNorm in train mode, by hand: batch statistics over N, H, W."""
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + bn.eps) * \
        bn.weight[None, :, None, None] + bn.bias[None, :, None, None]


def _randomize(module):
    """Random affine norm parameters, so that a dropped one shows."""
    torch.manual_seed(3)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.3 + (1.0 if p.dim() == 1 else 0))
    return module


def test_learnable_bam_by_hand_in_train_mode():
    x = torch.randn(2, 32, 6, 5, dtype=torch.float64)
    conn = _randomize(BAMConnector(32, reduction=16, dilation=2).double())
    conn.train()
    lin1, lin2 = conn.channel_mlp[0], conn.channel_mlp[2]
    pooled = x.mean(dim=(2, 3))
    channel = F.linear(F.relu(F.linear(pooled, lin1.weight, lin1.bias)),
                       lin2.weight, lin2.bias)[:, :, None, None]
    seq = conn.spatial_branch
    y = F.relu(_bn_train(F.conv2d(x, seq[0].weight, seq[0].bias), seq[1]))
    for i in (3, 6):
        y = F.relu(_bn_train(F.conv2d(y, seq[i].weight, seq[i].bias,
                                      padding=2, dilation=2), seq[i + 1]))
    spatial = F.conv2d(y, seq[9].weight, seq[9].bias)
    expected = x + x * torch.sigmoid(channel + spatial)
    torch.testing.assert_close(conn(x), expected)


def test_learnable_ema_by_hand_in_train_mode_at_batch_two():
    """Batch 2 and 2 groups: each (sample, group) is refined on its own, so
    a reshape that mixed samples and groups shows."""
    x = torch.randn(2, 8, 3, 5, dtype=torch.float64)
    conn = _randomize(EMAConnector(8, groups=2).double()).train()
    out = conn(x)
    dconv, lconv, gn = conn.direction_conv, conn.local_conv, conn.norm
    for n in range(2):
        for g in range(2):
            grp = x[n:n + 1, 4 * g:4 * g + 4]  # (1, 4, 3, 5)
            pooled = torch.cat([grp.mean(dim=3, keepdim=True),
                                grp.mean(dim=2, keepdim=True).transpose(
                                    2, 3)], dim=2)  # (1, 4, 3 + 5, 1)
            a = F.conv2d(pooled, dconv.weight, dconv.bias)
            gate_h, gate_w = a[:, :, :3], a[:, :, 3:].transpose(2, 3)
            gated = grp * torch.sigmoid(gate_h) * torch.sigmoid(gate_w)
            # GroupNorm with one channel per group, by hand
            mean = gated.mean(dim=(2, 3), keepdim=True)
            var = gated.var(dim=(2, 3), unbiased=False, keepdim=True)
            x1 = (gated - mean) / torch.sqrt(var + gn.eps) * \
                gn.weight[None, :, None, None] + gn.bias[None, :, None, None]
            x2 = F.conv2d(grp, lconv.weight, lconv.bias, padding=1)
            d1 = torch.softmax(x1.mean(dim=(2, 3))[0], 0)
            d2 = torch.softmax(x2.mean(dim=(2, 3))[0], 0)
            w = torch.einsum('c,chw->hw', d1, x2[0]) + torch.einsum(
                'c,chw->hw', d2, x1[0])
            torch.testing.assert_close(out[n, 4 * g:4 * g + 4],
                                       grp[0] * torch.sigmoid(w)[None])
