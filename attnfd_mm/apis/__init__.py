# Copyright (c) attnfd-mm contributors. All rights reserved.
from .runner_config import (add_runner_args, load_runner_config,
                            parse_runner_args)

__all__ = ['add_runner_args', 'load_runner_config', 'parse_runner_args']
