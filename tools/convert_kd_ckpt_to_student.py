# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Turn a distillation checkpoint into a plain mmseg student checkpoint.

    python tools/convert_kd_ckpt_to_student.py work_dirs/X/iter_N.pth \
        student.pth

The result holds only the student's weights (``architecture.*`` without
the prefix) and the dataset meta, and loads with the student config, e.g.
``configs/baselines/deeplabv3_r18_voc.py``, in ``mmseg.apis.init_model``,
``tools/test.py`` or any mmseg pipeline.
"""
import argparse
import os
import os.path as osp
from typing import Dict

import torch
from mmengine.runner import CheckpointLoader

import attnfd_mm  # noqa: F401  (compat: loads mmengine checkpoints safely)

PREFIX = 'architecture.'


def convert(checkpoint: Dict) -> Dict:
    """The student-only checkpoint of a distillation ``checkpoint``."""
    state = checkpoint.get('state_dict', checkpoint)
    student = {
        k[len(PREFIX):]: v
        for k, v in state.items() if k.startswith(PREFIX)
    }
    if not student:
        raise ValueError(
            'No student weights (keys starting with '
            f'{PREFIX!r}) in this checkpoint; its keys start like '
            f'{sorted({k.split(".")[0] for k in state})[:5]}. Is it a '
            'distillation checkpoint (saved while training a distillation '
            'config)?')
    meta = dict(checkpoint.get('meta') or {})
    keep = ('dataset_meta', 'seed', 'mmseg_version', 'mmengine_version',
            'time')
    kept_meta = {k: meta[k] for k in keep if k in meta}
    kept_meta['converted_from'] = 'attnfd_mm distillation checkpoint'
    return dict(state_dict=student, meta=kept_meta)


def main() -> None:
    parser = argparse.ArgumentParser(
        description='Extract the student of a distillation checkpoint as a '
        'plain mmseg checkpoint.')
    parser.add_argument('src', help='distillation checkpoint (.pth)')
    parser.add_argument('dst', help='output student checkpoint (.pth)')
    args = parser.parse_args()
    if not osp.isfile(args.src):
        raise FileNotFoundError(f'Checkpoint not found: {args.src!r}.')
    checkpoint = CheckpointLoader.load_checkpoint(args.src, map_location='cpu')
    converted = convert(checkpoint)
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(converted, args.dst)
    print(f'{len(converted["state_dict"])} student tensors -> {args.dst}')


if __name__ == '__main__':
    main()
