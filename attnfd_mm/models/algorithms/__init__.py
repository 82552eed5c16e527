# Copyright (c) attnfd-mm contributors. All rights reserved.
from .frozen_teacher_distill import FrozenTeacherDistill
from .teacher_checkpoint import (TeacherChangedError, check_teacher_state,
                                 decode_fingerprint, load_teacher_checkpoint)

__all__ = ['FrozenTeacherDistill', 'TeacherChangedError',
           'check_teacher_state', 'decode_fingerprint',
           'load_teacher_checkpoint']
