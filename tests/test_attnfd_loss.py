# Copyright (c) attnfd-mm contributors. All rights reserved.
import pytest
import torch

from attnfd_mm.models import AttnFDLoss


def reference_loss(s, t, weight, per_sample):
    """SPEC section 1.3 written out with explicit loops."""
    total = torch.zeros((), dtype=s.dtype)
    b = s.shape[0]
    if per_sample:
        for i in range(b):
            ns = s[i] / torch.sqrt((s[i]**2).sum())
            nt = t[i] / torch.sqrt((t[i]**2).sum())
            total = total + ((ns - nt)**2).sum()
    else:
        ns = s / torch.sqrt((s**2).sum())
        nt = t / torch.sqrt((t**2).sum())
        total = ((ns - nt)**2).sum()
    return weight * total / b


@pytest.mark.parametrize('normalize', ['batch', 'sample'])
def test_matches_reference(normalize):
    torch.manual_seed(0)
    s = torch.randn(3, 5, 6, 7, dtype=torch.float64)
    t = torch.randn(3, 5, 6, 7, dtype=torch.float64)
    loss = AttnFDLoss(loss_weight=2.0, normalize=normalize)(s, t)
    expected = reference_loss(s, t, 2.0, normalize == 'sample')
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=1e-12)


def test_default_weight_is_two_and_batch_norm():
    loss = AttnFDLoss()
    assert loss.loss_weight == 2.0 and loss.normalize == 'batch'


@pytest.mark.parametrize('normalize', ['batch', 'sample'])
def test_invariant_to_positive_scaling(normalize):
    torch.manual_seed(1)
    s = torch.randn(2, 4, 5, 5, dtype=torch.float64)
    t = torch.randn(2, 4, 5, 5, dtype=torch.float64)
    fn = AttnFDLoss(normalize=normalize)
    base = fn(s, t)
    torch.testing.assert_close(fn(7.5 * s, t), base)
    torch.testing.assert_close(fn(s, 0.01 * t), base)
    assert base > 0


@pytest.mark.parametrize('normalize', ['batch', 'sample'])
def test_zero_when_normalized_maps_equal(normalize):
    t = torch.rand(2, 3, 4, 4, dtype=torch.float64)
    s = 3.0 * t
    assert AttnFDLoss(normalize=normalize)(s, t).abs() < 1e-12


def test_batch_and_sample_modes_differ_on_unequal_norms():
    # Two samples with very different magnitudes: the batch norm is
    # dominated by the large one, per-sample normalisation is not.
    torch.manual_seed(2)
    s = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    t = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    s[1] *= 100.0
    batch = AttnFDLoss(normalize='batch')(s, t)
    sample = AttnFDLoss(normalize='sample')(s, t)
    assert not torch.isclose(batch, sample)
    torch.testing.assert_close(sample, reference_loss(s, t, 2.0, True))
    # With one sample both modes agree.
    torch.testing.assert_close(
        AttnFDLoss(normalize='batch')(s[:1], t[:1]),
        AttnFDLoss(normalize='sample')(s[:1], t[:1]))


def test_teacher_detached_and_student_gets_gradient():
    s = torch.randn(2, 3, 4, 4, requires_grad=True)
    t = torch.randn(2, 3, 4, 4, requires_grad=True)
    AttnFDLoss()(s, t).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


def test_learnable_teacher_connector_trains_when_not_detached():
    from attnfd_mm.models import CBAMConnector
    teacher_conn = CBAMConnector(16)  # learnable teacher-side CBAM
    with torch.no_grad():  # a frozen teacher network runs without grad
        t_raw = torch.randn(2, 16, 4, 4)
    s = torch.randn(2, 16, 4, 4, requires_grad=True)
    AttnFDLoss(detach_teacher=False)(s, teacher_conn(t_raw)).backward()
    for name, p in teacher_conn.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert s.grad.abs().sum() > 0
    teacher_conn.zero_grad()
    AttnFDLoss()(s, teacher_conn(t_raw)).backward()
    assert all(p.grad is None or not p.grad.any()
               for p in teacher_conn.parameters())


def test_student_resized_to_teacher():
    s = torch.randn(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    t = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    loss = AttnFDLoss()(s, t)
    resized = torch.nn.functional.interpolate(
        s, size=(8, 8), mode='bilinear', align_corners=False)
    torch.testing.assert_close(loss, reference_loss(resized, t, 2.0, False))
    loss.backward()
    assert s.grad.abs().sum() > 0


def test_maps_that_cannot_be_resized_are_named():
    """Only 4-D maps can be resized to each other: a 3-D map is an error
    naming both shapes, as is a batch-size mismatch."""
    with pytest.raises(ValueError, match=r'4-D maps .*\(2, 3, 16\).*'
                       r'\(2, 3, 8, 8\)'):
        AttnFDLoss()(torch.randn(2, 3, 16), torch.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match='batch sizes differ'):
        AttnFDLoss()(torch.randn(1, 3, 8, 8), torch.randn(2, 3, 8, 8))


def test_channel_mismatch_names_shapes_and_fix():
    with pytest.raises(ValueError) as err:
        AttnFDLoss()(torch.randn(2, 128, 4, 4), torch.randn(2, 512, 4, 4))
    msg = str(err.value)
    assert '(2, 128, 4, 4)' in msg and '(2, 512, 4, 4)' in msg
    assert 'out_channels=512' in msg


@pytest.mark.parametrize('weight', [-1.0, 'two', float('nan'), True])
def test_bad_loss_weight(weight):
    with pytest.raises((ValueError, TypeError), match='loss_weight'):
        AttnFDLoss(loss_weight=weight)


def test_unknown_normalize():
    with pytest.raises(ValueError, match="'channel'.*'batch', 'sample'"):
        AttnFDLoss(normalize='channel')
