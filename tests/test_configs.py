# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Every config under configs/ builds and trains one step at a tiny size."""
import glob
import os.path as osp

import pytest
from conftest import slow_except
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, DefaultScope
from mmengine.structures import PixelData
from mmseg.registry import DATASETS
from mmseg.structures import SegDataSample

import attnfd_mm  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                       recursive=True) if '/_base_/' not in p)


def _no_pretrained(model: Config) -> Config:
    """Switch off every download (ImageNet weights, teacher checkpoints)."""
    if 'teacher_ckpt' in model:
        model.teacher_ckpt = None
        model.random_teacher = True
        model.teacher.pretrained = False
        _no_pretrained(model.architecture)
        return model
    model.pretrained = None
    model.backbone.pop('init_cfg', None)
    return model


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


def test_config_families_exist():
    names = set(CONFIGS)
    for ds in ('voc', 'cityscapes', 'coco', 'camvid'):
        for pair in ('r18', 'mbv2', 'pspnet_r18'):
            for prefix in ('attnfd/', 'baselines/kd_', 'baselines/cwd_'):
                assert f'configs/{prefix}deeplabv3_r101_{pair}_{ds}.py' \
                    in names
    assert 'configs/attnfd/deeplabv3plus_r101_r18_voc.py' in names
    assert 'configs/attnfd/deeplabv3plus_r101_mbv2_voc.py' in names
    # across model families, with 'auto' layers and logits
    for pair in ('segformer_mit-b5_mit-b0', 'deeplabv3_r101_bisenetv2'):
        for prefix in ('attnfd/', 'baselines/kd_', 'baselines/cwd_'):
            assert f'configs/{prefix}{pair}_cityscapes.py' in names
    # AttnFD + KD next to every AttnFD config
    for name in names:
        if name.startswith('configs/attnfd/'):
            assert name.replace('attnfd/', 'attnfd_kd/attnfd_kd_') in names
    assert len([n for n in names if '/ablations/table5' in n]) == 7
    assert len([n for n in names if '/ablations/table6' in n]) == 5


#: configs also built in the fast subset (`make test-fast`): an AttnFD, an
#: AttnFD + KD and a baseline distillation config; the others are marked slow
FAST_CONFIGS = ('configs/attnfd/deeplabv3_r101_r18_camvid.py',
                'configs/attnfd_kd/attnfd_kd_deeplabv3_r101_r18_camvid.py',
                'configs/baselines/cwd_deeplabv3_r101_r18_camvid.py')


@pytest.mark.parametrize('config', slow_except(CONFIGS, FAST_CONFIGS))
def test_config_builds_and_trains_one_step(config, pooled_weight_init):
    cfg = Config.fromfile(osp.join(ROOT, config))
    dataset = cfg.train_dataloader.dataset
    if dataset.type == 'ConcatDataset':  # VOC + SBD aug
        dataset = dataset.datasets[0]
    classes = (dataset.get('metainfo') or {}).get('classes') or \
        DATASETS.get(dataset.type).METAINFO['classes']
    num_classes = len(classes)
    # as mmengine's Runner does: the top-level data_preprocessor is the
    # model's default
    cfg.model.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = revert_sync_batchnorm(MODELS.build(_no_pretrained(cfg.model)))
    # batches are padded to the training crop
    assert tuple(model.data_preprocessor.size) == tuple(cfg.crop_size)
    model.train()
    distilled = hasattr(model, 'distiller')
    student = model.student if distilled else model
    assert student.decode_head.num_classes == num_classes
    inputs, samples = _batch(num_classes)
    losses = model.loss(inputs, samples)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    if not distilled:
        assert not any(k.startswith('distill.') for k in losses)
        return
    distill_terms = [k for k in losses if k.startswith('distill.')]
    assert distill_terms, f'{config} computes no distillation loss'
    layers = cfg.model.distiller.get('layers')
    if layers is not None:
        want = [f'distill.loss_attnfd_{name}' for name in layers]
        if cfg.model.distiller.get('logits_loss') is not None:
            want.append('distill.' + cfg.model.distiller.get(
                'logits_loss_name', 'loss_kd'))
        assert sorted(distill_terms) == sorted(want)
    for name, p in model.distiller.connectors.named_parameters():
        assert p.grad is not None, name
    assert all(p.grad is None for p in model.teacher.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in student.backbone.parameters())
