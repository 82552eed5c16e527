# Copyright (c) attnfd-mm contributors. All rights reserved.
"""PerClassIoUMetric adds IoU.<class> to mmseg's summary metrics."""
import math

import torch
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample


def test_per_class_iou_values():
    metric = METRICS.build(dict(type='PerClassIoUMetric'))
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    gt = torch.tensor([[0, 0, 1, 1]])
    pred = torch.tensor([[0, 1, 1, 1]])
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=gt)
    sample.pred_sem_seg = PixelData(data=pred)
    metric.process([], [sample.to_dict()])
    results = metric.compute_metrics(metric.results)
    assert results['IoU.a'] == 50.0  # 1 / 2
    assert results['IoU.b'] == round(100 * 2 / 3, 2)
    assert math.isnan(results['IoU.c'])  # absent from both
    assert results['mIoU'] == round((50.0 + 100 * 2 / 3) / 2, 2)
