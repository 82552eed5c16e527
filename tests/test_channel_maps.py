# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFDLoss on channel maps (the connectors' outputs read a few channels at
a time, each block under torch.utils.checkpoint): the formula's values and
gradients, blocks recomputed in the backward, the BN statistics updated
once; the distiller hands the loss channel maps by default."""
import copy

import pytest
import torch
from mmengine.registry import MODELS, DefaultScope

from attnfd_mm.models import AttnFDLoss, CBAMConnector
from attnfd_mm.models.losses import (AlignedMap, GatedMap, TensorMap,
                                     chunkable_align)
from attnfd_mm.testing import random_batch, tiny_distill_model
from attnfd_mm.utils import channel_chunks

#: (student channels, teacher channels, student size, teacher size)
PAIRS = [(16, 32, 8, 8), (32, 32, 6, 8), (16, 48, 5, 7)]


def _pair(cs, ct, seed=0):
    torch.manual_seed(seed)
    student = CBAMConnector(cs, out_channels=ct if cs != ct else None,
                            reduction=4)
    # BN statistics that are not the initial ones
    if student.align is not None:
        student.align[1].running_mean.uniform_(-1, 1)
        student.align[1].running_var.uniform_(0.5, 2)
    return student, CBAMConnector(ct, learnable=False)


def _explicit_loss(s, t, weight, per_sample):
    """AttnFD's distance written out (SPEC section 1.3), in float64, the
    student resized to the teacher's size."""
    s, t = s.double(), t.double()
    if s.shape[-2:] != t.shape[-2:]:
        s = torch.nn.functional.interpolate(
            s, size=t.shape[-2:], mode='bilinear', align_corners=False)
    dims = tuple(range(1, s.dim())) if per_sample else tuple(range(s.dim()))
    s = s / s.pow(2).sum(dims, keepdim=True).sqrt()
    t = t / t.pow(2).sum(dims, keepdim=True).sqrt()
    return weight * (s - t).pow(2).sum() / s.shape[0]


@pytest.mark.parametrize('normalize', ['batch', 'sample'])
@pytest.mark.parametrize('cs,ct,ss,ts', PAIRS)
@pytest.mark.parametrize('chunk_elements', [1, 100, 10**6])
def test_same_loss_gradients_and_statistics_as_the_formula(
        normalize, cs, ct, ss, ts, chunk_elements):
    """On fixed inputs, the loss on channel maps equals the formula written
    out in float64 on the connectors' outputs to 1e-6; the gradients of the
    student feature and of every connector parameter, and the BN running
    statistics (updated once), agree."""
    plain_conn, t_conn = _pair(cs, ct)
    map_conn = copy.deepcopy(plain_conn)
    torch.manual_seed(1)
    x = torch.randn(3, cs, ss, ss, requires_grad=True)
    t = torch.randn(3, ct, ts, ts) * 3 + 1
    x2 = x.detach().clone().requires_grad_()

    expected = _explicit_loss(plain_conn(x), t_conn(t), 2.0,
                              normalize == 'sample')
    expected.backward()
    loss = AttnFDLoss(normalize=normalize, chunk_elements=chunk_elements)
    got = loss(map_conn.channel_map(x2), t_conn.channel_map(t))
    got.backward()

    assert got.dtype == torch.float32
    assert abs(got.item() - expected.item()) <= 1e-6
    torch.testing.assert_close(x2.grad, x.grad, rtol=1e-4, atol=1e-7)
    for (name, p), q in zip(plain_conn.named_parameters(),
                            map_conn.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-7,
                                   msg=name)
    for (name, b), c in zip(plain_conn.named_buffers(), map_conn.buffers()):
        torch.testing.assert_close(c, b, msg=name)
    if plain_conn.align is not None:
        assert int(map_conn.align[1].num_batches_tracked) == 1


