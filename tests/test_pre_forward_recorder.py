# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Layer B: the pre-ReLU output of the last residual block."""
import pytest
import torch
from mmengine.registry import DefaultScope
from mmrazor.models.task_modules import RecorderManager
from mmseg.models.backbones import ResNet


@pytest.fixture(autouse=True)
def mmrazor_scope():
    """Recorders are built in MMRazor's scope, as distillers do."""
    with DefaultScope.overwrite_default_scope('mmrazor'):
        yield


def _resnet18():
    torch.manual_seed(0)
    # PyTorch's default init: mmseg's zero_init_residual would make the
    # residual branch zero and the block output non-negative.
    net = ResNet(depth=18, num_stages=4, out_indices=(3, ))
    net.eval()  # mmseg's ResNet.train() returns None: no chaining
    return net


def _pre_relu_of_last_block(net, x):
    """Hand-computed: out = bn2(conv2(relu(bn1(conv1(h))))) + h."""
    with torch.no_grad():
        h = net.maxpool(net.relu(net.norm1(net.conv1(x))))
        for name in ('layer1', 'layer2', 'layer3'):
            h = getattr(net, name)(h)
        h = net.layer4[0](h)
        block = net.layer4[1]
        out = block.relu(block.norm1(block.conv1(h)))
        out = block.norm2(block.conv2(out))
        return out + h


def test_pre_forward_inputs_records_pre_relu_block_output():
    net = _resnet18()
    manager = RecorderManager(
        dict(
            B=dict(type='PreForwardInputs', source='layer4.1.relu'),
            post=dict(type='ModuleInputs', source='layer4.1.relu')))
    manager.initialize(net)
    x = torch.randn(2, 3, 64, 64)
    with manager, torch.no_grad():
        (post_relu, ) = net(x)
    recorder = manager.get_recorder('B')
    recorded = recorder.get_record_data(record_idx=1, data_idx=0)
    expected = _pre_relu_of_last_block(net, x)
    torch.testing.assert_close(recorded, expected)
    assert (recorded < 0).any(), 'pre-ReLU map must keep negative values'
    torch.testing.assert_close(torch.relu(recorded), post_relu)
    # MMRazor's ModuleInputs reads after the in-place ReLU ran: post-ReLU.
    stock = manager.get_recorder('post').get_record_data(1, 0)
    assert not (stock < 0).any()


def test_recorded_copy_passes_gradients():
    net = _resnet18()
    net.train()
    manager = RecorderManager(
        dict(B=dict(type='PreForwardInputs', source='layer4.1.relu')))
    manager.initialize(net)
    with manager:
        net(torch.randn(2, 3, 32, 32))
    manager.get_recorder('B').get_record_data(1, 0).sum().backward()
    assert net.layer4[1].conv2.weight.grad.abs().sum() > 0


def test_unknown_source_is_named():
    manager = RecorderManager(
        dict(B=dict(type='PreForwardInputs', source='layer9.relu')))
    with pytest.raises(KeyError, match='layer9.relu'):
        manager.initialize(_resnet18())


def test_copy_calls_copies_only_the_read_call():
    """``copy_calls=[1]``: the block output is recorded, the relu's first
    input is a placeholder (no copy kept), reading it is a named error."""
    net = _resnet18()
    manager = RecorderManager(
        dict(B=dict(type='PreForwardInputs', source='layer4.1.relu',
                    copy_calls=[1])))
    manager.initialize(net)
    x = torch.randn(2, 3, 64, 64)
    with manager, torch.no_grad():
        net(x)
    recorder = manager.get_recorder('B')
    assert len(recorder.data_buffer) == 2
    assert recorder.data_buffer[0] is None
    torch.testing.assert_close(
        recorder.get_record_data(record_idx=1, data_idx=0),
        _pre_relu_of_last_block(net, x))
    with pytest.raises(ValueError,
                       match=r'call 0 was not recorded.*add 0 to copy_calls'):
        recorder.get_record_data(record_idx=0, data_idx=0)


@pytest.mark.parametrize('copy_calls', [1, 'B', [-1], [0.5]])
def test_bad_copy_calls(copy_calls):
    with pytest.raises(ValueError, match='copy_calls must be a list'):
        RecorderManager(
            dict(B=dict(type='PreForwardInputs', source='layer4.1.relu',
                        copy_calls=copy_calls)))
