# Copyright (c) attnfd-mm contributors. All rights reserved.
"""One log line for the frozen teacher's parameters instead of one each."""
import logging
import re

from mmengine.logging import MMLogger

#: what mmengine's optimizer constructor logs for each frozen parameter
SKIPPED = re.compile(r'^teacher\.\S+ is skipped since its requires_grad=False$')


class FrozenTeacherLogFilter(logging.Filter):
    """Turn the first of mmengine's "``teacher.<name>`` is skipped since its
    requires_grad=False" warnings (one per frozen teacher parameter, several
    hundred for a ResNet-101) into one summary line and drop the others.

    Args:
        count (int): The number of parameters of the frozen teacher.
    """

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count
        self.told = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not SKIPPED.match(record.getMessage()):
            return True
        if self.told:
            return False
        self.told = True
        record.msg = (f'The {self.count} parameters of the frozen teacher '
                      'are left out of the optimizer (requires_grad=False).')
        record.args = ()
        record.levelno, record.levelname = logging.INFO, 'INFO'
        return True


def summarize_frozen_teacher_log(count: int) -> None:
    """Add a :class:`FrozenTeacherLogFilter` to the current mmengine
    logger."""
    MMLogger.get_current_instance().addFilter(FrozenTeacherLogFilter(count))
