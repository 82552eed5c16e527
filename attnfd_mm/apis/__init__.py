# Copyright (c) attnfd-mm contributors. All rights reserved.
from .runner_config import load_runner_config

__all__ = ['load_runner_config']
