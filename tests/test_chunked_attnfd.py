# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The chunked AttnFD path: the plain path's values and gradients, less
memory, the BN statistics updated once; the distiller uses it by default."""
import copy

import pytest
import torch
from mmengine.registry import MODELS, DefaultScope

from attnfd_mm.models import AttnFDLoss, CBAMConnector
from attnfd_mm.models.losses import (TeacherMap, chunkable_align,
                                     chunked_attnfd_loss)
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


@pytest.mark.parametrize('normalize', ['batch', 'sample'])
@pytest.mark.parametrize('cs,ct,ss,ts', PAIRS)
@pytest.mark.parametrize('chunk_elements', [1, 100, 10**6])
def test_same_loss_gradients_and_statistics_as_plain_path(
        normalize, cs, ct, ss, ts, chunk_elements):
    """On fixed inputs, the loss equals the plain path's to 1e-6; the
    gradients of the student feature and every connector parameter, and
    the BN running statistics, agree."""
    plain_conn, t_conn = _pair(cs, ct)
    chunk_conn = copy.deepcopy(plain_conn)
    loss = AttnFDLoss(normalize=normalize)
    torch.manual_seed(1)
    x = torch.randn(3, cs, ss, ss, requires_grad=True)
    t = torch.randn(3, ct, ts, ts) * 3 + 1
    x2 = x.detach().clone().requires_grad_()

    plain = loss(plain_conn(x), t_conn(t))
    plain.backward()
    t_map = TeacherMap(t, *t_conn.factored_gates(t, chunk_elements))
    chunked = loss.forward_chunked(
        chunk_conn.attend(x2), chunk_conn.align, t_map, chunk_elements)
    chunked.backward()

    assert abs(chunked.item() - plain.item()) <= 1e-6
    torch.testing.assert_close(x2.grad, x.grad, rtol=1e-4, atol=1e-7)
    for (name, p), q in zip(plain_conn.named_parameters(),
                            chunk_conn.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-7,
                                   msg=name)
    for (name, b), c in zip(plain_conn.named_buffers(),
                            chunk_conn.buffers()):
        torch.testing.assert_close(c, b, msg=name)
    if plain_conn.align is not None:
        assert int(chunk_conn.align[1].num_batches_tracked) == 1


def _explicit_loss(s, t, weight, per_sample):
    """AttnFD's distance written out (SPEC section 1.3), in float64."""
    s, t = s.double(), t.double()
    dims = tuple(range(1, s.dim())) if per_sample else tuple(range(s.dim()))
    s = s / s.pow(2).sum(dims, keepdim=True).sqrt()
    t = t / t.pow(2).sum(dims, keepdim=True).sqrt()
    return weight * (s - t).pow(2).sum() / s.shape[0]


@pytest.mark.parametrize('normalize', ['batch', 'sample'])
def test_value_within_1e6_of_float64_on_a_large_map(normalize):
    """On a 2x2048x48x48 map the chunked value (float64 sums) is within
    1e-6 of a float64 evaluation of the formula; the plain path's float32
    reductions are further off there (reported, not required)."""
    torch.manual_seed(0)
    student, t_conn = _pair(64, 2048)
    student.eval()  # running statistics: the same map both ways
    x = torch.randn(2, 64, 48, 48)
    t = torch.randn(2, 2048, 48, 48).abs() + 0.5
    loss = AttnFDLoss(normalize=normalize)
    with torch.no_grad():
        s_full = student(x)
        t_full = t_conn(t)
        expected = _explicit_loss(s_full, t_full, 2.0, normalize == 'sample')
        chunked = loss.forward_chunked(
            student.attend(x), student.align,
            TeacherMap(t, *t_conn.factored_gates(t)))
    assert abs(float(chunked) - float(expected)) <= 1e-6


