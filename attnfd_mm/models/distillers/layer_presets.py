# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFD's layers B, E and D in stock mmseg models (``docs/design.md``,
Layers) and the checked layer dicts of a preset or a dict."""
import copy
from typing import Dict, Union

_RESNET_BASIC_B = dict(
    source='backbone.layer4.1.relu', recorder='PreForwardInputs',
    record_idx=1, channels=512)
# ResNet-34 (BasicBlock, 3 blocks in its last stage)
_RESNET34_B = dict(_RESNET_BASIC_B, source='backbone.layer4.2.relu')
_RESNET_BOTTLENECK_B = dict(
    source='backbone.layer4.2.relu', recorder='PreForwardInputs',
    record_idx=2, channels=2048)
_MBV2_B = dict(source='backbone.layer7', channels=320)


def _e(channels: int) -> Dict:
    return dict(source='decode_head.bottleneck', channels=channels)


def _d(channels: int) -> Dict:
    return dict(source='decode_head.sep_bottleneck', channels=channels)


#: Layer dicts of stock mmseg models, by ``<architecture>_<backbone>``.
ATTNFD_LAYER_PRESETS: Dict[str, Dict[str, Dict]] = {
    'deeplabv3_r18': dict(B=_RESNET_BASIC_B, E=_e(128)),
    # R34 with the R18 head (``deeplabv3_segmentor('r34')``)
    'deeplabv3_r34': dict(B=_RESNET34_B, E=_e(128)),
    'deeplabv3_r50': dict(B=_RESNET_BOTTLENECK_B, E=_e(512)),
    'deeplabv3_r101': dict(B=_RESNET_BOTTLENECK_B, E=_e(512)),
    'deeplabv3_mbv2': dict(B=_MBV2_B, E=_e(512)),
    'pspnet_r18': dict(B=_RESNET_BASIC_B, E=_e(128)),
    'pspnet_r101': dict(B=_RESNET_BOTTLENECK_B, E=_e(512)),
    'deeplabv3plus_r18': dict(B=_RESNET_BASIC_B, E=_e(128), D=_d(128)),
    'deeplabv3plus_r101': dict(
        B=_RESNET_BOTTLENECK_B, E=_e(512), D=_d(512)),
    'deeplabv3plus_mbv2': dict(B=_MBV2_B, E=_e(512), D=_d(512)),
}


#: The keys of a layer dict (``path``/``train_path``: ``OutputElement``).
LAYER_KEYS = frozenset(
    {'source', 'channels', 'recorder', 'record_idx', 'path', 'train_path'})


def resolve_layers(layers: Union[str, Dict[str, Dict]],
                   side: str) -> Dict[str, Dict]:
    """The layer dicts of a preset or of a dict of layer dicts, checked,
    copied and completed (``recorder='ModuleOutputs'``, ``record_idx=0``);
    ``side`` names the side in messages."""
    if isinstance(layers, str):
        if layers not in ATTNFD_LAYER_PRESETS:
            raise KeyError(
                f'Unknown {side}_layers preset {layers!r}. Presets: '
                f"{sorted(ATTNFD_LAYER_PRESETS)}; 'auto' to find the layers "
                'in the built model; or pass a dict such as '
                "dict(B=dict(source='backbone.layer4', channels=512)).")
        layers = ATTNFD_LAYER_PRESETS[layers]
    for name, layer in layers.items():
        missing = {'source', 'channels'} - set(layer)
        unknown = set(layer) - LAYER_KEYS
        if missing or unknown:
            raise ValueError(
                f'{side}_layers[{name!r}] = {dict(layer)} must have the keys '
                "'source' and 'channels' (optional: "
                f'{sorted(LAYER_KEYS - {"source", "channels"})}); missing '
                f'{sorted(missing)}, unknown {sorted(unknown)}.')
    return {name: {'recorder': 'ModuleOutputs', 'record_idx': 0,
                   **copy.deepcopy(dict(layer))}
            for name, layer in layers.items()}
