# Copyright (c) attnfd-mm contributors. All rights reserved.
from .per_class_iou_metric import PerClassIoUMetric

__all__ = ['PerClassIoUMetric']
