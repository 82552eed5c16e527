# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFD's layers B, E, D and the logits of mmseg segmentors: presets, layer
dicts, and those found in a built segmentor (``docs/design.md``, Layers)."""
import contextlib
import copy
import functools
from typing import (Any, Dict, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import torch
from torch import Tensor, nn

#: Heads with a context module (its output is E) before a decoder (whose
#: classifier input is D): head class name -> context module attribute.
CONTEXT_MODULES: Dict[str, str] = {
    'DepthwiseSeparableASPPHead': 'bottleneck',
    'UPerHead': 'bottleneck',
}


def _layer(source: str, record_idx: int, channels: int,
           recorder: str = 'ModuleOutputs', **extra) -> Dict:
    """A complete layer dict (:func:`resolve_layers`)."""
    return dict(source=source, recorder=recorder, record_idx=record_idx,
                channels=channels, **extra)


_RESNET_BASIC_B = _layer('backbone.layer4.1.relu', 1, 512, 'PreForwardInputs')
_RESNET34_B = _layer('backbone.layer4.2.relu', 1, 512, 'PreForwardInputs')
_RESNET_BOTTLENECK_B = _layer('backbone.layer4.2.relu', 2, 2048,
                              'PreForwardInputs')
_MBV2_B = _layer('backbone.layer7', 0, 320)
# E and D of the DeepLabV3(+) and PSPNet heads, by channels
_e = functools.partial(_layer, 'decode_head.bottleneck', 0)
_d = functools.partial(_layer, 'decode_head.sep_bottleneck', 0)


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
    'deeplabv3plus_r101': dict(B=_RESNET_BOTTLENECK_B, E=_e(512), D=_d(512)),
    'deeplabv3plus_mbv2': dict(B=_MBV2_B, E=_e(512), D=_d(512)),
}


class LayerNotFoundError(KeyError):
    """A layer could not be found automatically in a model."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ''


#: The keys of a layer dict (``path``/``train_path``: ``OutputElement``).
LAYER_KEYS = frozenset(
    {'source', 'channels', 'recorder', 'record_idx', 'path', 'train_path'})


def resolve_layers(layers: Union[str, Dict[str, Dict]],
                   side: str) -> Dict[str, Dict]:
    """A preset's or a dict's layer dicts, checked, copied and completed
    (``recorder='ModuleOutputs'``, ``record_idx=0``); ``side`` for messages."""
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


def _is_pass_through(module: nn.Module) -> bool:
    """Modules that may return their input unchanged in eval mode."""
    return isinstance(module, nn.Identity) or 'Drop' in type(module).__name__


