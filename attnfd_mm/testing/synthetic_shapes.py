# Copyright (c) attnfd-mm contributors. All rights reserved.
"""A deterministic synthetic dataset of coloured shapes; random batches."""
import os
import os.path as osp
from typing import List, Tuple

import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from PIL import Image
from torch import Tensor

#: Class names; 0 is the background.
SHAPES_CLASSES: Tuple[str, ...] = ('background', 'square', 'disc', 'bar')
SHAPES_PALETTE = [[0, 0, 0], [220, 20, 60], [0, 128, 255], [255, 200, 0]]


def _draw_sample(rng: np.random.Generator,
                 size: int) -> Tuple[np.ndarray, np.ndarray]:
    """One image (H, W, 3) uint8 and its label map (H, W) uint8."""
    yy, xx = np.mgrid[0:size, 0:size]
    background = rng.uniform(40, 200, size=3)
    image = np.broadcast_to(background, (size, size, 3)).copy()
    image += rng.normal(0, 25, size=(size, size, 3))
    label = np.zeros((size, size), np.uint8)
    for _ in range(rng.integers(2, 5)):
        cls = int(rng.integers(1, len(SHAPES_CLASSES)))
        cy, cx = rng.integers(size // 8, size - size // 8, size=2)
        r = int(rng.integers(size // 10, size // 4))
        if cls == 1:
            mask = (abs(yy - cy) <= r) & (abs(xx - cx) <= r)
        elif cls == 2:
            mask = (yy - cy)**2 + (xx - cx)**2 <= r * r
        else:
            mask = (abs(yy - cy) <= r // 3) & (abs(xx - cx) <= 2 * r)
        colour = np.asarray(SHAPES_PALETTE[cls], float) * rng.uniform(
            0.6, 1.0) + rng.normal(0, 20, size=3)
        image[mask] = colour + rng.normal(0, 25, size=(mask.sum(), 3))
        label[mask] = cls
    return np.clip(image, 0, 255).astype(np.uint8), label


def make_synthetic_shapes(root: str, num_train: int = 16, num_val: int = 8,
                          size: int = 64) -> str:
    """Write the dataset (deterministic; existing samples kept) under
    ``root`` (returned) as ``{img,ann}_dir/{train,val}/*.png``."""
    rng = np.random.default_rng(0)
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir = osp.join(root, 'img_dir', split)
        ann_dir = osp.join(root, 'ann_dir', split)
        for folder in (img_dir, ann_dir):
            os.makedirs(folder, exist_ok=True)
        for i in range(count):
            image, label = _draw_sample(rng, size)
            name = f'{split}_{i:04d}.png'
            if not osp.isfile(osp.join(ann_dir, name)):
                Image.fromarray(image).save(osp.join(img_dir, name))
                Image.fromarray(label).save(osp.join(ann_dir, name))
    return root


def random_batch(size: Tuple[int, int]) -> Tuple[Tensor, List]:
    """Two seeded random images, label and edge maps (PIDNet) at ``size``."""
    generator = torch.Generator().manual_seed(0)
    samples = [SegDataSample(
        metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size),
        gt_sem_seg=PixelData(data=torch.randint(
            0, len(SHAPES_CLASSES), (1, *size), generator=generator)),
        gt_edge_map=PixelData(data=torch.randint(
            0, 2, (1, *size), generator=generator))) for _ in range(2)]
    return torch.randn(2, 3, *size, generator=generator), samples
