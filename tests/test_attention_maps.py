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


def _capture(model, side: str, layer: dict, store: list) -> None:
    """Keep what ``layer``'s source module of ``side`` sees (its input for
    an inputs recorder, else its output), every call."""
    module = getattr(model, side).get_submodule(layer['source'])
    if layer['recorder'] in ('PreForwardInputs', 'ModuleInputs'):
        # before the call: an in-place ReLU overwrites its input
        module.register_forward_pre_hook(
            lambda m, i: store.append(i[0].detach().clone()))
    else:
        module.register_forward_hook(
            lambda m, i, o: store.append(o.detach()))


def test_maps_are_the_recorded_features_before_and_after_connectors():
    """Each map is the channel mean of what the layer's module computed,
    and of the connector of that side applied to it, computed here from
    forward hooks."""
    model = _model()
    seen = {}
    for side in ('student', 'teacher'):
        for name, layer in model.distiller.resolved[side].items():
            seen[side, name] = []
            _capture(model, side, layer, seen[side, name])
    maps = collect_attention_maps(model, torch.randn(2, 3, 64, 64))
    assert sorted(maps) == ['loss_attnfd_B', 'loss_attnfd_E']
    for name in ('B', 'E'):
        layer = maps[f'loss_attnfd_{name}']
        assert set(layer) == set(MAP_COLUMNS)
        for side, suffix in (('student', 's'), ('teacher', 't')):
            index = model.distiller.resolved[side][name]['record_idx']
            raw = seen[side, name][index]
            refined = model.distiller.connectors[f'{name}_{suffix}'](raw)
            torch.testing.assert_close(layer[f'{side} raw'], raw.mean(1))
            torch.testing.assert_close(layer[f'{side} refined'],
                                       refined.mean(1))
            assert layer[f'{side} raw'].shape == (2, 8, 8)
            # the CBAM gates change the map
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
