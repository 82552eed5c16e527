# Copyright (c) attnfd-mm contributors. All rights reserved.
"""tools/dataset_converters/coco_voc21.py on a tiny COCO file it writes."""
import json
import os
import os.path as osp

import numpy as np
from conftest import run_tool
from PIL import Image

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _square(x0, y0, size):
    return [[x0, y0, x0 + size, y0, x0 + size, y0 + size, x0, y0 + size]]


def test_converter_draws_voc_classes_first_wins_and_filters(tmp_path):
    coco = tmp_path / 'coco'
    os.makedirs(coco / 'annotations')
    images = [
        dict(id=1, file_name='000000000001.jpg', height=60, width=80),
        dict(id=2, file_name='000000000002.jpg', height=60, width=80),
        dict(id=3, file_name='000000000003.jpg', height=60, width=80),
    ]
    anns = [
        # image 1: person (COCO 1 -> VOC 15) drawn first, then a dog
        # (COCO 18 -> VOC 12) overlapping it, then a non-VOC category
        dict(id=1, image_id=1, category_id=1, iscrowd=0,
             segmentation=_square(0, 0, 40), area=1600, bbox=[0, 0, 40, 40]),
        dict(id=2, image_id=1, category_id=18, iscrowd=0,
             segmentation=_square(20, 20, 40), area=1600,
             bbox=[20, 20, 40, 40]),
        dict(id=3, image_id=1, category_id=10, iscrowd=0,
             segmentation=_square(60, 0, 15), area=225, bbox=[60, 0, 15, 15]),
        # image 2: a 30x30 car (900 px <= 1000): dropped
        dict(id=4, image_id=2, category_id=3, iscrowd=0,
             segmentation=_square(0, 0, 30), area=900, bbox=[0, 0, 30, 30]),
        # image 3: a crowd of people as uncompressed RLE, columns 0-39
        dict(id=5, image_id=3, category_id=1, iscrowd=1,
             segmentation=dict(counts=[0, 60 * 40, 60 * 40], size=[60, 80]),
             area=2400, bbox=[0, 0, 40, 60]),
    ]
    cats = [dict(id=i, name=str(i)) for i in (1, 3, 10, 18)]
    with open(coco / 'annotations' / 'instances_val2017.json', 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=cats), f)

    out = run_tool([
        'tools/dataset_converters/coco_voc21.py', str(coco), '--splits',
        'val2017'
    ], cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'val2017: kept 2 images' in out.stdout
    kept = (coco / 'voc21' / 'val2017.txt').read_text().split()
    assert kept == ['000000000001', '000000000003']
    ann_dir = coco / 'voc21' / 'annotations' / 'val2017'
    assert not (ann_dir / '000000000002.png').exists()

    mask = np.array(Image.open(ann_dir / '000000000001.png'))
    assert mask.shape == (60, 80) and mask.dtype == np.uint8
    assert mask[10, 10] == 15  # person only
    assert mask[30, 30] == 15  # overlap: the first drawn (person) keeps it
    assert mask[50, 50] == 12  # dog only
    assert mask[5, 70] == 0  # category 10 is not a VOC class
    assert set(np.unique(mask)) == {0, 12, 15}

    crowd = np.array(Image.open(ann_dir / '000000000003.png'))
    assert (crowd[:, :40] == 15).all() and (crowd[:, 40:] == 0).all()


def test_converter_missing_annotations(tmp_path):
    out = run_tool(['tools/dataset_converters/coco_voc21.py',
                    str(tmp_path)], cwd=ROOT)
    assert out.returncode != 0
    assert 'instances_train2017.json' in out.stderr
