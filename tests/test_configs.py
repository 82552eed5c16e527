# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Every config under configs/ builds and trains one step at a tiny size."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.structures import PixelData
from mmrazor.registry import MODELS
from mmseg.structures import SegDataSample

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                       recursive=True))


def _no_pretrained(cfg: Config) -> None:
    """Switch off every download: ImageNet weights and teacher ckpts."""
    model = cfg.model
    if 'teacher_ckpt' in model:
        model.teacher_ckpt = None
    for key in ('architecture', 'teacher'):
        sub = model.get(key)
        if sub is None:
            continue
        if 'cfg_path' in sub:
            sub.pretrained = False
        else:
            sub.pretrained = None
            sub.backbone.pop('init_cfg', None)
    if 'architecture' in model and 'data_preprocessor' in model.architecture:
        model.architecture.data_preprocessor.size = (64, 64)


def _batch(num_classes: int, n: int = 2, size: int = 64):
    inputs = torch.randn(n, 3, size, size)
    samples = []
    for _ in range(n):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, size, size)))
        s.set_metainfo(
            dict(img_shape=(size, size), ori_shape=(size, size),
                 pad_shape=(size, size)))
        samples.append(s)
    return inputs, samples


def test_configs_exist():
    assert 'configs/attnfd/deeplabv3_r101_r18_voc.py' in CONFIGS


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_and_trains_one_step(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    _no_pretrained(cfg)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.train()
    num_classes = model.student.decode_head.num_classes
    inputs, samples = _batch(num_classes)
    losses = model.loss(inputs, samples)
    distill_terms = [k for k in losses if k.startswith('distill.')]
    assert distill_terms, f'{config} computes no distillation loss'
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    for name, p in model.distiller.connectors.named_parameters():
        assert p.grad is not None, name
    assert all(p.grad is None for p in model.teacher.parameters())
