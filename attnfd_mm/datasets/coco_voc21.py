# Copyright (c) attnfd-mm contributors. All rights reserved.
"""COCO 2017 images labelled with the 21 Pascal VOC classes."""
from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS

from .checked_seg_dataset import CheckedSegDataset


@DATASETS.register_module()
class COCOVOC21Dataset(CheckedSegDataset):
    """COCO-VOC21, the "COCO" of AttnFD and of the DeepLab papers: COCO 2017
    images whose instance masks of the 20 VOC categories are drawn into
    21-class label maps (0 = background) by
    ``tools/dataset_converters/coco_voc21.py``.

    ``data_root`` is the COCO root, laid out as :attr:`LAYOUT` says
    (``voc21/{split}.txt``: the image names the converter kept).

    Args:
        check_labels (bool): Scan every label map at start-up for values
            outside 0-20 and 255. Defaults to False (about 100k files).
        **kwargs: The arguments of ``BaseSegDataset``.
    """

    METAINFO = PascalVOCDataset.METAINFO
    LAYOUT = ('train2017/*.jpg, voc21/annotations/train2017/*.png and '
              'voc21/train2017.txt (run tools/dataset_converters/'
              'coco_voc21.py), the same for val2017')
