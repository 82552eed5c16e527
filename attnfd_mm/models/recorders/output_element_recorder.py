# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Recorder of one element of a module's nested output."""
from typing import Any, Optional, Sequence, Tuple

from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
from mmrazor.registry import TASK_UTILS
from torch import Tensor, nn


@TASK_UTILS.register_module()
class OutputElementRecorder(ModuleOutputsRecorder):
    """Record one tensor of a module's nested output (MMRazor's
    ``data_idx`` reaches one level only), e.g. of a ViT or DDRNet.

    Args:
        source (str): The module whose output is recorded.
        path (Sequence[int]): Indices into the output, outermost first,
            applied until a tensor is reached. Defaults to ``()``.
        train_path (Sequence[int], optional): The path in training mode.
            Defaults to ``path``.
    """

    def __init__(self, source: str, path: Sequence[int] = (),
                 train_path: Optional[Sequence[int]] = None, **kwargs) -> None:
        super().__init__(source, **kwargs)
        self.path: Tuple[int, ...] = tuple(path)
        self.train_path: Tuple[int, ...] = self.path if train_path is None \
            else tuple(train_path)

    def forward_hook(self, module: nn.Module, inputs: Tuple,
                     outputs: Any) -> None:
        if not self.recording:
            return
        for index in self.train_path if module.training else self.path:
            if isinstance(outputs, Tensor):  # a shorter structure
                break
            outputs = outputs[index]
        self.data_buffer.append(outputs)
