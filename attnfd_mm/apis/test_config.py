# Copyright (c) attnfd-mm contributors. All rights reserved.
"""What ``tools/test.py`` scores: a segmentor, or the student of a
distillation config, without its teacher."""
import os.path as osp
from typing import Tuple

import torch
from mmengine.config import Config
from mmengine.runner import CheckpointLoader

from .student_checkpoint import STUDENT_PREFIX, student_checkpoint


def is_distillation(cfg: Config) -> bool:
    """Whether ``cfg`` trains a distillation algorithm (a model with an
    ``architecture``, the student)."""
    return 'architecture' in (cfg.get('model') or {})


def student_test_config(cfg: Config, checkpoint: str,
                        tmp_dir: str) -> Tuple[Config, str]:
    """``cfg`` with the student of its distillation model as the model,
    and the checkpoint of the student: ``checkpoint`` itself when it holds
    plain student weights (``student.pth``, a converted checkpoint), else
    its ``architecture.*`` weights written to ``tmp_dir``.

    The teacher is neither built nor loaded: mmseg's test loop scores the
    student alone, so a distillation checkpoint is tested without the
    teacher's file or download.
    """
    student = Config(dict(model=cfg.model.architecture)).model
    student.setdefault('_scope_', cfg.get('default_scope', None) or 'mmseg')
    cfg.model = student
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = loaded.get('state_dict', loaded)
    if not any(k.startswith(STUDENT_PREFIX) for k in state):
        return cfg, checkpoint
    path = osp.join(tmp_dir, 'student.pth')
    torch.save(student_checkpoint(loaded), path)
    return cfg, path