@pytest.mark.parametrize('normalize', ['batch', 'sample'])
def test_tensors_give_the_formula_too(normalize):
    """Plain tensors take the same path: the formula's value and
    gradient."""
    torch.manual_seed(0)
    s = torch.randn(2, 6, 5, 5, requires_grad=True)
    t = torch.randn(2, 6, 5, 5)
    s2 = s.detach().clone().requires_grad_()
    expected = _explicit_loss(s, t, 3.0, normalize == 'sample')
    expected.backward()
    got = AttnFDLoss(3.0, normalize, chunk_elements=50)(s2, t)
    got.backward()
    assert abs(got.item() - expected.item()) <= 1e-6
    torch.testing.assert_close(s2.grad, s.grad, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize('normalize', ['batch', 'sample'])
def test_value_within_1e6_of_float64_on_a_large_map(normalize):
    """On a 2x2048x48x48 map the value (float64 sums) is within 1e-6 of a
    float64 evaluation of the formula."""
    torch.manual_seed(0)
    student, t_conn = _pair(64, 2048)
    student.eval()  # running statistics: the same map both ways
    x = torch.randn(2, 64, 48, 48)
    t = torch.randn(2, 2048, 48, 48).abs() + 0.5
    loss = AttnFDLoss(normalize=normalize)
    with torch.no_grad():
        expected = _explicit_loss(student(x), t_conn(t), 2.0,
                                  normalize == 'sample')
        got = loss(student.channel_map(x), t_conn.channel_map(t))
    assert abs(float(got) - float(expected)) <= 1e-6


def _with_tensors(align, weight, gamma, beta):
    """``align`` with its conv weight and BN affine parameters replaced by
    the given tensors (so that gradcheck differentiates them)."""
    align = copy.deepcopy(align)
    for module, name, value in ((align[0], 'weight', weight),
                                (align[1], 'weight', gamma),
                                (align[1], 'bias', beta)):
        delattr(module, name)
        setattr(module, name, value)
    return align


def test_gradcheck_in_float64():
    """Autograd through the checkpointed blocks against finite
    differences, for the student feature and the alignment's parameters."""
    torch.manual_seed(0)
    student, _ = _pair(4, 5)
    student = student.double()
    conv, norm = student.align
    t = torch.randn(2, 5, 2, 3, dtype=torch.float64)
    cg = torch.rand(2, 5, 1, 1, dtype=torch.float64)
    sg = torch.rand(2, 1, 2, 3, dtype=torch.float64)
    x = torch.randn(2, 4, 3, 3, dtype=torch.float64, requires_grad=True)

    for normalize in ('batch', 'sample'):
        loss = AttnFDLoss(normalize=normalize, chunk_elements=13)

        def fn(x, weight, gamma, beta):
            align = _with_tensors(student.align, weight, gamma, beta)
            return loss(AlignedMap(x, align), GatedMap(t, cg, sg))

        inputs = (x, conv.weight.detach().clone().requires_grad_(),
                  norm.weight.detach().clone().uniform_(0.5, 1.5)
                  .requires_grad_(),
                  norm.bias.detach().clone().normal_().requires_grad_())
        assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-6)


def test_teacher_gates_are_the_connector_factors():
    torch.manual_seed(0)
    conn = CBAMConnector(10, learnable=False)
    t = torch.randn(2, 10, 5, 6)
    cg, sg = conn.factored_gates(t, chunk_elements=60)  # 1 channel a chunk
    assert cg.shape == (2, 10, 1, 1) and sg.shape == (2, 1, 5, 6)
    torch.testing.assert_close(GatedMap(t, cg, sg).channels(0, 10), conn(t),
                               rtol=1e-6, atol=1e-7)
    assert isinstance(conn.channel_map(t), GatedMap)
    torch.testing.assert_close(conn.channel_map(t).channels(3, 7),
                               conn(t)[:, 3:7], rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match='parameter-free'):
        CBAMConnector(16).factored_gates(torch.randn(1, 16, 2, 2))
    with pytest.raises(ValueError, match='in_channels=10'):
        conn.factored_gates(torch.randn(1, 12, 2, 2))


def test_channel_chunks():
    assert channel_chunks(5, 10, 20) == [(0, 2), (2, 4), (4, 5)]
    assert channel_chunks(3, 100, 1) == [(0, 1), (1, 2), (2, 3)]
    assert channel_chunks(4, 1, 100) == [(0, 4)]
    with pytest.raises(ValueError, match='chunk_elements'):
        channel_chunks(4, 1, 0)
    with pytest.raises(ValueError, match='chunk_elements'):
        AttnFDLoss(chunk_elements=0)


def test_what_can_be_read_by_channels_and_bad_input():
    conn, _ = _pair(8, 16)
    assert chunkable_align(conn.align) and not chunkable_align(None)
    assert isinstance(conn.channel_map(torch.randn(2, 8, 4, 4)), AlignedMap)
    gn = CBAMConnector(8, out_channels=16, reduction=4,
                       align_norm_cfg=dict(type='GN', num_groups=1))
    assert not chunkable_align(gn.align)
    x = torch.randn(2, 8, 4, 4)
    with pytest.raises(ValueError, match='Conv2d 1x1 without bias'):
        AlignedMap(x, gn.align)
    # a GN alignment: the connector's output itself
    gn_map = gn.channel_map(x)
    assert isinstance(gn_map, TensorMap)
    torch.testing.assert_close(gn_map.tensor, gn(x))
    with pytest.raises(ValueError, match='channel mismatch'):
        AttnFDLoss()(TensorMap(x), TensorMap(torch.randn(2, 16, 4, 4)))


def test_blocks_are_recomputed_in_the_backward(monkeypatch):
    """Each block of the student map is computed once in the forward and
    once more in the backward (torch.utils.checkpoint keeps none of them),
    never the full width at once; without grad, once."""
    calls = []
    original = AlignedMap.channels

    def spy(self, start, end):
        calls.append((start, end))
        return original(self, start, end)

    monkeypatch.setattr(AlignedMap, 'channels', spy)
    student, t_conn = _pair(16, 256)
    x = torch.randn(2, 16, 16, 16, requires_grad=True)
    t = torch.randn(2, 256, 16, 16)
    loss = AttnFDLoss(chunk_elements=2 * 16 * 16 * 32)  # 32 channels
    value = loss(student.channel_map(x), t_conn.channel_map(t))
    blocks = [(c, c + 32) for c in range(0, 256, 32)]
    assert calls == blocks
    value.backward()
    assert sorted(calls) == sorted(blocks * 2)
    calls.clear()
    with torch.no_grad():
        loss(student.channel_map(x), t_conn.channel_map(t))
    assert calls == blocks


