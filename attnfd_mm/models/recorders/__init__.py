# Copyright (c) attnfd-mm contributors. All rights reserved.
from .output_element_recorder import OutputElementRecorder, select_element
from .pre_forward_inputs_recorder import PreForwardInputsRecorder

__all__ = [
    'OutputElementRecorder', 'PreForwardInputsRecorder', 'select_element'
]
