# Copyright (c) attnfd-mm contributors. All rights reserved.
from .camvid import CamVidDataset
from .check_seg_sample import BadSampleError, CheckSegSample
from .checked_seg_dataset import CheckedSegDataset
from .coco_voc21 import COCOVOC21Dataset

__all__ = [
    'BadSampleError', 'CamVidDataset', 'CheckSegSample', 'CheckedSegDataset',
    'COCOVOC21Dataset'
]
