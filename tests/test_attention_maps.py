# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The paper's Figure 1 API: heat maps of every distilled layer, drawn as
a grid (the in-process part of tools/visualize_attention.py)."""
import struct

import numpy as np
import torch
from mmengine.registry import MODELS, DefaultScope

from attnfd_mm.apis import MAP_COLUMNS, collect_attention_maps, \
    draw_attention_grid
from attnfd_mm.testing import tiny_distill_model


def _model():
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(tiny_distill_model('r18', 'r18'))
    return model.eval()


def test_maps_per_layer_before_and_after_the_connectors():
    model = _model()
    maps = collect_attention_maps(model, torch.randn(2, 3, 64, 64))
    assert sorted(maps) == ['loss_attnfd_B', 'loss_attnfd_E']
    for layer in maps.values():
        assert set(layer) == set(MAP_COLUMNS)
        assert all(v.shape == (2, 8, 8) for v in layer.values())
        # both sides' CBAM gates refine the recorded maps
        for side in ('student', 'teacher'):
            assert not torch.equal(layer[f'{side} raw'],
                                   layer[f'{side} refined'])


def test_grid_has_a_row_per_layer(tmp_path):
    image = np.random.default_rng(0).integers(
        0, 255, (64, 64, 3), dtype=np.uint8)
    out = str(tmp_path / 'grid.png')
    assert draw_attention_grid(_model(), image, out, title='t') == 2
    with open(out, 'rb') as f:
        width, height = struct.unpack('>II', f.read(24)[16:24])
    assert width > 2 * height  # five columns, two rows