def test_gradcheck_in_float64():
    """The hand-written backward against finite differences."""
    torch.manual_seed(0)
    student, _ = _pair(4, 5)
    student = student.double()
    conv, norm = student.align
    t = torch.randn(2, 5, 2, 3, dtype=torch.float64)
    cg = torch.rand(2, 5, 1, 1, dtype=torch.float64)
    sg = torch.rand(2, 1, 2, 3, dtype=torch.float64)
    x = torch.randn(2, 4, 3, 3, dtype=torch.float64, requires_grad=True)

    for per_sample in (False, True):
        def fn(x, weight, gamma, beta):
            align = copy.deepcopy(student.align)
            align[0].weight, align[1].weight, align[1].bias = (
                torch.nn.Parameter(weight), torch.nn.Parameter(gamma),
                torch.nn.Parameter(beta))
            return _apply(x, align, weight, gamma, beta, per_sample)

        def _apply(x, align, weight, gamma, beta, per_sample):
            from attnfd_mm.models.losses.chunked_attnfd import (
                _ChunkedAttnFD, _StudentAlign)
            return _ChunkedAttnFD.apply(
                x, weight, gamma, beta, _StudentAlign(align, (2, 3)),
                TeacherMap(t, cg, sg), 2.0, per_sample, 1e-12, 13)

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
    torch.testing.assert_close(TeacherMap(t, cg, sg).chunk(0, 10), conn(t),
                               rtol=1e-6, atol=1e-7)
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


def test_what_can_be_chunked_and_bad_input():
    conn, _ = _pair(8, 16)
    assert chunkable_align(None) and chunkable_align(conn.align)
    gn = CBAMConnector(8, out_channels=16, reduction=4,
                       align_norm_cfg=dict(type='GN', num_groups=1))
    assert not chunkable_align(gn.align)
    t_map = TeacherMap(torch.randn(2, 16, 4, 4))
    with pytest.raises(ValueError, match='Conv2d 1x1 without bias'):
        chunked_attnfd_loss(torch.randn(2, 8, 4, 4), gn.align, t_map, 2.0,
                            False, 1e-12)
    loss = AttnFDLoss()
    with pytest.raises(ValueError, match='channel mismatch'):
        loss.forward_chunked(torch.randn(2, 8, 4, 4), None, t_map)
    with pytest.raises(ValueError, match='detach_teacher=False'):
        AttnFDLoss(detach_teacher=False).forward_chunked(
            torch.randn(2, 8, 4, 4), conn.align, t_map)


def _saved_bytes(fn):
    """Bytes of the distinct tensors autograd keeps for the backward of
    ``fn()``, and their shapes."""
    seen = {}

    def pack(x):
        seen[x.untyped_storage().data_ptr()] = (
            x.untyped_storage().nbytes(), tuple(x.shape))
        return x

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda x: x):
        out = fn()
    return out, sum(n for n, _ in seen.values()), {s for _, s in seen.values()}


def test_keeps_no_full_width_map_for_backward():
    """The plain path keeps aligned student maps (B, Ct, H, W) for the
    backward; the chunked path keeps none beyond the teacher feature
    itself, and less than half the plain path's bytes."""
    student, t_conn = _pair(16, 256)
    x = torch.randn(2, 16, 16, 16, requires_grad=True)
    t = torch.randn(2, 256, 16, 16)
    loss = AttnFDLoss()
    plain, plain_bytes, plain_shapes = _saved_bytes(
        lambda: loss(student(x), t_conn(t)))
    t_map = TeacherMap(t, *t_conn.factored_gates(t))
    chunked, chunked_bytes, chunked_shapes = _saved_bytes(
        lambda: loss.forward_chunked(student.attend(x), student.align,
                                     t_map, chunk_elements=2048))
    full = (2, 256, 16, 16)
    assert full in plain_shapes
    # the teacher feature is kept (it is the recorder's tensor, no copy)
    assert chunked_shapes & {full} == {full}
    full_bytes = 2 * 256 * 16 * 16 * 4
    assert chunked_bytes <= full_bytes + plain_bytes // 4, (
        chunked_bytes, plain_bytes)
    assert plain_bytes >= 3 * full_bytes


def _build(cfg):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


