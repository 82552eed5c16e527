# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFDDistiller's expansion, CheckedDistiller's recorder errors and
FrozenTeacherDistill's teacher checks."""
import pytest
import torch
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import MODELS, DefaultScope

from attnfd_mm.models.distillers import ATTNFD_LAYER_PRESETS
from attnfd_mm.testing import (DEEPLABV3_CONFIGS, deeplabv3_segmentor,
                               random_batch, stock_segmentor,
                               tiny_distill_model)


def _build(cfg):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


def _distiller(**kwargs):
    return _build(dict(_scope_='mmrazor', type='AttnFDDistiller', **kwargs))


def test_expansion_r18_student_r101_teacher():
    d = _distiller(student_layers='deeplabv3_r18',
                   teacher_layers='deeplabv3_r101')
    assert set(d.connectors) == {'B_s', 'B_t', 'E_s', 'E_t'}
    # student side aligned to the teacher's channels; teacher side fixed
    assert d.connectors['B_s'].in_channels == 512
    assert d.connectors['B_s'].align is not None
    assert sum(p.numel() for p in d.connectors['B_t'].parameters()) == 0
    assert set(d.distill_losses) == {'loss_attnfd_B', 'loss_attnfd_E'}
    assert d.distill_losses['loss_attnfd_B'].loss_weight == 2.0
    assert d.distill_losses['loss_attnfd_B'].detach_teacher
    b = d.loss_forward_mappings['loss_attnfd_B']
    assert b['s_feature'] == dict(recorder='B', from_student=True,
                                  record_idx=1, data_idx=0, connector='B_s')
    assert b['t_feature']['record_idx'] == 2
    # only the call that is read is copied (layer B's pre-ReLU input)
    assert d.student_recorders.get_recorder('B').copy_calls == {1}
    assert d.teacher_recorders.get_recorder('B').copy_calls == {2}


def test_learnable_teacher_connector_undetaches_the_loss():
    d = _distiller(student_layers='deeplabv3plus_r18',
                   teacher_layers='deeplabv3plus_r101',
                   layers=['D'],
                   teacher_connector=dict(type='CBAMConnector',
                                          learnable=True))
    assert not d.distill_losses['loss_attnfd_D'].detach_teacher
    assert sum(p.numel() for p in d.connectors['D_t'].parameters()) > 0


@pytest.mark.parametrize('connector', ['ATConnector', 'SAConnector'])
def test_map_connectors_ignore_out_channels(connector):
    """Map connectors take the channel arguments every student connector
    gets; their maps have no channels to align."""
    d = _distiller(student_layers='deeplabv3_r18',
                   teacher_layers='deeplabv3_r101',
                   connector=dict(type=connector),
                   teacher_connector=dict(type=connector))
    assert d.connectors['B_s'].in_channels == 512
    assert d.connectors['B_t'].in_channels == 2048
    s_map = d.connectors['B_s'](torch.randn(2, 512, 16, 16))
    t_map = d.connectors['B_t'](torch.randn(2, 2048, 16, 16))
    assert s_map.shape == t_map.shape and s_map.shape[:2] == (2, 1)


def test_unknown_preset_and_layer_are_named():
    with pytest.raises(KeyError, match="Presets: .*'deeplabv3_r18'"):
        _distiller(student_layers='deeplabv3_r19',
                   teacher_layers='deeplabv3_r101')
    with pytest.raises(KeyError) as err:
        _distiller(student_layers='deeplabv3_r18',
                   teacher_layers='deeplabv3_r101', layers=['B', 'D'])
    assert "['D']" in str(err.value) and "['B', 'E']" in str(err.value)
    with pytest.raises(ValueError, match="missing \\['channels'\\]"):
        _distiller(student_layers=dict(B=dict(source='backbone.layer4')),
                   teacher_layers='deeplabv3_r101', layers=['B'])


def test_presets_match_the_built_models():
    """Every preset's sources exist in the stock model and carry the stated
    channels (checked by a forward pass through the recorders)."""
    cfgs = dict(
        deeplabv3_r18=DEEPLABV3_CONFIGS['r18'],
        deeplabv3_mbv2='mmseg::mobilenet_v2/mobilenet-v2-d8_deeplabv3_'
        '4xb2-80k_cityscapes-512x1024.py',
        pspnet_r18='mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-'
        '512x1024.py',
        deeplabv3plus_r18='mmseg::deeplabv3plus/deeplabv3plus_r18-d8_4xb2-'
        '80k_cityscapes-512x1024.py')
    models = {k: stock_segmentor(v) for k, v in cfgs.items()}
    models['deeplabv3_r34'] = deeplabv3_segmentor('r34')
    for preset, model_cfg in models.items():
        model = _build(model_cfg).eval()
        layers = list(ATTNFD_LAYER_PRESETS[preset])
        d = _distiller(student_layers=preset, teacher_layers=preset,
                       layers=layers)
        d.prepare_from_student(model)
        with d.student_recorders, torch.no_grad():
            model(torch.randn(1, 3, 64, 64), None, mode='tensor')
        for name in layers:
            mapping = d.loss_forward_mappings[f'loss_attnfd_{name}']
            feat = d.get_record(**dict(mapping['s_feature'], connector=None))
            assert feat.shape[1] == ATTNFD_LAYER_PRESETS[preset][name][
                'channels'], (preset, name)


