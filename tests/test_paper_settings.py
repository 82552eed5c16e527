# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The paper's training settings, asserted for every config of
configs/attnfd/, configs/attnfd_kd/ and configs/baselines/.

The expected values are written here from the paper's settings (SGD with
Nesterov momentum 0.9, weight decay 5e-4, poly LR, heads and connectors at
10x; VOC aug 50 epochs at LR 0.007, batch 6; Cityscapes 200 epochs at LR
0.01; COCO-VOC21 30 epochs at LR 0.1; CamVid 200 epochs at LR 0.01, batch
8, the documented protocol) and from the dataset sizes, not read from the
configs' own bases. The configs across model families keep the student's
stock mmseg schedule, compared with that mmseg config.
"""
import glob
import math
import os.path as osp

import pytest
from conftest import slow_except
from mmengine.config import Config
from mmengine.hub import get_config

import attnfd_mm  # noqa: F401  (attnfd_mm:: and mmseg:: bases)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: training images of each dataset
IMAGES = dict(voc=10582, cityscapes=2975, camvid=367)
#: dataset -> (LR, schedule, images per GPU x GPUs, crop, classes); the
#: schedule in iterations = ceil(images x epochs / batch), or epochs
PROTOCOLS = dict(
    voc=(0.007, math.ceil(IMAGES['voc'] * 50 / 6), (3, 2), (512, 512), 21),
    cityscapes=(0.01, math.ceil(IMAGES['cityscapes'] * 200 / 6), (3, 2),
                (512, 1024), 19),
    coco=(0.1, 30, (3, 2), (512, 512), 21),
    camvid=(0.01, IMAGES['camvid'] * 200 // 8, (2, 4), (360, 480), 11),
)
#: cross-family pairs: the student's stock mmseg config
STOCK = {
    'bisenetv2': 'mmseg::bisenetv2/bisenetv2_fcn_4xb4-160k_cityscapes-'
    '1024x1024.py',
    'segformer_mit-b5_mit-b0': 'mmseg::segformer/segformer_mit-b0_8xb1-'
    '160k_cityscapes-1024x1024.py',
}
CONFIGS = sorted(
    osp.relpath(p, ROOT) for folder in ('attnfd', 'attnfd_kd', 'baselines')
    for p in glob.glob(osp.join(ROOT, 'configs', folder, '*.py')))


def _dataset(name: str) -> str:
    return osp.splitext(name)[0].rsplit('_', 1)[1]


def _stock(name: str):
    return next((v for k, v in STOCK.items() if k in name), None)


#: checked in the fast subset too (loading every config takes a minute)
FAST = ('configs/attnfd/deeplabv3_r101_r18_camvid.py',
        'configs/attnfd_kd/attnfd_kd_deeplabv3plus_r101_r18_voc.py',
        'configs/baselines/kd_deeplabv3_r101_r18_cityscapes.py')


@pytest.mark.parametrize('config', slow_except(CONFIGS, FAST))
def test_settings_are_the_papers(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    check_schedule(config, cfg)
    check_losses_and_layers(config, cfg)


def check_schedule(config: str, cfg: Config) -> None:
    optimizer = cfg.optim_wrapper.optimizer
    stock = _stock(config)
    if stock is not None:
        ref = get_config(stock)
        assert cfg.train_cfg.max_iters == ref.train_cfg.max_iters
        assert optimizer.lr == ref.optim_wrapper.optimizer.lr
        assert optimizer.type == ref.optim_wrapper.optimizer.type
        assert cfg.train_dataloader.batch_size == \
            ref.train_dataloader.batch_size
        assert tuple(cfg.crop_size) == tuple(ref.crop_size)
        return
    lr, length, (per_gpu, gpus), crop, _ = PROTOCOLS[_dataset(config)]
    assert optimizer.lr == lr
    assert (optimizer.type, optimizer.momentum, optimizer.nesterov,
            optimizer.weight_decay) == ('SGD', 0.9, True, 5e-4)
    loop = cfg.train_cfg
    assert loop.get('max_iters', loop.get('max_epochs')) == length
    assert cfg.train_dataloader.batch_size == per_gpu
    # the total batch the LR is given for (per GPU x the protocol's GPUs)
    assert cfg.auto_scale_lr.base_batch_size == per_gpu * gpus
    assert tuple(cfg.crop_size) == crop
    (poly, ) = cfg.param_scheduler
    assert (poly.type, poly.power, poly.eta_min) == ('PolyLR', 0.9, 0.)
    keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
    for part in ('decode_head', 'auxiliary_head', 'distiller.connectors'):
        assert keys[part] == dict(lr_mult=10.)


def check_losses_and_layers(config: str, cfg: Config) -> None:
    model = cfg.model
    name = osp.basename(config)
    classes = 19 if _stock(config) else PROTOCOLS[_dataset(config)][4]
    if 'distiller' not in model:  # a student alone
        assert name.startswith(('deeplabv3', 'pspnet'))
        assert model.decode_head.num_classes == classes
        return
    assert model.type == 'FrozenTeacherDistill'
    distiller = model.distiller
    layers = ['B', 'E', 'D'] if 'deeplabv3plus' in name else ['B', 'E']
    kd = dict(type='PixelKLDivergence', tau=1.0)
    if config.startswith('configs/attnfd/'):
        assert distiller.type == 'AttnFDDistiller'
        assert distiller.layers == layers
        assert distiller.loss == dict(type='AttnFDLoss', loss_weight=2.0,
                                      normalize='batch')
        assert 'logits_loss' not in distiller
    elif config.startswith('configs/attnfd_kd/'):
        assert distiller.layers == layers
        assert distiller.loss == dict(type='AttnFDLoss', loss_weight=8.0,
                                      normalize='sample')
        assert distiller.logits_loss == kd
    elif name.startswith('kd_'):
        assert (distiller.type, distiller.loss_name) == ('LogitsDistiller',
                                                         'loss_kd')
        assert distiller.loss == kd
    else:
        assert name.startswith('cwd_')
        assert distiller.loss == dict(type='ChannelWiseDivergence', tau=1,
                                      loss_weight=5)


def test_attnfd_loss_defaults_are_the_authors():
    from attnfd_mm.models import AttnFDDistiller, AttnFDLoss
    loss = AttnFDLoss()
    assert (loss.loss_weight, loss.normalize) == (2.0, 'batch')
    distiller = AttnFDDistiller(student_layers='deeplabv3_r18',
                                teacher_layers='deeplabv3_r101')
    assert distiller.loss_cfg == dict(type='AttnFDLoss', loss_weight=2.0,
                                      detach_teacher=True)
