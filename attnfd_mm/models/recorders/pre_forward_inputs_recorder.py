# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Recorder of a module's inputs taken before the module runs."""
from typing import Any, Optional, Sequence, Tuple

from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
from mmrazor.registry import TASK_UTILS
from torch import Tensor, nn


@TASK_UTILS.register_module()
class PreForwardInputsRecorder(ModuleOutputsRecorder):
    """Record copies of a module's inputs in a forward *pre*-hook, before
    an in-place module (``nn.ReLU(inplace=True)``) overwrites them, e.g.
    AttnFD's pre-ReLU layer B. The copies stay in the autograd graph.

    Args:
        source (str): Name of the module whose inputs are recorded.
        copy_calls (Sequence[int], optional): The calls whose inputs are
            copied (e.g. ``[1]``); the others leave a placeholder, so that
            ``record_idx`` counts every call. Defaults to None (all).
    """

    def __init__(self, source: str,
                 copy_calls: Optional[Sequence[int]] = None) -> None:
        super().__init__(source)
        if copy_calls is not None and (
                isinstance(copy_calls, (str, int)) or not all(
                    isinstance(i, int) and i >= 0 for i in copy_calls)):
            raise ValueError(
                f'PreForwardInputsRecorder({source!r}): copy_calls must be '
                f'a list of call indices >= 0, e.g. [1], got {copy_calls!r}.')
        self.copy_calls = None if copy_calls is None else set(copy_calls)

    def prepare_from_model(self, model: Optional[nn.Module] = None) -> None:
        """Register a forward pre-hook on the source module."""
        module = None if model is None else dict(
            model.named_modules()).get(self.source)
        if module is None:
            raise KeyError(
                f'"{self.source}" is not a module of the model; see '
                'model.named_modules() for the valid names.')
        module.register_forward_pre_hook(self.forward_pre_hook)

    def forward_pre_hook(self, module: nn.Module, inputs: Tuple) -> None:
        """Save copies of the inputs (a placeholder outside copy_calls)."""
        if not self.recording:
            return
        if self.copy_calls is None or len(self.data_buffer) in self.copy_calls:
            self.data_buffer.append(tuple(
                x.clone() if isinstance(x, Tensor) else x for x in inputs))
        else:
            self.data_buffer.append(None)  # a placeholder

    def get_record_data(self, record_idx: int = 0,
                        data_idx: Optional[int] = None) -> Any:
        """The record of call ``record_idx`` (its ``data_idx``-th input)."""
        if record_idx < len(self.data_buffer) and \
                self.data_buffer[record_idx] is None:
            raise ValueError(
                f'PreForwardInputsRecorder({self.source!r}): call '
                f'{record_idx} was not recorded, copy_calls='
                f'{sorted(self.copy_calls)}; add {record_idx} to copy_calls.')
        return super().get_record_data(record_idx, data_idx)
