# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Recorder of one element of a module's nested output."""
from typing import Any, Optional, Sequence, Tuple

from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
from mmrazor.registry import TASK_UTILS
from torch import Tensor, nn


@TASK_UTILS.register_module()
class OutputElementRecorder(ModuleOutputsRecorder):
    """Record one tensor of a module's nested output, where MMRazor's
    ``ModuleOutputs`` with ``data_idx`` reaches one level into a tuple:
    mmseg's ViTs with ``output_cls_token`` return ``[[map, cls_token], ...]``,
    DDRNet and PIDNet a tensor in eval mode and a tuple in train mode.
    ``dict(type='OutputElement', source='backbone', path=(3, 0),
    train_path=(1,))`` keeps only the selected element of each call.

    Args:
        source (str): The module whose output is recorded.
        path (Sequence[int]): Indices into the output, outermost first,
            applied until a tensor is reached. Defaults to ``()`` (the whole
            output).
        train_path (Sequence[int], optional): The path used while the module
            is in training mode, where its output has another structure.
            Defaults to ``path``.
    """

    def __init__(self,
                 source: str,
                 path: Sequence[int] = (),
                 train_path: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        super().__init__(source, **kwargs)
        self.path: Tuple[int, ...] = tuple(path)
        self.train_path: Tuple[int, ...] = self.path if train_path is None \
            else tuple(train_path)

    def forward_hook(self, module: nn.Module, inputs: Tuple,
                     outputs: Any) -> None:
        """Save the selected element of the module's output."""
        if not self.recording:
            return
        for index in self.train_path if module.training else self.path:
            if isinstance(outputs, Tensor):  # a shorter structure
                break
            outputs = outputs[index]
        self.data_buffer.append(outputs)