def test_deeplabv3_segmentor_backbones():
    assert deeplabv3_segmentor('r34')['backbone']['depth'] == 34
    assert deeplabv3_segmentor('r50')['backbone']['depth'] == 50
    with pytest.raises(KeyError,
                       match=r"valid ones: \['r101', 'r18', 'r34', 'r50'\]"):
        deeplabv3_segmentor('r19')


def test_bad_recorder_source_lists_closest_names():
    cfg = tiny_distill_model('r18', 'r18')
    cfg['distiller']['student_layers'] = dict(
        ATTNFD_LAYER_PRESETS['deeplabv3_r18'],
        B=dict(source='backbone.layer4.1.rleu', channels=512))
    with pytest.raises(KeyError) as err:
        _build(cfg)
    msg = str(err.value)
    assert "student_recorders['B']" in msg
    assert "'backbone.layer4.1.rleu' is not a module" in msg
    assert "'backbone.layer4.1.relu'" in msg  # the closest valid name


def test_num_classes_mismatch():
    cfg = tiny_distill_model('r18', 'r18')
    cfg['teacher'] = stock_segmentor(DEEPLABV3_CONFIGS['r18'], num_classes=7)
    with pytest.raises(ValueError,
                       match='teacher predicts 7 classes but the student 4'):
        _build(cfg)


def test_teacher_checkpoint_errors(tmp_path):
    missing = str(tmp_path / 'missing.pth')
    with pytest.raises(FileNotFoundError, match='Train the teacher first'):
        _build(tiny_distill_model('r18', 'r18', teacher_ckpt=missing))

    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'not a checkpoint')
    with pytest.raises(RuntimeError, match='Cannot read the teacher'):
        _build(tiny_distill_model('r18', 'r18', teacher_ckpt=str(garbage)))

    # an R18 checkpoint for an R50 teacher: counts and examples
    r18 = _build(stock_segmentor(DEEPLABV3_CONFIGS['r18']))
    wrong = str(tmp_path / 'r18.pth')
    torch.save(dict(state_dict=r18.state_dict()), wrong)
    with pytest.raises(ValueError) as err:
        _build(tiny_distill_model('r18', 'r50', teacher_ckpt=wrong))
    msg = str(err.value)
    assert 'does not fit the teacher' in msg
    assert 'missing keys' in msg and 'of another shape' in msg
    assert 'backbone.layer1.0.conv3.weight' in msg

    # the same keys, one of another shape (a head for 7 classes)
    teacher = _build(stock_segmentor(DEEPLABV3_CONFIGS['r18']))
    state = teacher.state_dict()
    state['decode_head.conv_seg.weight'] = torch.zeros(7, 128, 1, 1)
    reshaped = str(tmp_path / 'reshaped.pth')
    torch.save(dict(state_dict=state), reshaped)
    with pytest.raises(ValueError, match=r"0 missing keys \[\], 0 "
                       r"unexpected keys \[\], 1 keys of another shape "
                       r"\['decode_head\.conv_seg\.weight: \(7, 128, 1, 1\) "
                       r"vs \(4, 128, 1, 1\)'\]"):
        _build(tiny_distill_model('r18', 'r18', teacher_ckpt=reshaped))

    # the right checkpoint loads, bit for bit
    good = str(tmp_path / 'good.pth')
    teacher = _build(stock_segmentor(DEEPLABV3_CONFIGS['r50']))
    torch.save(dict(state_dict=teacher.state_dict()), good)
    algo = _build(tiny_distill_model('r18', 'r50', teacher_ckpt=good))
    for k, v in teacher.state_dict().items():
        assert torch.equal(algo.teacher.state_dict()[k], v), k


def test_frozen_teacher_without_weights_is_named():
    cfg = tiny_distill_model('r18', 'r18')
    cfg.pop('random_teacher')
    with pytest.raises(ValueError, match='teacher_ckpt is not set.*'
                       'model.random_teacher=True'):
        _build(cfg)
    # a stock teacher config with ImageNet weights: asked for a random
    # teacher, nothing is downloaded at init
    teacher = get_config(DEEPLABV3_CONFIGS['r18']).model
    assert teacher.pretrained == 'open-mmlab://resnet18_v1c'
    cfg['teacher'] = dict(cfg_path=DEEPLABV3_CONFIGS['r18'])
    cfg['architecture'] = stock_segmentor(DEEPLABV3_CONFIGS['r18'],
                                          num_classes=19)
    cfg['random_teacher'] = True
    algo = _build(cfg)
    algo.init_weights()  # offline: would fail on the URL
    assert 'Pretrained' not in str(algo.teacher.backbone.init_cfg)
    # a trainable teacher needs no checkpoint
    cfg = tiny_distill_model('r18', 'r18')
    cfg.pop('random_teacher')
    _build(dict(cfg, teacher_trainable=True))


