# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The student of a distillation run, ready for mmseg, at the end of
training."""
import os.path as osp

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner.checkpoint import get_state_dict

from attnfd_mm.apis.student_checkpoint import student_checkpoint
from attnfd_mm.atomic_files import atomic_file


@HOOKS.register_module()
class StudentExportHook(Hook):
    """Write ``<work_dir>/<filename>`` when training ends: the student as a
    plain mmseg checkpoint (weights without the ``architecture.`` prefix,
    the dataset meta) for ``mmseg.apis.init_model`` and ``tools/test.py``.
    ``tools/train.py`` and ``tools/distill.py`` add it unless
    ``export_student = False``.

    Args:
        filename (str): Name of the file in the work dir. Defaults to
            ``'student.pth'``.
    """

    priority = 'LOWEST'

    def __init__(self, filename: str = 'student.pth') -> None:
        self.filename = filename

    def after_train(self, runner) -> None:
        if not is_main_process():
            return
        meta = {}
        dataset = getattr(runner.train_dataloader, 'dataset', None)
        if hasattr(dataset, 'metainfo'):
            meta['dataset_meta'] = dataset.metainfo
        plain = student_checkpoint(
            dict(state_dict=get_state_dict(runner.model), meta=meta))
        path = osp.join(runner.work_dir, self.filename)
        with atomic_file(path) as tmp:
            torch.save(plain, tmp)
        runner.logger.info(f'Student weights (plain mmseg checkpoint): '
                           f'{path}')
