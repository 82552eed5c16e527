# Copyright (c) attnfd-mm contributors. All rights reserved.
from .attention_maps import (MAP_COLUMNS, collect_attention_maps,
                             draw_attention_grid)
from .config_files import ConfigNotFoundError, load_config, write_config
from .distill_config import distill_config
from .init_weights import WeightsUnavailableError, check_init_weights
from .methods import (DEFAULT_LAYERS, DEFAULT_METHOD, METHODS,
                      DistillMethod, UnknownMethodError, check_method,
                      method_label)
from .runner_config import (add_runner_args, load_runner_config,
                            parse_runner_args)
from .student_checkpoint import student_checkpoint, weights_checkpoint
from .training import build_runner, enable_amp, train

__all__ = [
    'MAP_COLUMNS', 'collect_attention_maps', 'draw_attention_grid',
    'DEFAULT_LAYERS', 'DEFAULT_METHOD', 'METHODS', 'DistillMethod',
    'UnknownMethodError', 'check_method', 'distill_config', 'load_config',
    'method_label', 'write_config', 'add_runner_args', 'load_runner_config',
    'parse_runner_args', 'student_checkpoint', 'weights_checkpoint',
    'build_runner', 'enable_amp', 'train', 'ConfigNotFoundError',
    'WeightsUnavailableError', 'check_init_weights'
]
