# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The distilled student, deployed: loaded, exported to ONNX and checked,
and what it costs against its teacher."""
from .cost import (COST_FILE, config_test_size, configs_cost, cost_line,
                   cost_table, load_cost, measure_costs, model_cost,
                   pair_cost, write_cost)
from .latency import Latency, measure_latencies, measure_latency
from .onnx_export import (OUTPUTS, DeployableSegmentor,
                          ExportDependencyError, OnnxParityError, check_onnx,
                          export_onnx, onnx_session, require_export_deps)
from .segmentor import (CheckpointMismatchError, build_segmentor_from,
                        load_segmentor)

__all__ = [
    'COST_FILE', 'config_test_size', 'configs_cost', 'cost_line',
    'cost_table', 'load_cost', 'measure_costs', 'model_cost', 'pair_cost',
    'write_cost', 'Latency', 'measure_latencies', 'measure_latency',
    'OUTPUTS', 'DeployableSegmentor',
    'ExportDependencyError', 'OnnxParityError', 'check_onnx', 'export_onnx',
    'onnx_session', 'require_export_deps', 'CheckpointMismatchError',
    'build_segmentor_from', 'load_segmentor'
]
