# Copyright (c) attnfd-mm contributors. All rights reserved.
import math

import pytest
import torch

from attnfd_mm.models import CBAMConnector


def n_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('channels,expected', [(512, 33412), (256, 8564),
                                               (320, 13240)])
def test_student_param_counts(channels, expected):
    conn = CBAMConnector(channels)
    assert n_params(conn) == expected
    # SPEC section 3: c*c/8 + c/16 + c + 100
    assert expected == channels * channels // 8 + channels // 16 + \
        channels + 100


def test_paper_table6_totals():
    r18 = sum(n_params(CBAMConnector(c)) for c in (512, 256, 256))
    mbv2 = sum(n_params(CBAMConnector(c)) for c in (320, 256, 256))
    assert (r18, mbv2) == (50540, 30368)


def test_teacher_mode_has_no_parameters_and_matches_formula():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 5, 7, dtype=torch.float64)
    conn = CBAMConnector(6, learnable=False)
    assert n_params(conn) == 0
    out = conn(x)
    # SPEC section 1, teacher mode, computed element by element.
    expected = torch.empty_like(x)
    for b in range(2):
        mc = torch.sigmoid(
            torch.stack([x[b, c].mean() + x[b, c].max() for c in range(6)]))
        f1 = x[b] * mc[:, None, None]
        ms = torch.sigmoid(f1.max(dim=0).values + f1.mean(dim=0))
        expected[b] = f1 * ms[None]
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)


def test_learnable_mode_matches_formula():
    torch.manual_seed(0)
    x = torch.randn(2, 32, 6, 6, dtype=torch.float64)
    conn = CBAMConnector(32).double().eval()  # BN uses running stats
    with torch.no_grad():
        conn.spatial_bn.running_mean.fill_(0.3)
        conn.spatial_bn.running_var.fill_(2.0)
        conn.spatial_bn.weight.fill_(1.5)
        conn.spatial_bn.bias.fill_(-0.2)
    lin1, lin2 = conn.channel_mlp[0], conn.channel_mlp[2]

    def mlp(v):
        return lin2.weight @ torch.relu(lin1.weight @ v + lin1.bias) \
            + lin2.bias

    out = conn(x)
    for b in range(2):
        f = x[b]
        mc = torch.sigmoid(mlp(f.mean(dim=(1, 2))) + mlp(f.amax(dim=(1, 2))))
        f1 = f * mc[:, None, None]
        pooled = torch.stack([f1.max(dim=0).values, f1.mean(dim=0)])[None]
        conv = torch.nn.functional.conv2d(
            pooled, conn.spatial_conv.weight, padding=3)[0, 0]
        bn = (conv - 0.3) / math.sqrt(2.0 + 1e-5) * 1.5 - 0.2
        torch.testing.assert_close(
            out[b], f1 * torch.sigmoid(bn)[None], rtol=1e-10, atol=1e-10)


def test_learnable_mode_and_alignment_by_hand_in_train_mode():
    """Train mode at batch 2: the spatial gate's BN and the alignment's BN
    normalise with the batch's statistics; the 1x1 alignment conv and its
    BN computed by hand."""
    torch.manual_seed(0)
    x = torch.randn(2, 32, 6, 6, dtype=torch.float64)
    conn = CBAMConnector(32, out_channels=48).double().train()
    align_conv, align_bn = conn.align
    with torch.no_grad():
        conn.spatial_bn.weight.fill_(1.5)
        conn.spatial_bn.bias.fill_(-0.2)
        align_bn.weight.copy_(torch.rand(48) + 0.5)
        align_bn.bias.copy_(torch.randn(48))
    lin1, lin2 = conn.channel_mlp[0], conn.channel_mlp[2]

    def mlp(v):  # (N, C)
        return torch.relu(v @ lin1.weight.T + lin1.bias) @ lin2.weight.T \
            + lin2.bias

    def bn(v, weight, bias, eps=1e-5):  # batch statistics over N, H, W
        mean = v.mean(dim=(0, 2, 3), keepdim=True)
        var = v.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
        return (v - mean) / torch.sqrt(var + eps) * weight.view(1, -1, 1, 1) \
            + bias.view(1, -1, 1, 1)

    out = conn(x)
    mc = torch.sigmoid(mlp(x.mean(dim=(2, 3))) + mlp(x.amax(dim=(2, 3))))
    f1 = x * mc[:, :, None, None]
    pooled = torch.cat([f1.amax(dim=1, keepdim=True),
                        f1.mean(dim=1, keepdim=True)], dim=1)
    conv = torch.nn.functional.conv2d(pooled, conn.spatial_conv.weight,
                                      padding=3)
    f2 = f1 * torch.sigmoid(bn(conv, conn.spatial_bn.weight,
                               conn.spatial_bn.bias))
    # the 1x1 conv: each output channel a weighted sum of the input ones
    aligned = torch.einsum('oc,nchw->nohw', align_conv.weight[:, :, 0, 0], f2)
    expected = bn(aligned, align_bn.weight, align_bn.bias)
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10)


def test_layer_structure_follows_spec():
    conn = CBAMConnector(64, out_channels=128)
    lin1, lin2 = conn.channel_mlp[0], conn.channel_mlp[2]
    assert lin1.bias is not None and lin2.bias is not None
    assert (lin1.in_features, lin1.out_features) == (64, 4)
    assert conn.spatial_conv.bias is None
    assert conn.spatial_conv.kernel_size == (7, 7)
    assert conn.spatial_conv.padding == (3, 3)
    assert conn.spatial_bn.eps == 1e-5 and conn.spatial_bn.momentum == 0.01
    align_conv, align_bn = conn.align
    assert align_conv.bias is None and align_conv.kernel_size == (1, 1)
    assert torch.all(align_bn.weight == 1) and torch.all(align_bn.bias == 0)
    # N(0, sqrt(2 / (1 * 1 * 128))): sample std within 5 %
    std = align_conv.weight.std().item()
    assert abs(std - math.sqrt(2 / 128)) / math.sqrt(2 / 128) < 0.05


def test_alignment_output_shape_and_gradients():
    conn = CBAMConnector(32, out_channels=48)
    x = torch.randn(2, 32, 5, 5, requires_grad=True)
    out = conn(x)
    assert out.shape == (2, 48, 5, 5)
    out.pow(2).mean().backward()
    assert x.grad.abs().sum() > 0
    for name, p in conn.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_channel_mismatch_error():
    with pytest.raises(ValueError, match='in_channels=32.*\\(2, 16, 4, 4\\)'):
        CBAMConnector(32)(torch.randn(2, 16, 4, 4))


def test_bad_arguments():
    with pytest.raises(ValueError, match='learnable=True'):
        CBAMConnector(32, out_channels=64, learnable=False)
    with pytest.raises(ValueError, match='reduction'):
        CBAMConnector(8, reduction=16)
    with pytest.raises(ValueError, match='odd'):
        CBAMConnector(32, spatial_kernel=4)
