# Copyright (c) attnfd-mm contributors. All rights reserved.
"""What a distillation checkpoint weighs, with and without the frozen
teacher, and the exported student.

    python tools/benchmarks/checkpoint_size.py \
        [--config configs/attnfd/deeplabv3_r101_r18_voc.py] \
        [--work-dir work_dirs/benchmarks/checkpoint_size]

Trains ``--config``'s model for one iteration on synthetic images (64x64,
random weights: nothing is downloaded) twice through ``attnfd_mm.apis.train``,
as ``tools/train.py`` does, and prints the size of each file it wrote:

- ``teacher kept``: no ``teacher_ckpt`` (a random teacher); the checkpoint
  holds the teacher, as every checkpoint of a distillation run did before
  lean checkpoints;
- ``lean``: ``teacher_ckpt`` set to the same teacher's weights, saved first;
  the checkpoint leaves the frozen teacher out and keeps its fingerprint;
- ``student.pth``: the student exported at the end of the lean run.

The sizes depend on the model's weights and optimizer state (SGD momentum),
not on the data or the input size.
"""
import argparse
import copy
import os
import os.path as osp
from typing import Dict, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _model(cfg, teacher_ckpt: Optional[str]):
    """``cfg``'s distillation model dict without downloads, 64x64 inputs,
    the teacher from ``teacher_ckpt`` or random."""
    model = copy.deepcopy(cfg.model)
    if teacher_ckpt is None:
        model.pop('teacher_ckpt', None)
        model.random_teacher = True
    else:
        model.teacher_ckpt = teacher_ckpt
    model.architecture.pretrained = None  # no ImageNet download
    for owner in (model, model.architecture):
        if owner.get('data_preprocessor', {}).get('size'):
            owner.data_preprocessor.size = (64, 64)
    return model


def _run(cfg, work_dir: str, data_root: str,
         teacher_ckpt: Optional[str]) -> Dict[str, str]:
    """One iteration of ``cfg``'s model; the files the run wrote."""
    from attnfd_mm.apis import train
    from attnfd_mm.testing import tiny_runner_config
    run_cfg = tiny_runner_config(work_dir, data_root,
                                 _model(cfg, teacher_ckpt).to_dict(),
                                 max_iters=1, checkpoint_interval=1)
    run_cfg.visualizer = dict(type='Visualizer',
                              name=f'vis_{osp.basename(work_dir)}')
    train(run_cfg)
    return {
        name: osp.join(work_dir, name)
        for name in ('iter_1.pth', 'student.pth')
        if osp.isfile(osp.join(work_dir, name))
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--config',
        default=osp.join(ROOT, 'configs/attnfd/deeplabv3_r101_r18_voc.py'))
    parser.add_argument('--work-dir',
                        default='work_dirs/benchmarks/checkpoint_size')
    args = parser.parse_args()

    import torch
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope

    import attnfd_mm  # noqa: F401
    from attnfd_mm.testing import make_synthetic_shapes
    cfg = Config.fromfile(args.config)
    os.makedirs(args.work_dir, exist_ok=True)
    data_root = osp.join(args.work_dir, 'shapes')
    make_synthetic_shapes(data_root)
    with DefaultScope.overwrite_default_scope('mmseg'):
        teacher = MODELS.build(_model(cfg, None)).teacher
    teacher_path = osp.join(args.work_dir, 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), teacher_path)

    kept = _run(cfg, osp.join(args.work_dir, 'teacher_kept'), data_root,
                None)
    lean = _run(cfg, osp.join(args.work_dir, 'lean'), data_root,
                teacher_path)
    rows = [('checkpoint, teacher kept', kept['iter_1.pth']),
            ('checkpoint, lean', lean['iter_1.pth']),
            ('student.pth', lean['student.pth'])]
    lines = [f'{osp.relpath(args.config, ROOT)}', '',
             '| file | MB |', '|---|---|']
    lines += [f'| {name} | {osp.getsize(path) / 1e6:.1f} |'
              for name, path in rows]
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
