# Copyright (c) attnfd-mm contributors. All rights reserved.
from .connector_warmup_hook import ConnectorWarmupHook
from .random_state_hook import RandomStateHook
from .step_time_hook import StepTimeHook

__all__ = ['ConnectorWarmupHook', 'RandomStateHook', 'StepTimeHook']
