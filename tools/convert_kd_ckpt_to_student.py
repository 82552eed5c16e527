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

import torch
from mmengine.runner import CheckpointLoader

import attnfd_mm  # noqa: F401  (compat: loads mmengine checkpoints safely)
from attnfd_mm.apis import student_checkpoint


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
    converted = student_checkpoint(checkpoint)
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(converted, args.dst)
    print(f'{len(converted["state_dict"])} student tensors -> {args.dst}')


if __name__ == '__main__':
    main()
