# Copyright (c) attnfd-mm contributors. All rights reserved.
"""mmseg's IoU metric that also reports the IoU of every class."""
from typing import Dict, List

import torch
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class PerClassIoUMetric(IoUMetric):
    """``IoUMetric`` whose results also hold ``IoU.<class name>`` (in %, NaN
    for a class in neither predictions nor labels, as in mmseg's table) for
    every class: in the JSON logs and ``tools/test.py --metrics-out``.

    Args:
        **kwargs: The arguments of mmseg's ``IoUMetric``.
    """

    def compute_metrics(self, results: List) -> Dict[str, float]:
        """mmseg's summary metrics plus ``IoU.<class>`` of every class."""
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        intersect = sum(r[0] for r in results)
        union = sum(r[1] for r in results)
        iou = intersect.double() / union.double()
        for name, value in zip(self.dataset_meta['classes'], iou):
            metrics[f'IoU.{name}'] = round(float(value) * 100, 2) \
                if torch.isfinite(value) else float('nan')
        return metrics
