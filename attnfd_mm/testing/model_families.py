# Copyright (c) attnfd-mm contributors. All rights reserved.
"""A stock mmseg 1.2.2 config per model family (none needing mmdet,
mmpretrain or external weights), for ``tools/analysis/layer_table.py``."""
import math
from typing import Dict, List, Tuple

from mmengine.registry import MODELS, DefaultScope
from torch import nn

from .synthetic_shapes import random_batch
from .tiny_configs import stock_segmentor

#: family (the config's folder) -> its smallest stock config.
MODEL_FAMILIES: Dict[str, str] = {
    path.split('/')[0]: path
    for path in (
        'ann/ann_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'apcnet/apcnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'beit/beit-base_upernet_8xb2-160k_ade20k-640x640.py',
        'bisenetv1/bisenetv1_r18-d32_4xb4-160k_cityscapes-1024x1024.py',
        'bisenetv2/bisenetv2_fcn_4xb4-160k_cityscapes-1024x1024.py',
        'ccnet/ccnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'cgnet/cgnet_fcn_4xb4-60k_cityscapes-680x680.py',
        'danet/danet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'ddrnet/ddrnet_23-slim_in1k-pre_2xb6-120k_cityscapes-1024x1024.py',
        'deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py',
        'deeplabv3plus/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py',
        'dmnet/dmnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'dnlnet/dnl_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'dpt/dpt_vit-b16_8xb2-160k_ade20k-512x512.py',
        'emanet/emanet_r50-d8_4xb2-80k_cityscapes-512x1024.py',
        'encnet/encnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'erfnet/erfnet_fcn_4xb4-160k_cityscapes-512x1024.py',
        'fastfcn/fastfcn_r50-d32_jpu_psp_4xb2-80k_cityscapes-512x1024.py',
        'fastscnn/fast_scnn_8xb4-160k_cityscapes-512x1024.py',
        'fcn/fcn_r18-d8_4xb2-80k_cityscapes-512x1024.py',
        'gcnet/gcnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'hrnet/fcn_hr18s_4xb2-40k_cityscapes-512x1024.py',
        'icnet/icnet_r18-d8_4xb2-80k_cityscapes-832x832.py',
        'isanet/isanet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'knet/knet-s3_r50-d8_fcn_8xb2-adamw-80k_ade20k-512x512.py',
        'mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py',
        'mobilenet_v2/mobilenet-v2-d8_deeplabv3_4xb2-80k_cityscapes-'
        '512x1024.py',
        'mobilenet_v3/mobilenet-v3-d8-s_lraspp_4xb4-320k_cityscapes-'
        '512x1024.py',
        'nonlocal_net/nonlocal_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'ocrnet/ocrnet_hr18s_4xb2-40k_cityscapes-512x1024.py',
        'pidnet/pidnet-s_2xb6-120k_1024x1024-cityscapes.py',
        'point_rend/pointrend_r50_4xb2-80k_cityscapes-512x1024.py',
        'psanet/psanet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        'pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
        'resnest/resnest_s101-d8_fcn_4xb2-80k_cityscapes-512x1024.py',
        'segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py',
        'segmenter/segmenter_vit-t_mask_8xb1-160k_ade20k-512x512.py',
        'segnext/segnext_mscan-t_1xb16-adamw-160k_ade20k-512x512.py',
        'sem_fpn/fpn_r50_4xb2-80k_cityscapes-512x1024.py',
        'setr/setr_vit-l_naive_8xb1-80k_cityscapes-768x768.py',
        'stdc/stdc1_4xb12-80k_cityscapes-512x1024.py',
        'swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-'
        '512x512.py',
        'twins/twins_pcpvt-s_fpn_fpnhead_8xb4-80k_ade20k-512x512.py',
        'unet/unet-s5-d16_fcn_4xb4-40k_drive-64x64.py',
        'upernet/upernet_r18_4xb2-40k_cityscapes-512x1024.py',
        'vit/vit_deit-s16_upernet_8xb2-80k_ade20k-512x512.py',
    )
}

#: Families whose stock model refuses a 64x64 input: the size to use.
INPUT_SIZES: Dict[str, Tuple[int, int]] = {
    'mobilenet_v3': (392, 392),  # LR-ASPP pools 49x49 windows of its 1/8 map
}


def family_segmentor(family: str) -> Dict:
    """:func:`stock_segmentor` of ``family`` at its size and overrides."""
    if family not in MODEL_FAMILIES:
        raise KeyError(f'Unknown model family {family!r}; valid ones: '
                       f'{sorted(MODEL_FAMILIES)}.')
    size = INPUT_SIZES.get(family, (64, 64))
    model = stock_segmentor('mmseg::' + MODEL_FAMILIES[family],
                            crop_size=size)
    if family in ('beit', 'mae'):  # their backbones take only img_size
        model['backbone']['img_size'] = size
    return model


def build_segmentor(cfg: Dict) -> nn.Module:
    """Build a model dict in mmseg's default scope."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


def distill_step(student: Dict, teacher: Dict,
                 size: Tuple[int, int] = (64, 64)) -> Dict:
    """One AttnFD B+E step between two segmentor dicts: its ``losses`` and
    whether all connector / any student / any teacher parameters got grads."""
    algo = build_segmentor(dict(
        _scope_='mmrazor', type='FrozenTeacherDistill', random_teacher=True,
        architecture=student, teacher=teacher,
        distiller=dict(type='AttnFDDistiller', layers=['B', 'E']))).train()
    inputs, samples = random_batch(size)
    losses = algo.loss(inputs, samples)
    loss, _ = algo.parse_losses(losses)
    loss.backward()
    return dict(
        losses={k: float(v.detach()) for k, v in losses.items()
                if k.startswith('distill.')},
        connector_grads=all(p.grad is not None
                            for p in algo.distiller.connectors.parameters()),
        student_grads=any(p.grad is not None and bool(p.grad.abs().sum())
                          for p in algo.student.parameters()),
        teacher_grads=any(p.grad is not None
                          for p in algo.teacher.parameters()))


def step_problems(report: Dict) -> List[str]:
    """What a :func:`distill_step` report shows wrong (empty: nothing)."""
    losses = sorted(report['losses'])
    return [problem for problem, wrong in (
        (f'losses {losses}',
         losses != ['distill.loss_attnfd_B', 'distill.loss_attnfd_E']),
        ('non-finite loss',
         not all(math.isfinite(v) for v in report['losses'].values())),
        ('connector without gradient', not report['connector_grads']),
        ('no student gradient', not report['student_grads']),
        ('teacher gradient', report['teacher_grads'])) if wrong]