def _build(cfg):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


def _spy_loss_inputs(monkeypatch):
    seen = []
    original = AttnFDLoss.forward

    def spy(self, s_feature, t_feature):
        seen.append((type(s_feature).__name__, type(t_feature).__name__))
        return original(self, s_feature, t_feature)

    monkeypatch.setattr(AttnFDLoss, 'forward', spy)
    return seen


@pytest.mark.parametrize('normalize', ['batch', 'sample'])
def test_distiller_default_path_equals_connector_outputs(
        normalize, monkeypatch):
    """The whole algorithm: distillation losses equal to 1e-6 with
    memory_efficient on (the default: channel maps) and off (the
    connectors' outputs), the same gradients."""
    seen = _spy_loss_inputs(monkeypatch)
    cfg = tiny_distill_model('r18', 'r50', method=dict(
        batch='attnfd', sample='attnfd_sample')[normalize])
    torch.manual_seed(0)
    maps = _build(cfg).train()
    plain = _build(cfg).train()
    plain.load_state_dict(maps.state_dict())
    assert maps.distiller.memory_efficient
    plain.distiller.memory_efficient = False
    inputs, samples = random_batch((32, 32))
    results = []
    for algo in (maps, plain):
        torch.manual_seed(1)  # the same dropout
        losses = algo.loss(inputs, samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        results.append(losses)
    assert seen == [('AlignedMap', 'GatedMap')] * 2 + [('Tensor',
                                                         'Tensor')] * 2
    for name in ('distill.loss_attnfd_B', 'distill.loss_attnfd_E'):
        assert abs(results[0][name].item() - results[1][name].item()) <= \
            1e-6, name
    grads = dict(plain.named_parameters())
    for name, p in maps.named_parameters():
        assert (p.grad is None) == (grads[name].grad is None), name
        if p.grad is not None:
            expected = grads[name].grad
            assert (p.grad - expected).abs().max() <= \
                1e-4 * expected.abs().max(), name


def test_distiller_maps_for_other_connectors(monkeypatch):
    """A GN alignment hands the loss the student connector's output, a
    learnable teacher-side CBAM its refined map, another connector type
    plain tensors."""
    seen = _spy_loss_inputs(monkeypatch)
    inputs, samples = random_batch((32, 32))
    variants = {
        'default': (dict(), ('AlignedMap', 'GatedMap')),
        'gn-align': (dict(connector=dict(
            type='CBAMConnector',
            align_norm_cfg=dict(type='GN', num_groups=1))),
            ('TensorMap', 'GatedMap')),
        'learnable-teacher-side': (dict(teacher_learnable=True),
                                   ('AlignedMap', 'TensorMap')),
        'at-connector': (dict(connector=dict(type='ATConnector'),
                              teacher_connector=dict(type='ATConnector')),
                         ('Tensor', 'Tensor')),
    }
    for name, (kwargs, expected) in variants.items():
        cfg = tiny_distill_model('r18', 'r50')
        distiller = cfg['distiller']
        if 'teacher_learnable' in kwargs:
            distiller['teacher_connector'] = dict(type='CBAMConnector',
                                                  learnable=True)
        distiller.update({k: v for k, v in kwargs.items()
                          if k != 'teacher_learnable'})
        algo = _build(cfg).train()
        seen.clear()
        losses = algo.loss(inputs, samples)
        assert torch.isfinite(losses['distill.loss_attnfd_B'])
        assert seen == [expected] * 2, name


def test_under_autocast_as_connector_outputs(monkeypatch):
    """Mixed precision (``--amp``): the blocks run under autocast, the
    backward recomputes them under the same autocast, and the value agrees
    with the connectors' outputs to bfloat16 precision."""
    seen = []
    original = AlignedMap.channels

    def spy(self, *args, **kwargs):
        seen.append(torch.is_autocast_enabled('cpu'))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AlignedMap, 'channels', spy)
    plain_conn, t_conn = _pair(16, 32)
    map_conn = copy.deepcopy(plain_conn)
    loss = AttnFDLoss(chunk_elements=2 * 6 * 6)
    torch.manual_seed(1)
    x = torch.randn(2, 16, 6, 6, requires_grad=True)
    t = torch.randn(2, 32, 6, 6)
    x2 = x.detach().clone().requires_grad_()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        plain = loss(plain_conn(x), t_conn(t))
        got = loss(map_conn.channel_map(x2), t_conn.channel_map(t))
    plain.backward()
    got.backward()
    # forward and backward passes over the 32 one-channel blocks, all
    # under autocast
    assert len(seen) == 2 * 32 and all(seen), seen
    assert got.item() == pytest.approx(plain.item(), rel=2e-2)
    assert x2.grad.dtype == x.grad.dtype == torch.float32
    assert (x2.grad - x.grad).abs().max() <= 5e-2 * x.grad.abs().max()
