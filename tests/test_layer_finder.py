# Copyright (c) attnfd-mm contributors. All rights reserved.
"""'auto' layers: find_layers/find_logits on built models, the presets they
must reproduce, cross-architecture pairs and the named errors."""
import copy

import pytest
import torch
from mmengine.registry import MODELS, DefaultScope
from torch import nn

from attnfd_mm.models.distillers import (ATTNFD_LAYER_PRESETS,
                                         LayerNotFoundError, find_layers,
                                         find_logits, resolve_layers)
from attnfd_mm.models.recorders import OutputElementRecorder
from attnfd_mm.testing import (DEEPLABV3_CONFIGS, deeplabv3_segmentor,
                               random_batch, stock_segmentor)
from attnfd_mm.testing.model_families import MODEL_FAMILIES, step_problems

#: the stock model of each preset
PRESET_MODELS = dict(
    deeplabv3_r18=DEEPLABV3_CONFIGS['r18'],
    deeplabv3_r50=DEEPLABV3_CONFIGS['r50'],
    deeplabv3_r101=DEEPLABV3_CONFIGS['r101'],
    deeplabv3_mbv2='mmseg::mobilenet_v2/mobilenet-v2-d8_deeplabv3_4xb2-80k_'
    'cityscapes-512x1024.py',
    pspnet_r18='mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    pspnet_r101='mmseg::pspnet/pspnet_r101-d8_4xb2-40k_cityscapes-'
    '512x1024.py',
    deeplabv3plus_r18='mmseg::deeplabv3plus/deeplabv3plus_r18-d8_4xb2-80k_'
    'cityscapes-512x1024.py',
    deeplabv3plus_r101='mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb2-'
    '40k_cityscapes-512x1024.py',
    deeplabv3plus_mbv2='mmseg::mobilenet_v2/mobilenet-v2-d8_deeplabv3plus_'
    '4xb2-80k_cityscapes-512x1024.py')


def _build(cfg):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


def _segmentor(preset_or_cfg: str) -> nn.Module:
    if preset_or_cfg == 'deeplabv3_r34':
        return _build(deeplabv3_segmentor('r34'))
    return _build(stock_segmentor(PRESET_MODELS.get(preset_or_cfg,
                                                    preset_or_cfg)))


def _family(name: str) -> nn.Module:
    return _build(stock_segmentor('mmseg::' + MODEL_FAMILIES[name]))


@pytest.mark.parametrize('preset', sorted(ATTNFD_LAYER_PRESETS))
def test_auto_finds_exactly_the_preset(preset):
    model = _segmentor(preset)
    assert find_layers(model) == resolve_layers(preset, 'student')


def test_probe_leaves_the_model_as_it_was():
    model = _segmentor('deeplabv3_r18').train()
    model.decode_head.eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    find_layers(model)
    assert model.training and not model.decode_head.training
    assert model.backbone.training
    assert torch.equal(torch.get_rng_state(), rng)
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k
    # no hook is left behind
    assert all(not m._forward_hooks for m in model.modules())


def test_cascade_head_e_and_logits_are_the_last_stage():
    """OCRNet: E and the logits come from the last stage's conv_seg."""
    model = _family('ocrnet')
    layers = find_layers(model)
    assert layers['E']['source'].startswith('decode_head.1.')
    assert layers['E']['channels'] == model.decode_head[1].channels
    assert find_logits(model)['source'] == 'decode_head.1.conv_seg'
    # B: HRNet's lowest-resolution branch, before its fuse ReLU
    assert layers['B']['recorder'] == 'PreForwardInputs'
    assert layers['B']['source'].startswith('backbone.stage4.')


def test_dropout_called_several_times_records_the_classifier_call():
    """DANet's head runs dropout three times; E is the feature that fed
    conv_seg, whichever module or call produced it."""
    model = _family('danet').eval()
    layer = find_layers(model)['E']
    seen = {}

    def keep(name):
        return lambda m, i, o: seen.setdefault(name, []).append(
            (i[0] if layer['recorder'] == 'PreForwardInputs' else o))

    src = dict(model.named_modules())[layer['source']]
    fed = []
    handles = [
        src.register_forward_hook(keep('src')),
        model.decode_head.conv_seg.register_forward_pre_hook(
            lambda m, i: fed.append(i[0]))
    ]
    with torch.no_grad():
        model(torch.randn(1, 3, 64, 64), None, mode='tensor')
    for h in handles:
        h.remove()
    assert torch.equal(seen['src'][layer['record_idx']], fed[-1])