class ModelProbe:
    """One eval-mode forward of a segmentor with every module call logged.

    Args:
        model (nn.Module): A built ``EncoderDecoder`` or
            ``CascadeEncoderDecoder``.
        probe_size (Sequence[int], optional): Input ``(H, W)``. Defaults to
            64x64, then the data preprocessor's ``size``.
    """

    def __init__(self, model: nn.Module,
                 probe_size: Optional[Sequence[int]] = None) -> None:
        for attr in ('backbone', 'decode_head'):
            if not isinstance(getattr(model, attr, None), nn.Module):
                raise LayerNotFoundError(
                    f'{type(model).__name__} has no {attr}: AttnFD finds '
                    'layers automatically only in mmseg segmentors '
                    '(EncoderDecoder, CascadeEncoderDecoder). Pass the '
                    'layers as dicts, e.g. student_layers=dict(B=dict('
                    "source='backbone.layer4', channels=512)).")
        self.model = model
        self.modules = dict(model.named_modules())
        heads = model.decode_head
        cascade = isinstance(heads, nn.ModuleList)
        self.head_prefix = f'decode_head.{len(heads) - 1}' if cascade \
            else 'decode_head'
        self.head = self.modules[self.head_prefix]
        self.first_head = heads[0] if cascade else heads
        self.classifier = f'{self.head_prefix}.conv_seg'
        #: ``(output, first input)`` of each call of each module, by name
        self.calls: Dict[str, List[Tuple[Any, Any]]] = {}
        #: ``(name, call index)`` of every module call, in finishing order
        self.order: List[Tuple[str, int]] = []
        self.inputs = self._run(probe_size)

    def _log(self, name: str, module: nn.Module, inputs: Tuple,
             output: Any) -> None:
        calls = self.calls.setdefault(name, [])
        self.order.append((name, len(calls)))
        calls.append((output, inputs[0] if inputs else None))

    def _run(self, probe_size: Optional[Sequence[int]]) -> Tensor:
        """The input of the first probe size the model accepts, logged."""
        crop = getattr(getattr(self.model, 'data_preprocessor', None), 'size',
                       None)
        sizes = [tuple(probe_size or (64, 64))]
        if probe_size is None and crop is not None and tuple(crop) != sizes[0]:
            sizes.append(tuple(crop))
        device = next((p.device for p in self.model.parameters()),
                      torch.device('cpu'))
        handles = [
            module.register_forward_hook(functools.partial(self._log, name))
            for name, module in self.modules.items() if name]
        errors = []
        try:
            for size in sizes:
                self.calls.clear()
                self.order.clear()
                inputs = torch.randn(
                    1, 3, *size,
                    generator=torch.Generator().manual_seed(0)).to(device)
                try:
                    with _eval_mode(self.model), torch.no_grad():
                        self.model(inputs, None, mode='tensor')
                    return inputs
                except Exception as err:  # a model may refuse a size
                    errors.append(f'{size}: {type(err).__name__}: {err}')
        finally:
            for handle in handles:
                handle.remove()
        raise LayerNotFoundError(
            f"The probe forward (mode='tensor', as a frozen teacher runs) "
            f'of {type(self.model).__name__} failed at every input size '
            f'tried ({"; ".join(errors)}). Pass probe_size=(H, W) that the '
            'model accepts, or give the layers as dicts, e.g. '
            "student_layers=dict(B=dict(source='backbone.<module>', "
            "channels=<C>), E=dict(source='decode_head.<module>', "
            'channels=<C>)).')

    def _producers(self, tensor: Tensor, prefix: str) -> List[Tuple[str, int]]:
        """Calls ``(name, index)`` under ``prefix`` returning ``tensor``."""
        return [(name, idx) for name, idx in self.order
                if name.startswith(prefix)
                and self.calls[name][idx][0] is tensor
                and not _is_pass_through(self.modules[name])]

    def _backbone_candidates(self) -> List[Tuple[Tuple[int, ...], Tensor]]:
        """``(path, tensor)`` of the backbone outputs B is chosen from."""
        out = self.calls['backbone'][-1][0]
        if isinstance(out, Tensor):
            return [((), out)]
        # an element may hold several tensors, e.g. [map, cls_token]
        elements = [((i, ), element) if isinstance(element, Tensor) else next(
            ((i, j), t) for j, t in enumerate(element)
            if isinstance(t, Tensor) and t.dim() == 4)
            for i, element in enumerate(out)]
        in_index = getattr(self.first_head, 'in_index', None)
        if getattr(self.model, 'with_neck', False) or in_index is None:
            return elements
        indices = [in_index] if isinstance(in_index, int) else in_index
        return [elements[i] for i in indices]

    def find_b(self) -> Dict:
        """Layer dict of B (``docs/design.md``, Layers)."""
        path, tensor = min(reversed(self._backbone_candidates()),
                           key=lambda c: c[1].shape[-2] * c[1].shape[-1])
        channels = tensor.shape[1]
        producers = self._producers(tensor, 'backbone.')
        relus = [p for p in producers
                 if isinstance(self.modules[p[0]], nn.ReLU)]
        if relus:  # its input: the pre-activation feature
            return _layer(*relus[-1], channels, 'PreForwardInputs')
        if producers:
            return _layer(*producers[-1], channels)
        layer = _layer('backbone', 0, channels, 'OutputElement', path=path)
        train_path = self._train_path(path, tensor)
        if train_path != path:
            layer['train_path'] = train_path
        return layer

    def _train_path(self, path: Tuple[int, ...],
                    target: Tensor) -> Tuple[int, ...]:
        """Position of B in the backbone's train-mode output, by value."""
        backbone = self.model.backbone
        with _eval_mode(backbone, train=True), torch.no_grad():
            out = backbone(self.inputs)
        for cand_path, tensor in _flatten(out):
            if tensor.shape == target.shape and torch.allclose(
                    tensor, target, atol=1e-5):
                return cand_path
        raise LayerNotFoundError(
            f'B of {type(backbone).__name__}: its eval-mode output at {path} '
            'has no equal in its train-mode output. Give B as a dict, e.g. '
            "dict(source='backbone.<module>', channels="
            f'{target.shape[1]}).')

    def _last_classifier_call(self) -> Tuple[int, Any, Any]:
        """``(call index, output, input)`` of the classifier's last call."""
        calls = self.calls.get(self.classifier)
        if not calls:
            raise LayerNotFoundError(
                f'Layer E not found: {self.head_prefix} '
                f'({type(self.head).__name__}) has no conv_seg classifier '
                'that runs in the forward, so the feature it sees cannot be '
                'found automatically. Pass the layers as dicts, e.g. '
                f'student_layers=dict(B={self.find_b()}, E=dict(source='
                f"'{self.head_prefix}.<module>', channels=<C>)).")
        return (len(calls) - 1, *calls[-1])

    def find_classifier_input(self) -> Dict:
        """Layer dict of the classifier's input, before dropout."""
        cls_idx, _, feature = self._last_classifier_call()
        channels = feature.shape[1]
        producers = [p for p in self._producers(
            feature, self.head_prefix + '.') if p[0] != self.classifier]
        if producers:
            return _layer(*producers[-1], channels)
        dropout = f'{self.head_prefix}.dropout'
        for idx, (out, _) in enumerate(self.calls.get(dropout, [])):
            if out is feature:
                return _layer(dropout, idx, channels, 'PreForwardInputs')
        return _layer(self.classifier, cls_idx, channels, 'PreForwardInputs')

    def find_layers(self) -> Dict[str, Dict]:
        """Layer dicts ``B``, ``E`` and, with a context module, ``D``."""
        layers = dict(B=self.find_b(), E=self.find_classifier_input())
        attr = CONTEXT_MODULES.get(type(self.head).__name__)
        if attr is not None:  # E: its output; D: the classifier input
            name = f'{self.head_prefix}.{attr}'
            calls = self.calls[name]
            layers.update(E=_layer(name, len(calls) - 1,
                                   calls[-1][0].shape[1]), D=layers['E'])
        return layers

    def find_logits(self) -> Dict:
        """Layer dict of the last head's ``conv_seg`` output."""
        idx, out, _ = self._last_classifier_call()
        return _layer(self.classifier, idx, out.shape[1])


