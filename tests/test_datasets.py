# Copyright (c) attnfd-mm contributors. All rights reserved.
"""CamVidDataset (SegNet layout) and COCOVOC21Dataset: listing, void label,
named errors for missing/empty roots and bad label values."""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS
from PIL import Image

LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]


def _build(cfg):
    """Build a dataset (and its pipeline) in mmseg's scope."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg)


def _write_camvid(root: str, split: str, labels, with_txt: bool = True):
    os.makedirs(osp.join(root, split), exist_ok=True)
    os.makedirs(osp.join(root, f'{split}annot'), exist_ok=True)
    lines = []
    for i, label in enumerate(labels):
        name = f'0001TP_{i:06d}.png'
        Image.fromarray(np.full((6, 8, 3), 40 * i, np.uint8)).save(
            osp.join(root, split, name))
        Image.fromarray(np.asarray(label, np.uint8)).save(
            osp.join(root, f'{split}annot', name))
        lines.append(f'/SegNet/CamVid/{split}/{name} '
                     f'/SegNet/CamVid/{split}annot/{name}\n')
    if with_txt:
        with open(osp.join(root, f'{split}.txt'), 'w') as f:
            f.writelines(lines)


def _label(values):
    label = np.zeros((6, 8), np.uint8)
    label.flat[:len(values)] = values
    return label


def test_camvid_reads_segnet_layout_and_ignores_void(tmp_path):
    root = str(tmp_path)
    _write_camvid(root, 'train', [_label([3, 11, 10]), _label([1, 2])])
    dataset = _build(
        dict(type='CamVidDataset', data_root=root, split='train',
             pipeline=LOAD))
    assert len(dataset) == 2
    assert len(dataset.metainfo['classes']) == 11
    assert dataset[0]['img_path'].endswith('train/0001TP_000000.png')
    seg = dataset[0]['gt_seg_map']
    assert seg.flat[0] == 3 and seg.flat[2] == 10
    assert seg.flat[1] == 255  # void (11) -> ignore index
    assert 11 not in np.unique(seg)


def test_camvid_without_txt_lists_the_folder(tmp_path):
    root = str(tmp_path)
    _write_camvid(root, 'test', [_label([1]), _label([2]), _label([3])],
                  with_txt=False)
    dataset = _build(
        dict(type='CamVidDataset', data_root=root, split='test'))
    assert len(dataset) == 3


def test_camvid_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        _build(dict(type='CamVidDataset',
                    data_root=str(tmp_path / 'nope'), split='val'))
    msg = str(err.value)
    assert 'nope/val' in msg and 'SegNet layout' in msg and 'data_root' in msg


def test_camvid_empty_root(tmp_path):
    os.makedirs(tmp_path / 'val')
    os.makedirs(tmp_path / 'valannot')
    with pytest.raises(FileNotFoundError, match='no samples found'):
        _build(dict(type='CamVidDataset', data_root=str(tmp_path),
                    split='val'))


def test_camvid_label_out_of_range_names_file_and_values(tmp_path):
    root = str(tmp_path)
    _write_camvid(root, 'train', [_label([1, 2]), _label([4, 12, 40])])
    with pytest.raises(ValueError) as err:
        _build(dict(type='CamVidDataset', data_root=root))
    msg = str(err.value)
    assert 'trainannot/0001TP_000001.png: [12, 40]' in msg
    assert '0001TP_000000' not in msg
    assert '11 classes' in msg


def test_coco_voc21_dataset_layout(tmp_path):
    root = tmp_path
    for sub in ('train2017', 'voc21/annotations/train2017'):
        os.makedirs(root / sub)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(
        root / 'train2017' / '000000000001.jpg')
    Image.fromarray(np.full((4, 4), 15, np.uint8)).save(
        root / 'voc21/annotations/train2017' / '000000000001.png')
    (root / 'voc21' / 'train2017.txt').write_text('000000000001\n')
    cfg = dict(
        type='COCOVOC21Dataset',
        data_root=str(root),
        data_prefix=dict(
            img_path='train2017', seg_map_path='voc21/annotations/train2017'),
        ann_file='voc21/train2017.txt',
        pipeline=LOAD)
    dataset = _build(cfg)
    assert len(dataset) == 1 and len(dataset.metainfo['classes']) == 21
    assert dataset[0]['gt_seg_map'].max() == 15
    Image.fromarray(np.full((4, 4), 30, np.uint8)).save(
        root / 'voc21/annotations/train2017' / '000000000001.png')
    with pytest.raises(ValueError, match=r'000000000001.png: \[30\]'):
        _build(dict(cfg, check_labels=True))
    with pytest.raises(FileNotFoundError, match='coco_voc21.py'):
        _build(dict(cfg, data_root=str(root / 'missing')))
