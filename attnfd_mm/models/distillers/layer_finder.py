# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Find AttnFD's layers B, E, D and the logits in a built mmseg segmentor
by tensor identity in one logged forward (``docs/design.md``, Layers)."""
import contextlib
import functools
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

#: Heads with a context module (its output is E) before a decoder (whose
#: classifier input is D): head class name -> context module attribute.
CONTEXT_MODULES: Dict[str, str] = {
    'DepthwiseSeparableASPPHead': 'bottleneck',
    'UPerHead': 'bottleneck',
}

#: Probe input size (then the preprocessor's ``size`` if the model refuses)
DEFAULT_PROBE_SIZE: Tuple[int, int] = (64, 64)


class LayerNotFoundError(KeyError):
    """A layer could not be found automatically in a model."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ''


def _is_pass_through(module: nn.Module) -> bool:
    """Modules that may return their input unchanged in eval mode."""
    return isinstance(module, nn.Identity) or 'Drop' in type(module).__name__


class _CallLog:
    """``(name, call index, output, first input)`` of every module call of
    one forward, in the order they finished."""

    def __init__(self, model: nn.Module) -> None:
        self.modules = dict(model.named_modules())
        self.events: List[Tuple[str, int, Any, Any]] = []
        self._counts: Dict[str, int] = {}
        self._handles = [
            module.register_forward_hook(functools.partial(self._log, name))
            for name, module in self.modules.items() if name]

    def _log(self, name: str, module: nn.Module, inputs: Tuple,
             output: Any) -> None:
        idx = self._counts[name] = self._counts.get(name, -1) + 1
        self.events.append((name, idx, output, inputs[0] if inputs else None))

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()

    def calls(self, name: str) -> List[Tuple[int, Any, Any]]:
        """``(call index, output, first input)`` of each call of ``name``."""
        return [(i, out, inp) for n, i, out, inp in self.events if n == name]

    def producers(self, tensor: Tensor, prefix: str) -> List[Tuple[str, int]]:
        """``(name, call index)`` of the calls under ``prefix`` that
        returned ``tensor`` itself, in the order they finished."""
        return [(n, i) for n, i, out, _ in self.events
                if out is tensor and n.startswith(prefix)
                and not _is_pass_through(self.modules[n])]