@contextlib.contextmanager
def _eval_mode(module: nn.Module, train: bool = False) -> Iterator[None]:
    """Eval mode (``train``: train but norm and dropout), restored on exit."""
    modes = {m: m.training for m in module.modules()}
    module.train(train)
    for m in module.modules() if train else ():
        if isinstance(m, (nn.modules.batchnorm._NormBase, nn.GroupNorm,
                          nn.LayerNorm)) or _is_pass_through(m):
            m.eval()
    try:
        yield
    finally:
        for m, training in modes.items():
            m.training = training


def _flatten(out: Any, path: Tuple[int, ...] = ()) -> List:
    """Every ``(path, tensor)`` in a nested output."""
    if isinstance(out, Tensor):
        return [(path, out)]
    if isinstance(out, (list, tuple)):
        return [item for i, o in enumerate(out)
                for item in _flatten(o, path + (i, ))]
    return []


def find_layers(model: nn.Module,
                probe_size: Optional[Sequence[int]] = None) -> Dict[str, Dict]:
    """AttnFD's layer dicts of a built mmseg segmentor (see ModelProbe)."""
    return ModelProbe(model, probe_size).find_layers()


def find_logits(model: nn.Module,
                probe_size: Optional[Sequence[int]] = None) -> Dict:
    """Layer dict of a built mmseg segmentor's logits."""
    return ModelProbe(model, probe_size).find_logits()
