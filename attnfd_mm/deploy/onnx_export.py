# Copyright (c) attnfd-mm contributors. All rights reserved.
"""A segmentor as ONNX (dynamic batch, height and width), checked against
PyTorch with onnxruntime. The graph takes the image as mmcv loads it
(float32 N x 3 x H x W, 0-255, BGR) and does mmseg's whole-image inference:
the data preprocessor's channel swap and normalisation, the forward, the
logits resized to the input (bilinear) and, for ``'map'``, their argmax."""
import copy
import importlib
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair

#: what the exported graph returns: ``'logits'`` (N x C x H x W float32) or
#: ``'map'`` (N x H x W int64 class indices)
OUTPUTS = ('logits', 'map')


class ExportDependencyError(ImportError):
    """``onnx`` or ``onnxruntime`` is not installed."""


class OnnxParityError(AssertionError):
    """onnxruntime's output differs from PyTorch's beyond the tolerance."""


def require_export_deps(*names: str):
    """Import ``names`` (default ``onnx`` and ``onnxruntime``); return the
    last one, or raise :class:`ExportDependencyError` naming the install
    command."""
    module = None
    for name in names or ('onnx', 'onnxruntime'):
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            raise ExportDependencyError(
                f'{name} is not installed; ONNX export and its check need '
                'onnx and onnxruntime: pip install attnfd-mm[export]  (or: '
                'pip install onnx onnxruntime)') from e
    return module


class ExportableAdaptiveAvgPool2d(nn.Module):
    """``nn.AdaptiveAvgPool2d`` that exports with a dynamic input size
    (PyTorch's exporter refuses a pooling to more than 1x1 without one, e.g.
    PSPNet's pyramid pooling): the mean of each of PyTorch's bins (rows
    ``floor(i * H / k)`` to ``ceil((i + 1) * H / k)``) from an integral
    image in float64."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.out_h, self.out_w = _pair(output_size)

    @staticmethod
    def _bins(n, k: int) -> Tuple[torch.Tensor, torch.Tensor]:
        i = torch.arange(k)
        start = torch.div(i * n, k, rounding_mode='floor')
        end = torch.div((i + 1) * n + k - 1, k, rounding_mode='floor')
        return start, end

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]  # traced values when exporting
        ii = F.pad(x.double().cumsum(-2).cumsum(-1), (1, 0, 1, 0))
        top, bottom = self._bins(h, self.out_h)
        left, right = self._bins(w, self.out_w)

        def corner(rows, cols):
            return ii.index_select(-2, rows).index_select(-1, cols)

        sums = corner(bottom, right) - corner(top, right) - \
            corner(bottom, left) + corner(top, left)
        area = (bottom - top).unsqueeze(1) * (right - left).unsqueeze(0)
        return (sums / area.double()).to(x.dtype)


def exportable(segmentor: nn.Module) -> nn.Module:
    """A copy of ``segmentor`` whose adaptive average poolings to more
    than 1x1 are :class:`ExportableAdaptiveAvgPool2d` (the same values)."""
    segmentor = copy.deepcopy(segmentor)
    for module in list(segmentor.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.AdaptiveAvgPool2d) and \
                    _pair(child.output_size) != (1, 1):
                setattr(module, name,
                        ExportableAdaptiveAvgPool2d(child.output_size))
    return segmentor


class DeployableSegmentor(nn.Module):
    """A segmentor's whole-image inference (an mmseg segmentor in eval
    mode) as one tensor function returning an ``output`` of
    :data:`OUTPUTS`."""

    def __init__(self, segmentor: nn.Module, output: str = 'logits') -> None:
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f'output must be one of {OUTPUTS}, got '
                             f'{output!r}.')
        self.segmentor = segmentor
        self.output = output
        pre = segmentor.data_preprocessor
        # mmseg's SegDataPreProcessor; mmengine's ImgDataPreprocessor
        self.bgr_to_rgb = bool(getattr(
            pre, 'channel_conversion',
            getattr(pre, '_channel_conversion', False)))
        self.normalize = bool(getattr(pre, '_enable_normalize', False))
        if self.normalize:
            for key in ('mean', 'std'):
                self.register_buffer(key, getattr(pre, key).view(
                    1, -1, 1, 1).clone(), persistent=False)
        head = segmentor.decode_head
        head = head[-1] if isinstance(head, nn.ModuleList) else head
        self.align_corners = bool(getattr(head, 'align_corners', False))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = image.float()
        if self.bgr_to_rgb:
            x = x.flip(1)
        if self.normalize:
            x = (x - self.mean) / self.std
        logits = self.segmentor(x, mode='tensor')
        logits = F.interpolate(logits, size=image.shape[-2:],
                               mode='bilinear',
                               align_corners=self.align_corners)
        return logits.argmax(dim=1) if self.output == 'map' else logits


def export_onnx(segmentor: nn.Module,
                path: str,
                output: str = 'logits',
                size: Tuple[int, int] = (512, 512),
                opset: int = 17) -> str:
    """Write ``segmentor`` as ONNX to ``path`` (dynamic batch, height and
    width; traced at ``size``); return ``path``."""
    wrapper = DeployableSegmentor(exportable(segmentor), output).eval()
    image = torch.rand(1, 3, *size) * 255
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    axes = {0: 'batch', 2: 'height', 3: 'width'}
    out_axes = axes if output == 'logits' else {
        0: 'batch', 1: 'height', 2: 'width'}  # a map has no channels
    with torch.no_grad():
        torch.onnx.export(
            wrapper, (image, ), path, input_names=['image'],
            output_names=[output], opset_version=opset,
            dynamic_axes={'image': axes, output: out_axes},
            dynamo=False)  # keeps H and W symbolic; needs no onnxscript
    return path


def onnx_session(path: str, threads: int = 0):
    """An onnxruntime CPU session of ``path`` (``threads``: intra-op
    threads, 0: onnxruntime's choice)."""
    ort = require_export_deps('onnxruntime')
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(path, options,
                                providers=['CPUExecutionProvider'])


def check_onnx(path: str,
               segmentor: nn.Module,
               sizes: Sequence[Tuple[int, int]],
               output: str = 'logits',
               atol: float = 1e-3,
               seed: int = 0) -> List[Dict]:
    """Run the ONNX file at ``path`` with onnxruntime and ``segmentor`` in
    PyTorch on the same random image of each size; return, per size, the
    max absolute difference of the logits (``'logits'``) or the share of
    pixels whose class differs (``'map'``); :class:`OnnxParityError` where
    it is above ``atol``."""
    onnx = require_export_deps('onnx')
    onnx.checker.check_model(onnx.load(path))
    session = onnx_session(path)
    wrapper = DeployableSegmentor(segmentor, output).eval()
    generator = torch.Generator().manual_seed(seed)
    out = []
    for h, w in sizes:
        image = torch.rand(1, 3, h, w, generator=generator) * 255
        with torch.no_grad():
            expected = wrapper(image).numpy()
        got = session.run(None, {'image': image.numpy()})[0]
        if got.shape != expected.shape:
            raise OnnxParityError(
                f'{path} at {h}x{w}: onnxruntime gives shape {got.shape}, '
                f'PyTorch {expected.shape}.')
        key, diff = ('max_abs_diff', float(abs(got - expected).max())) \
            if output == 'logits' else \
            ('pixels_differing', float((got != expected).mean()))
        out.append({'size': [h, w], key: diff, 'tolerance': atol})
        if diff > atol:
            raise OnnxParityError(
                f'{path} at {h}x{w}: onnxruntime differs from PyTorch by '
                f'{diff:.3g} ({key}), above the tolerance {atol}.')
    return out
