# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFDDistiller with a logits loss (AttnFD + KD): the combined terms are
exactly AttnFD's and LogitsDistiller's, with 'auto' or given layers, and bad
settings are named."""
import copy

import pytest
import torch
from mmengine.registry import MODELS, DefaultScope

from attnfd_mm.testing import (deeplabv3_segmentor, random_batch,
                               stock_segmentor)
from attnfd_mm.testing.model_families import MODEL_FAMILIES

KD = dict(type='KLDivergence', tau=1.0, reduction='mean', loss_weight=8)


def _build(cfg):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


def _algorithm(distiller, teacher=None, seed=0):
    torch.manual_seed(seed)
    return _build(dict(
        _scope_='mmrazor',
        type='FrozenTeacherDistill',
        random_teacher=True,
        architecture=deeplabv3_segmentor('r18'),
        teacher=teacher or deeplabv3_segmentor('r18'),
        distiller=distiller)).train()


def _losses(algo, seed=1):
    torch.manual_seed(seed)
    inputs, samples = random_batch((64, 64))
    return algo.loss(inputs, samples)


def test_attnfd_plus_kd_is_the_sum_of_its_parts():
    """A SegFormer teacher (logits at 1/4) and an R18 student (1/8): each
    term equals the one of the AttnFD-only and the logits-only distiller on
    the same weights and batch."""
    teacher = stock_segmentor('mmseg::' + MODEL_FAMILIES['segformer'])
    both = _algorithm(dict(type='AttnFDDistiller', logits_loss=KD),
                      teacher)
    attnfd = _algorithm(dict(type='AttnFDDistiller'), teacher)
    kd = _algorithm(dict(type='LogitsDistiller', loss=KD), teacher)
    for other in (attnfd, kd):
        other.load_state_dict(both.state_dict(), strict=False)
    attnfd.distiller.connectors.load_state_dict(
        both.distiller.connectors.state_dict())
    d = both.distiller
    assert d.resolved_logits['student']['source'] == 'decode_head.conv_seg'
    assert set(d.student_recorders.recorders) == {'B', 'E', 'logits'}
    assert set(d.distill_losses) == {
        'loss_attnfd_B', 'loss_attnfd_E', 'loss_kd'}

    logits = {}
    for side, model in (('S', both.student), ('T', both.teacher)):
        model.decode_head.conv_seg.register_forward_hook(
            lambda m, i, o, side=side: logits.__setitem__(side, o.detach()))
    got = _losses(both)
    # the KD term by hand: the student's logits resized bilinearly to the
    # teacher's 1/4 size, KL(p_T || p_S) per pixel, mean over N*C*H*W, x 8
    S, T = logits['S'], logits['T']
    assert S.shape[-2:] == (8, 8) and T.shape[-2:] == (16, 16)
    S = torch.nn.functional.interpolate(S, size=(16, 16), mode='bilinear',
                                        align_corners=False)
    kl = T.softmax(dim=1) * (T.log_softmax(dim=1) - S.log_softmax(dim=1))
    torch.testing.assert_close(got['distill.loss_kd'].detach(),
                               8 * kl.mean())
    want = {**_losses(attnfd), **_losses(kd)}
    names = ['distill.loss_attnfd_B', 'distill.loss_attnfd_E',
             'distill.loss_kd']
    for name in names:
        assert torch.isfinite(got[name]) and got[name] > 0
        torch.testing.assert_close(got[name], want[name])
    sum(got[name] for name in names).backward()
    assert all(p.grad is not None for p in d.connectors.parameters())
    assert both.student.decode_head.conv_seg.weight.grad is not None
    assert all(p.grad is None for p in both.teacher.parameters())


def test_given_layers_and_logits_build_eagerly():
    d = _build(dict(
        _scope_='mmrazor', type='AttnFDDistiller',
        student_layers='deeplabv3_r18', teacher_layers='deeplabv3_r101',
        logits_loss=KD, logits_loss_name='loss_logits',
        student_logits=dict(source='decode_head.conv_seg', channels=11),
        teacher_logits=dict(source='decode_head.conv_seg', channels=11)))
    assert set(d.distill_losses) == {
        'loss_attnfd_B', 'loss_attnfd_E', 'loss_logits'}
    assert d.loss_forward_mappings['loss_logits']['preds_T'] == dict(
        recorder='logits', from_student=False, record_idx=0)


def test_given_layers_with_auto_logits_find_only_the_logits():
    """Given feature layers are kept (not what 'auto' would find); only the
    logits are found."""
    layer3 = dict(B=dict(source='backbone.layer3', channels=256),
                  E=dict(source='decode_head.bottleneck', channels=128))
    algo = _algorithm(dict(type='AttnFDDistiller', student_layers=layer3,
                           teacher_layers='deeplabv3_r18', logits_loss=KD))
    d = algo.distiller
    assert d.resolved['student']['B']['source'] == 'backbone.layer3'
    assert d.connectors['B_s'].in_channels == 256
    assert d.resolved_logits['teacher']['channels'] == \
        algo.teacher.decode_head.conv_seg.out_channels
    assert torch.isfinite(_losses(algo)['distill.loss_kd'])


def test_without_logits_loss_nothing_changes():
    d = _build(dict(_scope_='mmrazor', type='AttnFDDistiller',
                    student_layers='deeplabv3_r18',
                    teacher_layers='deeplabv3_r101'))
    assert set(d.student_recorders.recorders) == {'B', 'E'}
    assert set(d.distill_losses) == {'loss_attnfd_B', 'loss_attnfd_E'}


@pytest.mark.parametrize('kwargs, match', [
    (dict(logits_loss=KD, logits_loss_name='kd'), "must contain 'loss'"),
    (dict(logits_loss=KD, logits_loss_name='loss_attnfd_B'),
     "not start with 'loss_attnfd_'"),
    (dict(layers=['B', 'logits']), 'not a feature layer'),
    (dict(teacher_logits=dict(source='decode_head.conv_seg', channels=3)),
     'logits_loss is not'),
])
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _build(dict(_scope_='mmrazor', type='AttnFDDistiller',
                    **copy.deepcopy(kwargs)))


def test_a_side_without_logits_is_named():
    with pytest.raises(ValueError, match="no student logits layer"):
        _build(dict(_scope_='mmrazor', type='AttnFDDistiller',
                    logits_loss=KD, student_logits=None))


def test_methods_are_settings_of_one_distiller():
    """KD and AttnFD (+ KD) build one class; a logits-only distiller has no
    feature terms, and one with neither term is named."""
    logits = dict(source='decode_head.conv_seg', channels=11)
    kd = _build(dict(_scope_='mmrazor', type='LogitsDistiller', loss=KD,
                     student_logits=logits, teacher_logits=logits))
    both = _build(dict(_scope_='mmrazor', type='AttnFDDistiller',
                       student_layers='deeplabv3_r18',
                       teacher_layers='deeplabv3_r101', logits_loss=KD,
                       student_logits=logits, teacher_logits=logits))
    assert type(kd) is type(both) and type(kd).__name__ == 'SegDistiller'
    assert set(kd.distill_losses) == {'loss_kd'} and not kd.connectors
    assert set(kd.student_recorders.recorders) == {'logits'}
    assert kd.loss_forward_mappings['loss_kd'] == \
        both.loss_forward_mappings['loss_kd']
    assert not list(kd.state_dict())
    with pytest.raises(ValueError, match='empty only with a logits_loss'):
        _build(dict(_scope_='mmrazor', type='SegDistiller', layers=[]))
