# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Random training batches for tests."""
from typing import List, Tuple

import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import Tensor

from .synthetic_shapes import SHAPES_CLASSES


def random_batch(size: Tuple[int, int],
                 num_classes: int = len(SHAPES_CLASSES),
                 n: int = 2) -> Tuple[Tensor, List]:
    """``n`` random images, label maps and edge maps (PIDNet's boundary
    loss reads ``gt_edge_map``) at ``size``, seeded."""
    generator = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(n):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.randint(
            0, num_classes, (1, *size), generator=generator))
        sample.gt_edge_map = PixelData(
            data=torch.randint(0, 2, (1, *size), generator=generator))
        sample.set_metainfo(
            dict(img_shape=size, ori_shape=size, pad_shape=size))
        samples.append(sample)
    return torch.randn(n, 3, *size, generator=generator), samples
