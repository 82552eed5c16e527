# Copyright (c) attnfd-mm contributors. All rights reserved.
"""CamVid in the SegNet layout, as distributed."""
import os
import os.path as osp
from typing import Dict, List

from mmseg.registry import DATASETS

from .checked_seg_dataset import CheckedSegDataset


@DATASETS.register_module()
class CamVidDataset(CheckedSegDataset):
    """CamVid (`Brostow et al. 2009
    <http://mi.eng.cam.ac.uk/research/projects/VideoRec/CamVid/>`_) in the
    SegNet layout: 11 classes, 360x480 images, label 11 = void (ignored).

    ``data_root`` holds :attr:`LAYOUT`; ``{split}.txt`` (SegNet's list: only
    the file names are used) or else every PNG of ``{split}/`` is the split.

    Args:
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        check_labels (bool): Scan the label maps at start-up. Defaults to True.
        **kwargs: The arguments of ``BaseSegDataset`` but those the layout
            fixes (``data_prefix``, ``ann_file``, the suffixes).
    """

    METAINFO = dict(
        classes=('sky', 'building', 'pole', 'road', 'sidewalk', 'tree',
                 'sign_symbol', 'fence', 'car', 'pedestrian', 'bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128],
                 [128, 64, 128], [60, 40, 222], [128, 128, 0],
                 [192, 128, 128], [64, 64, 128], [64, 0, 128],
                 [64, 64, 0], [0, 128, 192]])
    LAYOUT = ('{split}/*.png, {split}annot/*.png and optionally {split}.txt '
              '(SegNet layout)')
    VOID_LABEL = 11

    def __init__(self,
                 split: str = 'train',
                 check_labels: bool = True,
                 **kwargs) -> None:
        self.split = split
        super().__init__(
            data_prefix=dict(img_path=split, seg_map_path=f'{split}annot'),
            ann_file=f'{split}.txt',
            img_suffix='.png',
            seg_map_suffix='.png',
            check_labels=check_labels,
            void_labels=(self.VOID_LABEL, ),
            **kwargs)

    def list_samples(self) -> List[Dict]:
        """List the split from ``{split}.txt`` or from ``{split}/``."""
        img_dir = self.data_prefix['img_path']
        ann_dir = self.data_prefix['seg_map_path']
        if osp.isfile(self.ann_file):
            with open(self.ann_file) as f:
                names = [osp.basename(line.split()[0]) for line in f
                         if line.strip()]
        else:
            names = sorted(n for n in os.listdir(img_dir)
                           if n.endswith(self.img_suffix))
        return [
            dict(img_path=osp.join(img_dir, name),
                 seg_map_path=osp.join(ann_dir, name),
                 label_map=self.label_map,
                 reduce_zero_label=self.reduce_zero_label,
                 seg_fields=[]) for name in names
        ]
