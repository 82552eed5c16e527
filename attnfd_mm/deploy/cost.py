# Copyright (c) attnfd-mm contributors. All rights reserved.
"""What a student costs against its teacher at one input size: parameters,
FLOPs (mmengine's complexity analysis of the deployed graph,
:class:`~attnfd_mm.deploy.DeployableSegmentor`; one multiply-add = 1 FLOP)
and the CPU latency of one image with this process's threads (PyTorch, and
onnxruntime when installed; onnxruntime gets as many threads)."""
import importlib.util
import json
import os.path as osp
import tempfile
from dataclasses import asdict
from functools import partial
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from torch import nn

from attnfd_mm.atomic_files import atomic_file
from .latency import measure_latencies
from .onnx_export import DeployableSegmentor, export_onnx, onnx_session

#: the file the end of a distillation run writes in its work dir
COST_FILE = 'student_vs_teacher.json'
#: what latency is measured with (onnxruntime where it is installed)
BACKENDS = ('torch', 'onnxruntime')
#: how FLOPs are counted
FLOPS_COUNTER = ('mmengine.analysis.get_model_complexity_info (fvcore '
                 'counting: one multiply-add = 1 FLOP)')


def config_test_size(cfg: Config) -> Tuple[int, int]:
    """(height, width) a config tests at: the ``Resize`` scale of its test
    pipeline (an upper bound where it keeps the aspect ratio), else its
    model's data preprocessor ``size`` (the crop size); a ``ValueError``
    without either."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    for pipeline in (dataset.get('pipeline'), cfg.get('test_pipeline')):
        for step in pipeline or ():
            if isinstance(step, dict) and step.get('type', '').split(
                    '.')[-1] == 'Resize' and step.get('scale'):
                w, h = step['scale']  # mmcv's scale is (w, h)
                return int(h), int(w)
    model = cfg.get('model') or {}
    model = model.get('architecture', model)
    size = (model.get('data_preprocessor') or {}).get('size')
    if size:
        return int(size[0]), int(size[1])
    raise ValueError(
        'Cannot read the test size of this config: no Resize in its test '
        'pipeline and no model.data_preprocessor.size. Give the size '
        'explicitly (--size HxW).')


def _flops(wrapper: nn.Module, image: torch.Tensor) -> Dict:
    from mmengine.analysis import get_model_complexity_info
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('ERROR')  # one warning per op it does not count
    try:
        with torch.no_grad():
            info = get_model_complexity_info(wrapper, inputs=(image, ),
                                             show_table=False,
                                             show_arch=False)
        return dict(gflops=info['flops'] / 1e9)
    except Exception as e:  # a model the jit tracer cannot run
        return dict(gflops=None, flops_error=f'{type(e).__name__}: {e}')
    finally:
        logger.setLevel(level)


def measure_costs(models: Dict[str, nn.Module],
                  size: Tuple[int, int],
                  backends: Sequence[str] = BACKENDS,
                  **latency) -> Dict[str, Dict]:
    """Parameters, GFLOPs and CPU latency of each of ``models`` on one
    ``size`` image; the latencies of all models are measured in interleaved
    rounds (``latency``: the arguments of
    :func:`~attnfd_mm.deploy.measure_latencies`).

    Returns:
        dict: Per model, ``params`` (count), ``gflops`` (1e9 FLOPs; None
        with ``flops_error`` where the analysis fails), ``latency_ms``:
        ``torch`` and ``onnxruntime`` (None where it is not in
        ``backends`` or not installed), each a :class:`Latency` dict.
    """
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise ValueError(f'Unknown latency backends {sorted(unknown)}; '
                         f'valid: {list(BACKENDS)}.')
    image = torch.rand(1, 3, *size) * 255
    wrappers = {name: DeployableSegmentor(m).eval()
                for name, m in models.items()}
    out = {name: dict(params=sum(p.numel() for p in m.parameters()),
                      **_flops(wrappers[name], image),
                      latency_ms=dict(torch=None, onnxruntime=None))
           for name, m in models.items()}
    calls = {}
    if 'torch' in backends:
        calls['torch'] = {n: partial(w, image) for n, w in wrappers.items()}
    with tempfile.TemporaryDirectory() as tmp:
        if 'onnxruntime' in backends and all(
                importlib.util.find_spec(m) for m in ('onnx', 'onnxruntime')):
            calls['onnxruntime'] = {}
            for name, model in models.items():
                path = export_onnx(model, osp.join(tmp, f'{name}.onnx'),
                                   size=size)
                session = onnx_session(path, threads=torch.get_num_threads())
                calls['onnxruntime'][name] = partial(
                    session.run, None, {'image': image.numpy()})
        with torch.inference_mode():
            for backend, fns in calls.items():
                for name, got in measure_latencies(fns, **latency).items():
                    out[name]['latency_ms'][backend] = asdict(got)
    return out


def model_cost(segmentor: nn.Module, size: Tuple[int, int],
               **kwargs) -> Dict:
    """:func:`measure_costs` of one ``segmentor``."""
    return measure_costs({'model': segmentor}, size, **kwargs)['model']


def _ratio(teacher: Optional[float],
           student: Optional[float]) -> Optional[float]:
    return None if teacher is None or not student else teacher / student


def _median(cost: Dict, backend: str) -> Optional[float]:
    got = cost['latency_ms'].get(backend)
    return got['median_ms'] if got else None


def pair_cost(student: nn.Module,
              teacher: nn.Module,
              size: Tuple[int, int],
              **kwargs) -> Dict:
    """:func:`measure_costs` of ``student`` and ``teacher`` (``kwargs`` go to
    it) and the ratios teacher / student of each cost."""
    costs = measure_costs(dict(student=student, teacher=teacher), size,
                          **kwargs)
    s, t = costs['student'], costs['teacher']
    return dict(
        size=[int(size[0]), int(size[1])], batch=1, device='cpu',
        threads=torch.get_num_threads(), flops_counter=FLOPS_COUNTER,
        **costs,
        teacher_over_student=dict(
            params=_ratio(t['params'], s['params']),
            gflops=_ratio(t['gflops'], s['gflops']),
            **{f'latency_{b}': _ratio(_median(t, b), _median(s, b))
               for b in ('torch', 'onnxruntime')}))


def _num(value: Optional[float], fmt: str, unit: str = '') -> str:
    return '-' if value is None else format(value, fmt) + unit


def cost_table(cost: Dict, teacher: str = 'teacher',
               student: str = 'student') -> str:
    """:func:`pair_cost` as a Markdown table and a line on how it was
    measured."""
    h, w = cost['size']
    rows = [
        '| model | params (M) | GFLOPs | CPU latency, PyTorch (ms) | '
        'CPU latency, onnxruntime (ms) |', '|---|---|---|---|---|'
    ]
    for name, label in (('teacher', teacher), ('student', student)):
        got = cost[name]
        rows.append(
            f'| {label} | {got["params"] / 1e6:.2f} | '
            f'{_num(got["gflops"], ".1f")} | '
            f'{_num(_median(got, "torch"), ".1f")} | '
            f'{_num(_median(got, "onnxruntime"), ".1f")} |')
    r = cost['teacher_over_student']
    rows.append(
        f'| teacher / student | {_num(r["params"], ".1f", "x")} | '
        f'{_num(r["gflops"], ".1f", "x")} | '
        f'{_num(r["latency_torch"], ".2f", "x")} | '
        f'{_num(r["latency_onnxruntime"], ".2f", "x")} |')
    measured = [lat for name in ('teacher', 'student')
                for lat in cost[name]['latency_ms'].values() if lat]
    runs = sorted({lat['runs'] for lat in measured})
    agreed = all(lat['agreed'] for lat in measured)
    rows += [
        '', f'One {h}x{w} image, CPU threads: {cost["threads"]}; latency: '
        f'median of {"/".join(map(str, runs))} runs (the last two rounds, '
        + ('which agreed within 5 %' if agreed else
           'which did NOT agree within 5 %: the machine was busy') +
        '); FLOPs: mmengine\'s complexity analysis, one multiply-add = 1 '
        'FLOP.'
    ]
    return '\n'.join(rows) + '\n'


def cost_line(cost: Dict) -> str:
    """:func:`pair_cost` in one line, for a log."""
    s, t, r = cost['student'], cost['teacher'], cost['teacher_over_student']
    h, w = cost['size']
    text = (f'Student vs teacher at {h}x{w} (CPU, batch 1): params '
            f'{s["params"] / 1e6:.2f}M vs {t["params"] / 1e6:.2f}M '
            f'({_num(r["params"], ".1f")}x fewer), GFLOPs '
            f'{_num(s["gflops"], ".1f")} vs {_num(t["gflops"], ".1f")}')
    for backend, name in dict(torch='PyTorch',
                              onnxruntime='onnxruntime').items():
        if r[f'latency_{backend}'] is not None:
            text += (f', {name} latency {_median(s, backend):.1f} vs '
                     f'{_median(t, backend):.1f} ms '
                     f'({r[f"latency_{backend}"]:.2f}x faster)')
    return text


def write_cost(cost: Dict, path: str) -> str:
    """Write ``cost`` as JSON at ``path``, atomically; return ``path``."""
    with atomic_file(path) as tmp, open(tmp, 'w') as f:
        json.dump(cost, f, indent=2)
    return path


def load_cost(path: str) -> Optional[Dict]:
    """What :func:`write_cost` wrote at ``path``, or None."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def configs_cost(student: Union[str, Config],
                 teacher: Union[str, Config],
                 size: Optional[Tuple[int, int]] = None,
                 **kwargs) -> Dict:
    """:func:`pair_cost` of two configs' models (random weights: the cost
    does not depend on them) at ``size`` (default: the student config's
    test size, :func:`config_test_size`)."""
    from attnfd_mm.apis.distill_config import load_config

    from .segmentor import build_segmentor_from
    student_cfg = load_config(student)
    size = size or config_test_size(student_cfg)
    return pair_cost(build_segmentor_from(student_cfg),
                     build_segmentor_from(teacher), size, **kwargs)
