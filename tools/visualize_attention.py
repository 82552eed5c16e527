# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The paper's Figure 1 for one image: raw and attention-refined feature
maps (channel-mean heat maps) of teacher and student at each distilled
layer, as a PNG grid.

    python tools/visualize_attention.py CONFIG CHECKPOINT IMAGE \
        [--out attention.png]

CONFIG is a distillation config; CHECKPOINT a checkpoint saved while
training it (student, connectors and teacher). With ``--teacher-ckpt`` the
teacher weights come from that file instead (for checkpoints without them).
"""
import argparse
import os
import os.path as osp

import mmcv
from mmengine.registry import MODELS, DefaultScope
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import load_state_dict

from attnfd_mm.apis import draw_attention_grid, load_config
from attnfd_mm.compat import apply_entry_point_patches


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw teacher and student feature maps before and '
        'after attention at every distilled layer.')
    parser.add_argument('config', help='distillation config file')
    parser.add_argument('checkpoint', help='distillation checkpoint')
    parser.add_argument('image', help='input image')
    parser.add_argument(
        '--out', default='attention.png', help='output PNG file')
    parser.add_argument(
        '--teacher-ckpt',
        help='load the teacher from this checkpoint (default: the teacher '
        'weights in CHECKPOINT, else the config\'s teacher_ckpt)')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='resize the image to H W first (default: as it is)')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    return parser.parse_args()


def main() -> None:
    apply_entry_point_patches()
    args = parse_args()
    cfg = load_config(args.config)
    for path, what in ((args.checkpoint, 'Checkpoint'), (args.image, 'Image')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} not found: {path!r}.')
    if 'distiller' not in cfg.model:
        raise ValueError(f'{args.config} is not a distillation config '
                         '(its model has no distiller).')
    state = CheckpointLoader.load_checkpoint(args.checkpoint, 'cpu')
    state = state.get('state_dict', state)
    holds_teacher = any(k.startswith('teacher.') for k in state)
    if args.teacher_ckpt:
        cfg.model.teacher_ckpt = args.teacher_ckpt
        state = {k: v for k, v in state.items()
                 if not k.startswith('teacher.')}
    elif holds_teacher:  # the teacher's weights come from the checkpoint
        cfg.model.update(teacher_ckpt=None, random_teacher=True)
    elif not cfg.model.get('teacher_ckpt'):
        raise ValueError(
            f'{args.checkpoint} holds no teacher weights and the config '
            'names no teacher_ckpt; pass the teacher checkpoint with '
            '--teacher-ckpt.')
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope',
                                                      'mmseg')):
        model = MODELS.build(cfg.model)
    load_state_dict(model, state, strict=False, logger='current')
    model.to(args.device).eval()

    image = mmcv.imread(args.image, channel_order='rgb')
    if args.size:
        image = mmcv.imresize(image, tuple(args.size[::-1]))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    layers = draw_attention_grid(model, image, args.out,
                                 title=osp.basename(args.config))
    print(f'{layers} layers -> {args.out}')


if __name__ == '__main__':
    main()
