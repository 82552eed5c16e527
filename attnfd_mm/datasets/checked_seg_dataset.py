# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Base of the plugin's datasets: named errors for bad roots and labels."""
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np
from mmseg.datasets import BaseSegDataset
from PIL import Image

from .check_seg_sample import labels_outside


class CheckedSegDataset(BaseSegDataset):
    """``BaseSegDataset`` whose errors name a missing folder or no samples
    (``FileNotFoundError``, with the expected :attr:`LAYOUT`) and, with
    ``check_labels``, label values outside the classes (``ValueError``).

    Args:
        check_labels (bool): Scan the label maps at start-up. Defaults to
            False.
        void_labels (Sequence[int]): Raw label values mapped to
            ``ignore_index``.
        **kwargs: The arguments of ``BaseSegDataset``.
    """

    LAYOUT = 'img_dir/ and ann_dir/'

    def __init__(self,
                 *args,
                 check_labels: bool = False,
                 void_labels: Sequence[int] = (),
                 **kwargs) -> None:
        self.check_labels = check_labels
        self.void_labels = tuple(void_labels)
        super().__init__(*args, **kwargs)

    def _check_dir(self, path: str, what: str) -> None:
        if not osp.isdir(path):
            raise FileNotFoundError(
                f'{type(self).__name__}: {what} folder {path!r} does not '
                f'exist. Expected under data_root={self.data_root!r}: '
                f'{self.LAYOUT}. Set data_root (e.g. --cfg-options '
                'train_dataloader.dataset.data_root=PATH) to the dataset.')

    def load_data_list(self) -> List[Dict]:
        """Check the folders, list the samples, check and map the labels."""
        self._check_dir(self.data_prefix.get('img_path', ''), 'image')
        if self.data_prefix.get('seg_map_path'):
            self._check_dir(self.data_prefix['seg_map_path'], 'label')
        data_list = self.list_samples()
        if not data_list:
            raise FileNotFoundError(
                f'{type(self).__name__}: no samples found under '
                f'{self.data_prefix.get("img_path")!r} (image suffix '
                f'{self.img_suffix!r}, ann_file {self.ann_file!r}). Expected '
                f'under data_root: {self.LAYOUT}.')
        if self.void_labels:
            label_map = {**(self.label_map or {}), **dict.fromkeys(
                self.void_labels, self.ignore_index)}
            for info in data_list:
                info['label_map'] = label_map
        if self.check_labels:
            self.check_label_files(data_list)
        return data_list

    def check_label_files(self, data_list: List[Dict]) -> None:
        """Raise a ``ValueError`` naming label maps with values not allowed."""
        num_classes, bad = len(self.metainfo['classes']), []
        for info in data_list:
            if info.get('seg_map_path') is None:
                continue
            with Image.open(info['seg_map_path']) as image:
                outside = labels_outside(np.asarray(image), info, num_classes,
                                         self.ignore_index)
            if outside:
                bad.append(f"{info['seg_map_path']}: {outside}")
        if bad:
            raise ValueError(
                f'{len(bad)} label maps hold values outside the {num_classes} '
                f'classes [0, {num_classes - 1}] and the ignored values '
                f'{sorted(self.void_labels + (self.ignore_index, ))}: ' +
                '; '.join(bad[:5]) + ('; ...' if len(bad) > 5 else '') +
                '. Relabel these files or point data_root at the dataset as '
                'distributed.')

    def list_samples(self) -> List[Dict]:
        """The samples of the dataset's folders (``BaseSegDataset``'s)."""
        return super().load_data_list()
