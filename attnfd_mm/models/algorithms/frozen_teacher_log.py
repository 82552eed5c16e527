# Copyright (c) attnfd-mm contributors. All rights reserved.
"""One log line for the frozen teacher's parameters instead of one each."""
import logging
import re

from mmengine.logging import MMLogger


def summarize_frozen_teacher_log(count: int) -> None:
    """One INFO line for mmengine's "skipped" warnings of the teacher."""
    skipped = re.compile(
        r'^teacher\.\S+ is skipped since its requires_grad=False$')
    told = []

    def summarize(record: logging.LogRecord) -> bool:
        if not skipped.match(record.getMessage()):
            return True
        if told:
            return False
        told.append(True)
        record.msg = (f'The {count} parameters of the frozen teacher are '
                      'left out of the optimizer (requires_grad=False).')
        record.args = ()
        record.levelno, record.levelname = logging.INFO, 'INFO'
        return True

    MMLogger.get_current_instance().addFilter(summarize)
