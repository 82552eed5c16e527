# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The paper's Figure 1: raw and attention-refined features, side by side."""
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

#: Column order of the grid after the input image.
MAP_COLUMNS = ('teacher raw', 'teacher refined', 'student raw',
               'student refined')


@torch.no_grad()
def collect_attention_maps(model: torch.nn.Module,
                           inputs: Tensor) -> Dict[str, Dict[str, Tensor]]:
    """Loss name -> :data:`MAP_COLUMNS` -> channel mean (N, h, w) of each
    feature a distillation ``model`` records for ``inputs`` (N, 3, H, W)."""
    distiller = model.distiller
    with distiller.teacher_recorders, distiller.deliveries:
        model.teacher(inputs, None, mode='tensor')
    with distiller.student_recorders, distiller.deliveries:
        model.student(inputs, None, mode='tensor')
    maps = {}
    for loss_name, mapping in distiller.loss_forward_mappings.items():
        layer = {}
        for record in mapping.values():
            side = 'student' if record['from_student'] else 'teacher'
            raw = dict(record, connector=None)
            layer[f'{side} raw'] = distiller.get_record(**raw)
            layer[f'{side} refined'] = distiller.get_record(**record)
        maps[loss_name] = {k: v.float().mean(dim=1) if v.dim() == 4
                           else v.float() for k, v in layer.items()}
    return maps


def draw_attention_grid(model: torch.nn.Module, image: np.ndarray,
                        out_file: str, title: Optional[str] = None) -> int:
    """Save to ``out_file`` a PNG row per distilled layer (returned: their
    number): ``image`` (RGB (H, W, 3) uint8), its :data:`MAP_COLUMNS`."""
    device = next(model.parameters()).device
    tensor = torch.from_numpy(image).permute(2, 0, 1).contiguous()
    inputs = model.data_preprocessor(
        dict(inputs=[tensor.to(device)]), False)['inputs']
    maps = collect_attention_maps(model, inputs)

    from matplotlib.figure import Figure  # no pyplot: no global backend
    rows, cols = len(maps), 1 + len(MAP_COLUMNS)
    fig = Figure(figsize=(3 * cols, 2.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for row, (loss_name, layer) in enumerate(maps.items()):
        axes[row, 0].imshow(image)
        axes[row, 0].set_ylabel(loss_name.replace('loss_attnfd_', 'layer '))
        for col, column in enumerate(MAP_COLUMNS, start=1):
            heat = F.interpolate(layer[column][0][None, None],
                                 size=image.shape[:2], mode='bilinear',
                                 align_corners=False)[0, 0]
            axes[row, col].imshow(heat.cpu().numpy(), cmap='jet')
            if row == 0:
                axes[row, col].set_title(column)
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_file, dpi=80)
    return len(maps)
