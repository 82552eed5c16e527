# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Recorder of a module's inputs taken before the module runs."""
from typing import Any, Tuple

from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
from mmrazor.registry import TASK_UTILS
from torch import Tensor, nn


@TASK_UTILS.register_module()
class PreForwardInputsRecorder(ModuleOutputsRecorder):
    """Record a module's inputs in a forward *pre*-hook, as copies.

    MMRazor's ``ModuleInputs`` recorder reads the inputs after the module
    ran, so an in-place module (``nn.ReLU(inplace=True)``, as in mmseg's
    ResNet blocks) has already overwritten them. This recorder copies the
    tensors before the call, which records e.g. the pre-ReLU output of a
    residual block, AttnFD's layer B: in mmseg's ``BasicBlock`` the block's
    ``relu`` runs twice, and its second input (``record_idx=1``) is the sum
    of the residual branch and the shortcut.

    Use it in a distiller config as ``dict(type='PreForwardInputs',
    source='backbone.layer4.1.relu')`` and read it with ``record_idx=1,
    data_idx=0``. The copies stay in the autograd graph, so gradients reach
    the student through them.
    """

    def prepare_from_model(self, model: nn.Module = None) -> None:
        """Register a forward pre-hook on the source module."""
        if model is None:
            raise ValueError('PreForwardInputsRecorder needs a model.')
        modules = dict(model.named_modules())
        if self.source not in modules:
            raise KeyError(
                f'"{self.source}" is not a module of the model; see '
                'model.named_modules() for the valid names.')
        modules[self.source].register_forward_pre_hook(self.forward_pre_hook)

    def forward_pre_hook(self, module: nn.Module, inputs: Tuple) -> None:
        """Save copies of the module's tensor inputs."""
        if self.recording:
            self.data_buffer.append(
                tuple(x.clone() if isinstance(x, Tensor) else x
                      for x in inputs))

    def forward_hook(self, module: nn.Module, inputs: Tuple,
                     outputs: Any) -> None:
        """Do nothing after the forward: inputs were saved before it."""