def test_teacher_from_local_config_file(tmp_path):
    path = str(tmp_path / 'teacher.py')
    Config(dict(model=stock_segmentor(DEEPLABV3_CONFIGS['r50']),
                default_scope='mmseg')).dump(path)
    cfg = tiny_distill_model('r18', 'r50')
    cfg['teacher'] = dict(cfg_path=path)
    algo = _build(cfg)
    assert algo.teacher.backbone.depth == 50
    cfg['teacher'] = dict(cfg_path=str(tmp_path / 'nope.py'))
    with pytest.raises(FileNotFoundError, match='Teacher config not found'):
        _build(cfg)


def test_cheaper_teacher_paths_match_float32():
    """bf16 autocast and channels-last change the frozen teacher's forward,
    not the losses (beyond bf16 rounding); the records reach the connectors
    in float32."""
    inputs, samples = random_batch((32, 32))
    ref = _build(tiny_distill_model('r18', 'r18')).train()
    torch.manual_seed(1)  # the same dropout masks in every run
    ref_losses = ref.loss(inputs, samples)
    for kwargs, rel in ((dict(teacher_channels_last=True), 1e-4),
                        (dict(teacher_autocast='bfloat16'), 5e-2),
                        (dict(teacher_autocast='bfloat16',
                              teacher_channels_last=True), 5e-2)):
        cfg = tiny_distill_model('r18', 'r18')
        cfg.update(kwargs)
        algo = _build(cfg).train()
        algo.load_state_dict(ref.state_dict())
        if kwargs.get('teacher_channels_last'):
            assert algo.teacher.backbone.stem[0].weight.is_contiguous(
                memory_format=torch.channels_last)
        # what the teacher's first conv computes in: the dtype of its output
        # and the memory format of its input
        seen = []
        hook = algo.teacher.backbone.stem[0].register_forward_hook(
            lambda m, i, o: seen.append((o.dtype, i[0].is_contiguous(
                memory_format=torch.channels_last))))
        torch.manual_seed(1)
        losses = algo.loss(inputs, samples)
        hook.remove()
        assert seen == [(torch.bfloat16 if 'teacher_autocast' in kwargs else
                         torch.float32,
                         kwargs.get('teacher_channels_last', False))]
        for name in ('distill.loss_attnfd_B', 'distill.loss_attnfd_E'):
            assert losses[name].dtype == torch.float32
            assert float(losses[name]) == pytest.approx(
                float(ref_losses[name]), rel=rel), (kwargs, name)
        for layer in ('B', 'E'):
            buffer = algo.distiller.teacher_recorders.recorders[
                layer].data_buffer
            # calls the layer does not read are recorded as None
            tensors = [t for d in buffer if d is not None
                       for t in (d if isinstance(d, tuple) else (d, ))]
            assert tensors and all(t.dtype == torch.float32
                                   for t in tensors), (kwargs, layer)
        # the student's own loss does not depend on the teacher's path
        assert torch.equal(losses['student.decode.loss_ce'],
                           ref_losses['student.decode.loss_ce'])


def test_cheaper_teacher_paths_bad_input():
    cfg = tiny_distill_model('r18', 'r18')
    cfg['teacher_autocast'] = 'int8'
    with pytest.raises(ValueError, match="'bfloat16', 'float16'.*'int8'"):
        _build(cfg)
    cfg = tiny_distill_model('r18', 'r18')
    cfg.update(teacher_channels_last=True, teacher_trainable=True)
    with pytest.raises(ValueError, match='apply to a frozen teacher'):
        _build(cfg)


def test_channels_last_teacher_feeds_view_based_losses():
    """MMRazor's CWD reshapes the teacher logits with .view(): the records
    of a channels-last teacher reach it in the default layout."""
    def cwd_model(**kwargs):
        cfg = tiny_distill_model('r18', 'r18', **kwargs)
        logits = dict(type='ModuleOutputs', source='decode_head.conv_seg')
        cfg['distiller'] = dict(
            type='CheckedDistiller',
            student_recorders=dict(logits=logits),
            teacher_recorders=dict(logits=logits),
            distill_losses=dict(loss_cwd=dict(
                type='ChannelWiseDivergence', tau=1, loss_weight=5)),
            loss_forward_mappings=dict(loss_cwd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits'))))
        return _build(cfg).train()

    inputs, samples = random_batch((32, 32))
    ref = cwd_model()
    torch.manual_seed(1)
    expected = ref.loss(inputs, samples)['distill.loss_cwd']
    algo = cwd_model()
    algo.teacher_channels_last = True
    algo.teacher.to(memory_format=torch.channels_last)
    algo.load_state_dict(ref.state_dict())
    torch.manual_seed(1)
    got = algo.loss(inputs, samples)['distill.loss_cwd']
    assert float(got) == pytest.approx(float(expected), rel=1e-4)
    record = algo.distiller.teacher_recorders.recorders['logits'].data_buffer
    assert record[0].is_contiguous()