def test_backbone_output_changing_with_the_mode():
    """DDRNet returns a tensor in eval mode and a tuple in train mode; B is
    recorded from the backbone output with a path per mode."""
    model = _family('ddrnet')
    layer = find_layers(model)['B']
    assert layer['recorder'] == 'OutputElement'
    assert layer['source'] == 'backbone'
    recorder = OutputElementRecorder(
        'backbone', path=layer['path'],
        train_path=layer.get('train_path'))
    recorder.initialize(model)
    x = torch.randn(2, 3, 64, 64)
    with recorder, torch.no_grad():
        model.eval()
        model(x, None, mode='tensor')
        model.train()
        model.backbone(x)
    eval_b, train_b = recorder.data_buffer
    assert isinstance(eval_b, torch.Tensor)
    assert eval_b.shape == train_b.shape
    assert eval_b.shape[1] == layer['channels']


def test_context_head_has_d_others_do_not():
    layers = find_layers(_family('upernet'))
    assert layers['E']['source'] == 'decode_head.bottleneck'
    assert layers['D']['source'] == 'decode_head.fpn_bottleneck'
    assert set(find_layers(_family('fcn'))) == {'B', 'E'}


def test_asking_for_d_where_there_is_none_is_named():
    cfg = dict(
        _scope_='mmrazor',
        type='FrozenTeacherDistill',
        random_teacher=True,
        architecture=deeplabv3_segmentor('r18'),
        teacher=deeplabv3_segmentor('r18'),
        distiller=dict(type='AttnFDDistiller', layers=['B', 'D']))
    with pytest.raises(KeyError, match=r"Layers \['D'\] are not in "
                       r"student_layers; this model has \['B', 'E'\]"):
        _build(cfg)


def test_head_without_classifier_is_named():
    model = _segmentor('deeplabv3_r18')
    head = model.decode_head
    head.classifier = head.conv_seg  # runs, but is not named conv_seg
    del head.conv_seg
    object.__setattr__(head, 'cls_seg', head.classifier)
    with pytest.raises(LayerNotFoundError) as err:
        find_layers(model)
    msg = str(err.value)
    assert 'Layer E not found' in msg and 'no conv_seg' in msg
    assert "student_layers=dict(B={'source': 'backbone.layer4.1.relu'" in msg
    assert "E=dict(source='decode_head.<module>'" in msg


def test_not_a_segmentor_is_named():
    with pytest.raises(LayerNotFoundError, match='has no backbone'):
        find_layers(nn.Conv2d(3, 3, 1))


