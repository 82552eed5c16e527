# Copyright (c) attnfd-mm contributors. All rights reserved.
"""COCO 2017 images labelled with the 21 Pascal VOC classes."""
from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS

from .checked_seg_dataset import CheckedSegDataset


@DATASETS.register_module()
class COCOVOC21Dataset(CheckedSegDataset):
    """COCO-VOC21, the "COCO" of AttnFD and DeepLab: COCO 2017 images with
    21-class VOC label maps drawn by ``tools/dataset_converters/coco_voc21.py``
    under the COCO ``data_root`` (:attr:`LAYOUT`).

    Args:
        check_labels (bool): Scan the label maps at start-up. Defaults to
            False (about 100k files).
        **kwargs: The arguments of ``BaseSegDataset``.
    """

    METAINFO = PascalVOCDataset.METAINFO
    LAYOUT = ('train2017/*.jpg, voc21/annotations/train2017/*.png and '
              'voc21/train2017.txt (run tools/dataset_converters/'
              'coco_voc21.py), the same for val2017')
