# Copyright (c) attnfd-mm contributors. All rights reserved.
"""What ``CheckSegSample`` costs the data pipeline: samples per second of
mmseg's Cityscapes training pipeline with and without it.

    python tools/benchmarks/sample_check.py [--images 16] [--epochs 5] \
        [--size 2048 1024] [--work-dir work_dirs/benchmarks/sample_check]

Writes ``--images`` synthetic image/label pairs of ``--size`` (width
height; Cityscapes' by default: smooth RGB images and blocky 19-class labels
as PNG) and loads each through the pipeline of mmseg's Cityscapes configs
(load, random resize, 512x1024 crop, flip, photometric distortion, pack),
``--epochs`` times without the check and with it in front, alternately, in
this process (one data loader worker). The check reads a sample's files
only the first time it sees them, so its cost is in the first epoch.
"""
import argparse
import copy
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
from PIL import Image

CROP = (512, 1024)


def make_images(root: str, count: int, size: Tuple[int, int]) -> List[Dict]:
    """``count`` image/label pairs of ``size`` (width, height) under
    ``root`` (reused when there); their sample dicts."""
    os.makedirs(root, exist_ok=True)
    rng = np.random.default_rng(0)
    width, height = size
    samples = []
    for i in range(count):
        img, seg = (osp.join(root, f'{i:03d}_{kind}.png')
                    for kind in ('image', 'label'))
        if not (osp.isfile(img) and osp.isfile(seg)):
            y, x = np.mgrid[0:height, 0:width]
            image = np.stack([(x * (c + 1) // 7 + y // 5 + rng.integers(
                0, 16, (height, width))) % 256 for c in range(3)],
                axis=-1).astype(np.uint8)
            blocks = rng.integers(0, 19, (height // 64 + 1, width // 64 + 1))
            label = blocks[y // 64, x // 64].astype(np.uint8)
            Image.fromarray(image).save(img)
            Image.fromarray(label).save(seg)
        samples.append(dict(img_path=img, seg_map_path=seg, label_map=None,
                            reduce_zero_label=False, seg_fields=[]))
    return samples


def pipeline(check: bool):
    """mmseg's Cityscapes training pipeline, with ``CheckSegSample``
    first when ``check``."""
    from mmcv.transforms import Compose
    from mmengine.registry import DefaultScope

    import attnfd_mm  # noqa: F401  (registers CheckSegSample)
    steps = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0),
             keep_ratio=True),
        dict(type='RandomCrop', crop_size=CROP, cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'),
        dict(type='PackSegInputs')
    ]
    if check:
        steps.insert(0, dict(type='CheckSegSample', num_classes=19))
    with DefaultScope.overwrite_default_scope('mmseg'):
        return Compose(steps)


def epoch_rates(samples: List[Dict],
                epochs: int) -> Tuple[List[float], List[float]]:
    """Samples per second of each epoch through :func:`pipeline` without
    and with the check, the two epochs of each round run one after the
    other (so that other load on the machine hits both alike)."""
    transforms = pipeline(False), pipeline(True)
    rates: Tuple[List[float], List[float]] = ([], [])
    for _ in range(epochs):
        for transform, out in zip(transforms, rates):
            start = time.perf_counter()
            for sample in samples:
                transform(copy.deepcopy(sample))
            out.append(len(samples) / (time.perf_counter() - start))
    return rates


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=16)
    parser.add_argument('--epochs', type=int, default=5)
    parser.add_argument('--size', type=int, nargs=2, default=(2048, 1024),
                        metavar=('WIDTH', 'HEIGHT'))
    parser.add_argument('--work-dir',
                        default='work_dirs/benchmarks/sample_check')
    args = parser.parse_args(argv)
    samples = make_images(osp.join(args.work_dir, 'data'), args.images,
                          tuple(args.size))
    pipeline(False)(copy.deepcopy(samples[0]))  # warm-up: imports, a decode
    plain, checked = epoch_rates(samples, args.epochs)
    width, height = args.size
    print(f'{args.images} images {width}x{height}, {args.epochs} epochs, '
          'samples/s per epoch:')
    print('| pipeline | ' + ' | '.join(
        f'epoch {i + 1}' for i in range(args.epochs)) + ' | all epochs |')
    print('|---|' + '---|' * (args.epochs + 1))
    for name, rates in (('without CheckSegSample', plain),
                        ('with CheckSegSample', checked)):
        total = args.epochs * args.images / sum(
            args.images / r for r in rates)
        print(f'| {name} | ' + ' | '.join(f'{r:.2f}' for r in rates) +
              f' | {total:.2f} |')
    later = sum(checked[1:]) / max(1, len(checked) - 1)
    later_plain = sum(plain[1:]) / max(1, len(plain) - 1)
    print(f'after the first epoch the check costs '
          f'{100 * (1 - later / later_plain):+.1f} % of the throughput; in '
          f'the first {100 * (1 - checked[0] / plain[0]):+.1f} %')


if __name__ == '__main__':
    main()
