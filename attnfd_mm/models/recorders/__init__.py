# Copyright (c) attnfd-mm contributors. All rights reserved.
from .pre_forward_inputs_recorder import PreForwardInputsRecorder

__all__ = ['PreForwardInputsRecorder']