@pytest.mark.parametrize('normalize', ['batch', 'sample'])
def test_distiller_default_path_equals_plain_path(normalize):
    """The whole algorithm: distillation losses equal to 1e-6 with
    memory_efficient on (the default) and off, the same gradients."""
    cfg = tiny_distill_model('r18', 'r50', normalize=normalize)
    torch.manual_seed(0)
    chunked = _build(cfg).train()
    plain = _build(cfg).train()
    plain.load_state_dict(chunked.state_dict())
    assert chunked.distiller.memory_efficient
    assert all(chunked.distiller.chunkable(n)
               for n in ('loss_attnfd_B', 'loss_attnfd_E'))
    plain.distiller.memory_efficient = False
    inputs, samples = random_batch((32, 32))
    results = []
    for algo in (chunked, plain):
        torch.manual_seed(1)  # the same dropout
        losses = algo.loss(inputs, samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        results.append(losses)
    for name in ('distill.loss_attnfd_B', 'distill.loss_attnfd_E'):
        assert abs(results[0][name].item() - results[1][name].item()) <= \
            1e-6, name
    grads = dict(plain.named_parameters())
    for name, p in chunked.named_parameters():
        assert (p.grad is None) == (grads[name].grad is None), name
        if p.grad is not None:
            expected = grads[name].grad
            assert (p.grad - expected).abs().max() <= \
                1e-4 * expected.abs().max(), name


def test_distiller_plain_path_for_other_connectors_and_losses(monkeypatch):
    """A GN alignment, a learnable teacher-side connector or another
    connector type take the plain path; the default takes the chunked."""
    calls = []
    original = AttnFDLoss.forward_chunked

    def spy(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AttnFDLoss, 'forward_chunked', spy)
    inputs, samples = random_batch((32, 32))
    variants = {
        'default': dict(),
        'gn-align': dict(connector=dict(
            type='CBAMConnector',
            align_norm_cfg=dict(type='GN', num_groups=1))),
        'learnable-teacher-side': dict(teacher_learnable=True),
        'at-connector': dict(connector=dict(type='ATConnector'),
                             teacher_connector=dict(type='ATConnector')),
    }
    for name, kwargs in variants.items():
        cfg = tiny_distill_model('r18', 'r50')
        distiller = cfg['distiller']
        if 'teacher_learnable' in kwargs:
            distiller['teacher_connector']['learnable'] = True
        distiller.update({k: v for k, v in kwargs.items()
                          if k != 'teacher_learnable'})
        algo = _build(cfg).train()
        calls.clear()
        losses = algo.loss(inputs, samples)
        assert torch.isfinite(losses['distill.loss_attnfd_B'])
        assert len(calls) == (2 if name == 'default' else 0), name


def test_under_autocast_as_plain_path(monkeypatch):
    """Mixed precision (``--amp``): the chunked path runs under autocast,
    its backward recomputes under the same autocast, and it agrees with
    the plain path to bfloat16 precision."""
    from attnfd_mm.models.losses.chunked_attnfd import _StudentAlign
    seen = []
    original = _StudentAlign.chunk

    def spy(self, *args, **kwargs):
        seen.append(torch.is_autocast_enabled('cpu'))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_StudentAlign, 'chunk', spy)
    plain_conn, t_conn = _pair(16, 32)
    chunk_conn = copy.deepcopy(plain_conn)
    loss = AttnFDLoss()
    torch.manual_seed(1)
    x = torch.randn(2, 16, 6, 6, requires_grad=True)
    t = torch.randn(2, 32, 6, 6)
    x2 = x.detach().clone().requires_grad_()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        plain = loss(plain_conn(x), t_conn(t))
        chunked = loss.forward_chunked(
            chunk_conn.attend(x2), chunk_conn.align,
            TeacherMap(t, *t_conn.factored_gates(t)), chunk_elements=100)
    plain.backward()
    chunked.backward()
    # forward and backward passes over the 32 one-channel chunks, all
    # under autocast
    assert len(seen) == 2 * 32 and all(seen), seen
    assert chunked.item() == pytest.approx(plain.item(), rel=2e-2)
    assert x2.grad.dtype == x.grad.dtype == torch.float32
    assert (x2.grad - x.grad).abs().max() <= 5e-2 * x.grad.abs().max()