def test_cross_architecture_pair_aligns_and_resizes():
    """SegFormer MiT-B0 teacher (B at 1/32, E at 1/4) and a DeepLabV3-R18
    student (B and E at 1/8): channels aligned by the student connector,
    student maps resized (bilinear) to the teacher's size."""
    cfg = dict(
        _scope_='mmrazor',
        type='FrozenTeacherDistill',
        random_teacher=True,
        architecture=deeplabv3_segmentor('r18'),
        teacher=stock_segmentor('mmseg::' + MODEL_FAMILIES['segformer']),
        distiller=dict(type='AttnFDDistiller', layers=['B', 'E']))
    algo = _build(cfg).train()
    d = algo.distiller
    assert d.connectors['B_s'].in_channels == 512
    assert d.connectors['B_s'].align[0].out_channels == 256
    assert d.connectors['E_s'].align[0].out_channels == \
        algo.teacher.decode_head.channels
    sizes = {}

    def keep_sizes(name):

        def hook(module, args, kwargs, out) -> None:
            sizes[name] = (kwargs['s_feature'].shape,
                           kwargs['t_feature'].shape)

        return hook

    for name in ('loss_attnfd_B', 'loss_attnfd_E'):
        d.distill_losses[name].register_forward_hook(
            keep_sizes(name), with_kwargs=True)
    inputs, samples = random_batch((64, 64))
    state = copy.deepcopy(algo.state_dict())
    # the plain path (the loss module sees the maps) ...
    d.memory_efficient = False
    torch.manual_seed(0)
    plain = algo.loss(inputs, samples)
    assert sizes['loss_attnfd_B'][0][-2:] == (8, 8)  # student 1/8
    assert sizes['loss_attnfd_B'][1][-2:] == (2, 2)  # teacher 1/32
    assert sizes['loss_attnfd_E'][1][-2:] == (16, 16)  # teacher 1/4
    # ... and the default chunked path, which resizes inside: same values
    algo.load_state_dict(state)
    d.memory_efficient = True
    torch.manual_seed(0)
    losses = algo.loss(inputs, samples)
    for name in ('distill.loss_attnfd_B', 'distill.loss_attnfd_E'):
        assert abs(losses[name].item() - plain[name].item()) <= 1e-6, name
    total = losses['distill.loss_attnfd_B'] + losses['distill.loss_attnfd_E']
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is not None for p in d.connectors.parameters())


def test_logits_distiller_any_pair_resizes_student_logits():
    cfg = dict(
        _scope_='mmrazor',
        type='FrozenTeacherDistill',
        random_teacher=True,
        architecture=deeplabv3_segmentor('r18'),
        teacher=stock_segmentor('mmseg::' + MODEL_FAMILIES['segformer']),
        distiller=dict(
            type='LogitsDistiller', loss_name='loss_cwd',
            loss=dict(type='ChannelWiseDivergence', tau=1, loss_weight=5)))
    algo = _build(cfg).train()
    assert algo.distiller.resolved_logits['student']['source'] == \
        'decode_head.conv_seg'
    assert set(algo.distiller.student_recorders.recorders) == {'logits'}
    logits = {}
    for side, model in (('S', algo.student), ('T', algo.teacher)):
        model.decode_head.conv_seg.register_forward_hook(
            lambda m, i, o, side=side: logits.__setitem__(side, o.detach()))
    inputs, samples = random_batch((64, 64))
    losses = algo.loss(inputs, samples)
    # CWD by hand: the student's 8x8 logits resized bilinearly to the
    # teacher's 16x16, a spatial softmax per channel, KL summed / (N * C)
    S, T = logits['S'], logits['T']
    assert S.shape[-2:] == (8, 8) and T.shape[-2:] == (16, 16)
    S = torch.nn.functional.interpolate(S, size=(16, 16), mode='bilinear',
                                        align_corners=False)
    n, c = T.shape[:2]
    p_t = T.reshape(n * c, -1).softmax(dim=1)
    kl = p_t * (T.reshape(n * c, -1).log_softmax(dim=1) -
                S.reshape(n * c, -1).log_softmax(dim=1))
    expected = 5 * kl.sum() / (n * c)
    torch.testing.assert_close(losses['distill.loss_cwd'].detach(), expected)
    losses['distill.loss_cwd'].backward()
    assert algo.student.decode_head.conv_seg.weight.grad is not None
    assert all(p.grad is None for p in algo.teacher.parameters())


def test_logits_distiller_bad_loss_name():
    with pytest.raises(ValueError, match="must contain 'loss'"):
        _build(dict(_scope_='mmrazor', type='LogitsDistiller',
                    loss=dict(type='KLDivergence'), loss_name='kd'))


def test_step_problems_names_each_failure():
    good = dict(losses={'distill.loss_attnfd_B': 0.5,
                        'distill.loss_attnfd_E': 0.25},
                connector_grads=True, student_grads=True,
                teacher_grads=False)
    assert step_problems(good) == []
    bad = dict(losses={'distill.loss_attnfd_B': float('nan')},
               connector_grads=False, student_grads=False,
               teacher_grads=True)
    assert step_problems(bad) == [
        "losses ['distill.loss_attnfd_B']", 'non-finite loss',
        'connector without gradient', 'no student gradient',
        'teacher gradient'
    ]
