# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Helpers of attnfd_mm.utils and attnfd_mm.atomic_files."""
import os

import pytest
from mmengine.config import ConfigDict

from attnfd_mm.atomic_files import atomic_file
from attnfd_mm.utils import without_init


def test_without_init_drops_only_the_pretrained_weights():
    model = ConfigDict(
        type='EncoderDecoder', pretrained='open-mmlab://resnet18_v1c',
        backbone=dict(type='ResNetV1c', depth=18, pretrained='r18.pth',
                      init_cfg=dict(type='Pretrained', checkpoint='x.pth')),
        decode_head=dict(type='ASPPHead', init_cfg=dict(type='Normal')))
    plain = without_init(model)
    assert plain == dict(
        type='EncoderDecoder', pretrained=None,
        backbone=dict(type='ResNetV1c', depth=18, pretrained=None),
        decode_head=dict(type='ASPPHead', init_cfg=dict(type='Normal')))
    # a copy: the config it came from is left as it was
    assert model.pretrained == 'open-mmlab://resnet18_v1c'
    assert model.backbone.init_cfg == dict(type='Pretrained',
                                           checkpoint='x.pth')
    # keys that are not there are not added; a built model passes through
    assert without_init(dict(type='EncoderDecoder')) == dict(
        type='EncoderDecoder')
    assert without_init(plain.backbone.depth) == 18


def test_atomic_file_replaces_whole_or_leaves_the_old_file(tmp_path):
    path = tmp_path / 'sub' / 'metrics.json'
    with atomic_file(str(path)) as tmp:
        with open(tmp, 'w') as f:
            f.write('new')
        assert not path.exists()  # nothing at the path until the block ends
    assert path.read_text() == 'new'
    with pytest.raises(RuntimeError, match='killed'):
        with atomic_file(str(path)) as tmp:
            with open(tmp, 'w') as f:
                f.write('half')
            raise RuntimeError('killed')
    assert path.read_text() == 'new'
    assert os.listdir(path.parent) == ['metrics.json']  # no temp file left