class ModelProbe:
    """One eval-mode forward of a segmentor with every module call logged.

    Args:
        model (nn.Module): A built mmseg segmentor (``EncoderDecoder`` or
            ``CascadeEncoderDecoder``).
        probe_size (Sequence[int], optional): Input ``(H, W)``. Defaults to
            64x64, then the data preprocessor's ``size`` if 64x64 fails.
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
        heads = model.decode_head
        if isinstance(heads, nn.ModuleList):
            self.head_prefix = f'decode_head.{len(heads) - 1}'
            self.head, self.first_head = heads[-1], heads[0]
        else:
            self.head_prefix, self.head = 'decode_head', heads
            self.first_head = heads
        self.classifier = f'{self.head_prefix}.conv_seg'
        self.inputs, self.log = self._run(probe_size)
        self.backbone_out = self.log.calls('backbone')[-1][1]

    def _run(self, probe_size) -> Tuple[Tensor, _CallLog]:
        sizes = [DEFAULT_PROBE_SIZE]
        crop = getattr(getattr(self.model, 'data_preprocessor', None), 'size',
                       None)
        if probe_size is not None:
            sizes = [tuple(probe_size)]
        elif crop is not None and tuple(crop) != DEFAULT_PROBE_SIZE:
            sizes.append(tuple(crop))
        param = next(self.model.parameters(), None)
        device = param.device if param is not None else torch.device('cpu')
        errors = []
        for size in sizes:
            inputs = torch.randn(
                1, 3, *size,
                generator=torch.Generator().manual_seed(0)).to(device)
            log = _CallLog(self.model)
            try:
                with _eval_mode(self.model), torch.no_grad():
                    self.model(inputs, None, mode='tensor')
                return inputs, log
            except Exception as err:  # a model may refuse a size
                errors.append(f'{size}: {type(err).__name__}: {err}')
            finally:
                log.remove()
        raise LayerNotFoundError(
            f"The probe forward (mode='tensor', as a frozen teacher runs) "
            f'of {type(self.model).__name__} failed at every input size '
            f'tried ({"; ".join(errors)}). Pass probe_size=(H, W) that the '
            'model accepts, or give the layers as dicts, e.g. '
            "student_layers=dict(B=dict(source='backbone.<module>', "
            "channels=<C>), E=dict(source='decode_head.<module>', "
            'channels=<C>)).')

    def _backbone_candidates(self) -> List[Tuple[Tuple[int, ...], Tensor]]:
        """``(path, tensor)`` of the backbone outputs B is chosen from."""
        out = self.backbone_out
        if isinstance(out, Tensor):
            return [((), out)]
        elements = []
        for i, element in enumerate(out):
            path, tensor = (i, ), element
            while not isinstance(tensor, Tensor):  # e.g. [map, cls_token]
                j = next(k for k, t in enumerate(tensor)
                         if isinstance(t, Tensor) and t.dim() == 4)
                path, tensor = path + (j, ), tensor[j]
            elements.append((path, tensor))
        in_index = getattr(self.first_head, 'in_index', None)
        if getattr(self.model, 'with_neck', False) or in_index is None:
            return elements
        indices = [in_index] if isinstance(in_index, int) else in_index
        return [elements[i] for i in indices]

    def find_b(self) -> Dict:
        """Layer dict of B: the lowest-resolution (last on ties) backbone
        output the head reads, before the ``nn.ReLU`` that produced it, else
        at its producer, else as an ``OutputElement`` of the backbone."""
        path, tensor = min(reversed(self._backbone_candidates()),
                           key=lambda c: c[1].shape[-2] * c[1].shape[-1])
        channels = tensor.shape[1]
        producers = self.log.producers(tensor, 'backbone.')
        relus = [p for p in producers
                 if isinstance(self.log.modules[p[0]], nn.ReLU)]
        if relus:
            name, idx = relus[-1]
            return dict(source=name, recorder='PreForwardInputs',
                        record_idx=idx, channels=channels)
        if producers:
            name, idx = producers[-1]
            return dict(source=name, record_idx=idx, channels=channels)
        layer = dict(source='backbone', recorder='OutputElement',
                     path=path, channels=channels)
        train_path = self._train_path(path, tensor)
        if train_path != path:
            layer['train_path'] = train_path
        return layer

    def _train_path(self, path: Tuple[int, ...],
                    target: Tensor) -> Tuple[int, ...]:
        """Position of B in the backbone's train-mode output, found by
        value (norm and dropout layers in eval mode)."""
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
        calls = self.log.calls(self.classifier)
        if not calls:
            raise LayerNotFoundError(
                f'Layer E not found: {self.head_prefix} '
                f'({type(self.head).__name__}) has no conv_seg classifier '
                'that runs in the forward, so the feature it sees cannot be '
                'found automatically. Pass the layers as dicts, e.g. '
                f'student_layers=dict(B={self.find_b()}, E=dict(source='
                f"'{self.head_prefix}.<module>', channels=<C>)).")
        return calls[-1]

    def find_classifier_input(self) -> Dict:
        """Layer dict of the classifier's input, before dropout."""
        cls_idx, _, feature = self._last_classifier_call()
        channels = feature.shape[1]
        producers = [p for p in self.log.producers(
            feature, self.head_prefix + '.') if p[0] != self.classifier]
        if producers:
            name, idx = producers[-1]
            return dict(source=name, record_idx=idx, channels=channels)
        dropout = f'{self.head_prefix}.dropout'
        for idx, out, _ in self.log.calls(dropout):
            if out is feature:
                return dict(source=dropout, recorder='PreForwardInputs',
                            record_idx=idx, channels=channels)
        return dict(source=self.classifier, recorder='PreForwardInputs',
                    record_idx=cls_idx, channels=channels)

    def find_context(self) -> Optional[Dict]:
        """Layer dict of the head's context module, if it has one."""
        attr = CONTEXT_MODULES.get(type(self.head).__name__)
        if attr is None:
            return None
        name = f'{self.head_prefix}.{attr}'
        idx, out, _ = self.log.calls(name)[-1]
        return dict(source=name, record_idx=idx, channels=out.shape[1])

    def find_logits(self) -> Dict:
        """Layer dict of the last head's ``conv_seg`` output."""
        idx, out, _ = self._last_classifier_call()
        return dict(source=self.classifier, record_idx=idx,
                    channels=out.shape[1], recorder='ModuleOutputs')


@contextlib.contextmanager
def _eval_mode(module: nn.Module, train: bool = False) -> Iterator[None]:
    """Put ``module`` in eval mode (or train mode with norm and dropout
    layers in eval mode) and restore every submodule's mode on exit."""
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
    """AttnFD's complete layer dicts ``B``, ``E`` (and ``D`` where the head
    has a context module) of a built mmseg segmentor (see
    :class:`ModelProbe` for the arguments)."""
    probe = ModelProbe(model, probe_size)
    layers = dict(B=probe.find_b())
    context = probe.find_context()
    classifier_input = probe.find_classifier_input()
    layers.update(dict(E=classifier_input) if context is None else dict(
        E=context, D=classifier_input))
    for layer in layers.values():
        layer.setdefault('recorder', 'ModuleOutputs')
        layer.setdefault('record_idx', 0)
    return layers


def find_logits(model: nn.Module,
                probe_size: Optional[Sequence[int]] = None) -> Dict:
    """Layer dict of a built mmseg segmentor's logits."""
    return ModelProbe(model, probe_size).find_logits()
