# Copyright (c) attnfd-mm contributors. All rights reserved.
"""A named error for a bad image or label file, before the training step."""
from typing import Dict, List, Optional, Set, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.config import ConfigDict
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS
from PIL import Image


class BadSampleError(ValueError):
    """An image or label file that cannot be trained on."""


@TRANSFORMS.register_module()
class CheckSegSample(BaseTransform):
    """Check a sample's files before they are loaded (place it first in the
    pipeline): both decode whole (with Pillow, which refuses a truncated
    file that OpenCV would fill silently), the label map has the image's
    size, and its values, after the dataset's ``label_map`` and
    ``reduce_zero_label``, are classes or ``ignore_index``. A bad sample
    raises :class:`BadSampleError` naming the files and what is wrong, in
    the data loader, before the step, instead of a bare assertion of the
    image loader or a shape or index error deep in the model; with
    ``skip_bad=True`` it is logged and another sample is loaded instead
    (mmengine refetches when a pipeline returns None).

    Each sample's files are checked once per process (each data loader
    worker; persistent workers keep what they checked across epochs): a
    sample that passed is not decoded again, so that the check costs a
    second decoding only in the first epoch.

    ``tools/distill.py`` and ``tools/compare.py`` add it to every pipeline
    of the configs they compose.

    Args:
        num_classes (int): The classes of the labels (after any label map).
        ignore_index (int): The label value ignored by the loss. Defaults
            to 255.
        skip_bad (bool): Log and skip a bad sample instead of raising.
            Defaults to False.
    """

    def __init__(self,
                 num_classes: int,
                 ignore_index: int = 255,
                 skip_bad: bool = False) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.skip_bad = skip_bad
        #: the samples of this process that passed
        self.passed: Set[Tuple] = set()

    def _labels(self, label: np.ndarray, results: Dict) -> np.ndarray:
        """The label values as ``LoadAnnotations`` leaves them."""
        values = np.unique(label).astype(np.int64)
        if results.get('reduce_zero_label'):
            values = np.where(values == 0, 255, values - 1)
            values[values == 254] = 255
        label_map = results.get('label_map') or {}
        return np.unique([label_map.get(int(v), int(v)) for v in values])

    def problems(self, results: Dict) -> List[str]:
        """What is wrong with the sample's files (empty: nothing)."""
        found, arrays = [], {}
        for key in ('img_path', 'seg_map_path'):
            path = results.get(key)
            if path is None:
                continue
            try:
                with Image.open(path) as image:
                    image.load()
                    arrays[key] = np.asarray(image)
            except (OSError, SyntaxError, ValueError) as err:
                found.append(f'{path} does not decode ({err})')
        if found or 'seg_map_path' not in arrays:
            return found
        label = arrays['seg_map_path']
        seg_path = results['seg_map_path']
        if 'img_path' in arrays:
            image = arrays['img_path']
            if image.shape[:2] != label.shape[:2]:
                found.append(
                    f'{seg_path} is {label.shape[0]}x{label.shape[1]} but '
                    f'its image {results["img_path"]} is '
                    f'{image.shape[0]}x{image.shape[1]}')
        outside = [int(v) for v in self._labels(label, results)
                   if not (0 <= v < self.num_classes
                           or v == self.ignore_index)]
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


def _pipelines(dataset: Dict):
    """Every pipeline of ``dataset`` and of the datasets it wraps."""
    if isinstance(dataset, (list, tuple)):
        for d in dataset:
            yield from _pipelines(d)
    elif isinstance(dataset, dict):
        if isinstance(dataset.get('pipeline'), list):
            yield dataset['pipeline']
        yield from _pipelines(dataset.get('dataset'))
        yield from _pipelines(dataset.get('datasets'))


def add_sample_checks(cfg,
                      num_classes: int,
                      ignore_index: int = 255,
                      skip_bad: bool = False) -> None:
    """Insert :class:`CheckSegSample` first in every pipeline of ``cfg``'s
    dataloaders that loads annotations and has no check yet (``skip_bad``:
    bad samples are logged and skipped)."""
    check = dict(type='CheckSegSample', num_classes=num_classes,
                 ignore_index=ignore_index, skip_bad=skip_bad)
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader', None)
        if not loader:
            continue
        for pipeline in _pipelines(loader.get('dataset')):
            types = [t.get('type') for t in pipeline]
            if 'CheckSegSample' in types or 'LoadAnnotations' not in types:
                continue
            pipeline.insert(0, ConfigDict(check))
