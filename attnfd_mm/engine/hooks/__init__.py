# Copyright (c) attnfd-mm contributors. All rights reserved.
from .connector_warmup_hook import ConnectorWarmupHook
from .random_state_hook import RandomStateHook
from .step_time_hook import StepTimeHook
from .student_cost_hook import StudentCostHook
from .student_export_hook import StudentExportHook

__all__ = ['ConnectorWarmupHook', 'RandomStateHook', 'StepTimeHook',
           'StudentCostHook', 'StudentExportHook']
