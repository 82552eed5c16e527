# Copyright (c) attnfd-mm contributors. All rights reserved.
from .frozen_teacher_distill import FrozenTeacherDistill

__all__ = ['FrozenTeacherDistill']
