# Copyright (c) attnfd-mm contributors. All rights reserved.
"""A named error for a bad image or label file, before the training step."""
import os.path as osp
from typing import Dict, List, Optional, Set, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS
from PIL import Image


class BadSampleError(ValueError):
    """An image or label file that cannot be trained on."""


def labels_outside(label: np.ndarray, info: Dict, num_classes: int,
                   ignore_index: int) -> List[int]:
    """The values of ``label`` that, after the ``reduce_zero_label`` and
    ``label_map`` of ``info``, are neither a class nor ``ignore_index``."""
    values = np.flatnonzero(np.bincount(label.ravel())) \
        if label.dtype == np.uint8 else np.unique(label).astype(np.int64)
    if info.get('reduce_zero_label'):
        values = np.where(values == 0, 255, values - 1)
        values[values == 254] = 255
    label_map = info.get('label_map') or {}
    mapped = np.array([label_map.get(int(v), int(v)) for v in values],
                      np.int64)
    valid = ((mapped >= 0) & (mapped < num_classes)) | (
        mapped == ignore_index)
    return [int(v) for v in np.unique(mapped[~valid])]


@TRANSFORMS.register_module()
class CheckSegSample(BaseTransform):
    """Check a sample's files first in the pipeline, once per process: the
    image is whole, the label map decodes, has its size and holds only
    classes and ``ignore_index``. A bad sample raises :class:`BadSampleError`
    or, with ``skip_bad``, is logged and skipped (the pipeline returns None).

    Args:
        num_classes (int): The classes of the labels (after any label map).
        ignore_index (int): The label ignored by the loss. Defaults to 255.
        skip_bad (bool): Log and skip bad samples. Defaults to False.
    """

    def __init__(self,
                 num_classes: int,
                 ignore_index: int = 255,
                 skip_bad: bool = False) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.skip_bad = skip_bad
        self.passed: Set[Tuple] = set()

    def problems(self, results: Dict) -> List[str]:
        """What is wrong with the sample's files (empty: nothing)."""
        found, sizes, label = [], {}, None
        for key in ('img_path', 'seg_map_path'):
            path = results.get(key)
            if path is None:
                continue
            try:
                with Image.open(path) as image:
                    sizes[key] = image.size[::-1]  # (height, width)
                    if key == 'seg_map_path':
                        label = np.asarray(image)
                    else:
                        _check_whole(image, path)
            except (OSError, SyntaxError, ValueError) as err:
                found.append(f'{path} does not decode ({err})')
        if found or label is None:
            return found
        seg_path = results['seg_map_path']
        if 'img_path' in sizes and sizes['img_path'] != label.shape[:2]:
            found.append(
                f'{seg_path} is {label.shape[0]}x{label.shape[1]} but '
                f'its image {results["img_path"]} is '
                f'{sizes["img_path"][0]}x{sizes["img_path"][1]}')
        outside = labels_outside(label, results, self.num_classes,
                                 self.ignore_index)
        if outside:
            found.append(
                f'{seg_path} holds label values {outside[:10]} outside the '
                f'{self.num_classes} classes [0, {self.num_classes - 1}] and '
                f'the ignore index {self.ignore_index}')
        return found

    def transform(self, results: Dict) -> Optional[Dict]:
        key = (results.get('img_path'), results.get('seg_map_path'),
               bool(results.get('reduce_zero_label')))
        if key in self.passed:
            return results
        found = self.problems(results)
        if not found:
            self.passed.add(key)
            return results
        message = 'Bad sample: ' + '; '.join(found) + '.'
        if self.skip_bad:
            print_log(message + ' Skipped (skip_bad=True).', logger='current',
                      level=30)  # WARNING
            return None
        raise BadSampleError(
            message + ' Fix or remove the file, or skip such samples: '
            '--skip-bad-samples with tools/distill.py and tools/compare.py '
            '(skip_bad=True on CheckSegSample in a config).')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index}, '
                f'skip_bad={self.skip_bad})')


#: A PNG's IEND chunk with its CRC, a JPEG's end-of-image marker.
_END_MARKERS = {'PNG': b'IEND\xaeB`\x82', 'JPEG': b'\xff\xd9'}


def _check_whole(image: Image.Image, path: str) -> None:
    """Raise ``OSError`` unless a PNG/JPEG ends with its marker (OpenCV fills
    a truncated JPEG silently) or an image of another format decodes."""
    marker = _END_MARKERS.get(image.format)
    if marker is None:
        image.load()
        return
    with open(path, 'rb') as f:
        f.seek(max(0, osp.getsize(path) - 1024))  # the file's last 1 KiB
        if marker not in f.read():
            raise OSError(f'the {image.format} file is truncated: no end '
                          'marker')
