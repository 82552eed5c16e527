# Copyright (c) attnfd-mm contributors. All rights reserved.
from .attnfd_loss import AttnFDLoss
from .chunked_attnfd import TeacherMap, chunkable_align, chunked_attnfd_loss

__all__ = [
    'AttnFDLoss', 'TeacherMap', 'chunkable_align', 'chunked_attnfd_loss'
]
