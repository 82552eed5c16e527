# Copyright (c) attnfd-mm contributors. All rights reserved.
from .output_element_recorder import OutputElementRecorder
from .pre_forward_inputs_recorder import PreForwardInputsRecorder

__all__ = ['OutputElementRecorder', 'PreForwardInputsRecorder']
