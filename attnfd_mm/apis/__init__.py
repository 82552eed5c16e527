# Copyright (c) attnfd-mm contributors. All rights reserved.
from .attention_maps import (MAP_COLUMNS, collect_attention_maps,
                             draw_attention_grid, plot_attention_grid)
from .runner_config import (add_runner_args, load_runner_config,
                            parse_runner_args)
from .student_checkpoint import student_checkpoint, weights_checkpoint

__all__ = [
    'MAP_COLUMNS', 'collect_attention_maps', 'draw_attention_grid',
    'plot_attention_grid',
    'add_runner_args', 'load_runner_config', 'parse_runner_args',
    'student_checkpoint', 'weights_checkpoint'
]
