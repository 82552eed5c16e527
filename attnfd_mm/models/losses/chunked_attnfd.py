# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFD's distance computed a few channels at a time, with the student's
channel alignment (Conv1x1 + BN) inside: the same value as the plain path,
without its full-width intermediate maps."""
import math
from typing import NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from attnfd_mm.utils import DEFAULT_CHUNK_ELEMENTS, channel_chunks


def chunkable_align(align: Optional[nn.Module]) -> bool:
    """Whether ``align`` can be evaluated channel by channel here: None, or
    ``Sequential(Conv2d 1x1 without bias, BatchNorm2d)`` (not SyncBN, whose
    statistics span processes)."""
    if align is None:
        return True
    if not isinstance(align, nn.Sequential) or len(align) != 2:
        return False
    conv, norm = align
    return (type(conv) is nn.Conv2d and conv.kernel_size == (1, 1)
            and conv.stride == (1, 1) and conv.padding == (0, 0)
            and conv.dilation == (1, 1) and conv.groups == 1
            and conv.bias is None and type(norm) is nn.BatchNorm2d)


class TeacherMap(NamedTuple):
    """The refined teacher map ``feature * channel_gate * spatial_gate``,
    kept as its factors (the gates may be None: a factor of 1)."""
    feature: Tensor
    channel_gate: Optional[Tensor] = None
    spatial_gate: Optional[Tensor] = None

    def chunk(self, start: int, end: int) -> Tensor:
        """Channels ``start:end`` of the map, as the connector computes
        them (``feature * channel_gate``, then ``* spatial_gate``)."""
        out = self.feature[:, start:end]
        if self.channel_gate is not None:
            out = out * self.channel_gate[:, start:end]
        if self.spatial_gate is not None:
            out = out * self.spatial_gate
        return out


class _StudentAlign:
    """Channels ``start:end`` of ``norm(conv(refined))`` (resized to
    ``size``), from tensors that may be autograd leaves."""

    def __init__(self, align: Optional[nn.Sequential],
                 size: Tuple[int, int]) -> None:
        self.norm: Optional[_BatchNorm] = None if align is None else align[1]
        self.size = size
        self.momentum = 0.0  # set by count_batch()

    def chunk(self, refined: Tensor, weight: Optional[Tensor],
              gamma: Optional[Tensor], beta: Optional[Tensor], start: int,
              end: int, update_stats: bool = False) -> Tensor:
        """Output channels ``start:end``: conv with ``weight``'s rows, BN
        with batch statistics in training (updating the running ones only
        with ``update_stats``), then the resize."""
        if weight is None:
            out = refined[:, start:end]
        else:
            out = F.conv2d(refined, weight[start:end])
        norm = self.norm
        if norm is not None:
            batch_stats = norm.training or norm.running_mean is None
            use_running = (not batch_stats or update_stats) and \
                norm.running_mean is not None
            out = F.batch_norm(
                out,
                norm.running_mean[start:end] if use_running else None,
                norm.running_var[start:end] if use_running else None,
                None if gamma is None else gamma[start:end],
                None if beta is None else beta[start:end],
                batch_stats, self.momentum if update_stats else 0.0,
                norm.eps)
        if out.shape[-2:] != self.size:
            out = F.interpolate(
                out, size=self.size, mode='bilinear', align_corners=False)
        return out

    def count_batch(self) -> None:
        """What ``BatchNorm2d.forward`` does once per training batch:
        count it and pick the running-stats momentum."""
        norm = self.norm
        self.momentum = 0.0
        if norm is None or not (norm.training and norm.track_running_stats):
            return
        if norm.num_batches_tracked is not None:
            norm.num_batches_tracked.add_(1)
        self.momentum = (1.0 / float(norm.num_batches_tracked)
                         if norm.momentum is None else norm.momentum)


def _dot(x: Tensor, y: Tensor, per_sample: bool) -> Tensor:
    """Inner product of ``x`` and ``y`` summed in float64, over all of them
    or per sample."""
    prod = x * y
    if per_sample:
        return prod.flatten(1).sum(1, dtype=torch.float64)
    return prod.sum(dtype=torch.float64)


def _per_sample(norm: Tensor, x: Tensor) -> Tensor:
    """``norm`` (a scalar or one value per sample) broadcast against x."""
    return norm.view(-1, *[1] * (x.dim() - 1)) if norm.dim() else norm


class _ChunkedAttnFD(torch.autograd.Function):
    """Forward: one pass over channel chunks summing, in float64,
    ``|S|^2``, ``|T|^2`` and ``<S, T>`` (per sample or over the batch); the
    distance is then ``|u|^2 - 2 <u, t_hat> + |t_hat|^2`` with ``u = S/|S|``,
    ``t_hat = T/|T|``, exact to about 1e-15 even when it is small (products
    of float32 values are exact in float64). Backward: one more pass that
    recomputes each chunk and back-propagates through it alone."""

    @staticmethod
    def forward(ctx, refined: Tensor, weight: Optional[Tensor],
                gamma: Optional[Tensor], beta: Optional[Tensor],
                align: _StudentAlign, teacher: TeacherMap, loss_weight: float,
                per_sample: bool, eps: float, chunk_elements: int) -> Tensor:
        batch, channels = teacher.feature.shape[:2]
        size = teacher.feature.shape[-2:]
        chunks = channel_chunks(channels, batch * math.prod(size),
                                chunk_elements)
        align.count_batch()
        s_sq = t_sq = s_t = 0
        for start, end in chunks:
            s = align.chunk(refined, weight, gamma, beta, start, end,
                            update_stats=True)
            t = teacher.chunk(start, end)
            s_sq = s_sq + _dot(s, s, per_sample)
            t_sq = t_sq + _dot(t, t, per_sample)
            s_t = s_t + _dot(s, t, per_sample)
        # the norms as the plain path clamps them
        s_norm = s_sq.sqrt().clamp_min(eps)
        t_norm = t_sq.sqrt().clamp_min(eps)
        u_u = s_sq / s_norm**2
        u_t = s_t / (s_norm * t_norm)
        distance = u_u - 2 * u_t + t_sq / t_norm**2
        dtype = refined.dtype
        ctx.save_for_backward(refined, weight, gamma, beta, teacher.feature,
                              teacher.channel_gate, teacher.spatial_gate,
                              s_norm.to(dtype), t_norm.to(dtype),
                              (u_u - u_t).to(dtype), s_sq.sqrt())
        ctx.align = align
        ctx.chunks = chunks
        ctx.scale = loss_weight / batch
        ctx.eps = eps
        # the backward recomputes the chunks under the forward's autocast
        device = refined.device.type
        ctx.autocast = (device, torch.get_autocast_dtype(device),
                        torch.is_autocast_enabled(device))
        return (ctx.scale * distance.sum()).to(dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (refined, weight, gamma, beta, feature, channel_gate, spatial_gate,
         s_norm, t_norm, projection, s_norm_raw) = ctx.saved_tensors
        teacher = TeacherMap(feature, channel_gate, spatial_gate)
        leaves = [
            None if x is None else x.detach().requires_grad_(need)
            for x, need in zip((refined, weight, gamma, beta),
                               ctx.needs_input_grad)
        ]
        wanted = [i for i, x in enumerate(leaves)
                  if x is not None and x.requires_grad]
        # d/ds sum((s/|s| - t_hat)^2) = 2/|s| (diff - u D), diff = u - t_hat,
        # D = <u, diff> = <u, u> - <u, t_hat>; D is 0 where |s| was clamped
        # to eps
        on_norm = (s_norm_raw > ctx.eps).to(projection.dtype) * projection
        scale = 2 * ctx.scale * grad_output
        device, dtype, enabled = ctx.autocast
        grads = [None] * 4
        for start, end in ctx.chunks:
            with torch.enable_grad(), torch.autocast(
                    device, dtype=dtype, enabled=enabled):
                s = ctx.align.chunk(*leaves, start, end)
            with torch.no_grad():
                norm = _per_sample(s_norm, s)
                # (diff - u D) scale / |s|, written with s and t
                grad_s = s.detach() * (
                    (1 - _per_sample(on_norm, s)) * scale / norm**2)
                grad_s -= teacher.chunk(start, end) * (
                    scale / (norm * _per_sample(t_norm, s)))
            if not wanted:
                continue
            chunk_grads = torch.autograd.grad(
                s, [leaves[i] for i in wanted], grad_s, allow_unused=True)
            for i, g in zip(wanted, chunk_grads):
                if g is not None:
                    grads[i] = g if grads[i] is None else grads[i].add_(g)
        return (*grads, None, None, None, None, None, None)


def chunked_attnfd_loss(refined: Tensor,
                        align: Optional[nn.Sequential],
                        teacher: TeacherMap,
                        loss_weight: float,
                        per_sample: bool,
                        eps: float,
                        chunk_elements: int = DEFAULT_CHUNK_ELEMENTS
                        ) -> Tensor:
    r"""``loss_weight / B * sum((S / |S| - T / |T|)^2)`` with
    :math:`S` = ``align(refined)`` resized (bilinear) to the teacher map and
    :math:`T` = ``teacher``'s map, never holding either at full width.

    The value equals :class:`~attnfd_mm.models.losses.AttnFDLoss`'s on the
    materialised maps up to float rounding; gradients reach ``refined`` and
    the alignment's conv and BN parameters (not the teacher); the BN running
    statistics are updated once, as ``BatchNorm2d`` would.

    Args:
        refined (Tensor): Student map before alignment, (B, Cs, h, w).
        align (nn.Sequential, optional): Conv1x1 (no bias) + BatchNorm2d
            (see :func:`chunkable_align`), or None when Cs = Ct.
        teacher (TeacherMap): The teacher map (B, Ct, H, W), as factors.
        loss_weight (float): The loss weight.
        per_sample (bool): Normalise each sample (``'sample'``) instead of
            the whole batch (``'batch'``).
        eps (float): Lower bound of a norm.
        chunk_elements (int): Elements per chunk (B x c x H x W).
    """
    if not chunkable_align(align):
        raise ValueError(
            'chunked_attnfd_loss: the alignment must be None or '
            'Sequential(Conv2d 1x1 without bias, BatchNorm2d), got '
            f'{align!r}; use AttnFDLoss on the aligned map instead.')
    weight = gamma = beta = None
    if align is not None:
        weight = align[0].weight
        gamma, beta = align[1].weight, align[1].bias
    helper = _StudentAlign(align, tuple(teacher.feature.shape[-2:]))
    return _ChunkedAttnFD.apply(refined, weight, gamma, beta, helper,
                                teacher, loss_weight, per_sample, eps,
                                chunk_elements)
