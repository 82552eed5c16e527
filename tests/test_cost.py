# Copyright (c) attnfd-mm contributors. All rights reserved.
"""What the student costs against its teacher: parameters, FLOPs and
latency against values computed by hand (units included), the test size a
config is read at, the file the end of a distillation run writes, and the
comparison report's table and chart."""
import json
import time
from types import SimpleNamespace

import pytest
from mmengine.config import Config
from torch import nn

from attnfd_mm.apis.training import add_student_hooks
from attnfd_mm.comparison import write_results
from attnfd_mm.comparison.cost_report import cost_section, plot_cost
from attnfd_mm.comparison.report import report
from attnfd_mm.deploy import (COST_FILE, cost_line, cost_table,
                              measure_latency, model_cost, config_test_size)
from attnfd_mm.engine.hooks import StudentCostHook
from attnfd_mm.testing.model_families import build_segmentor
from attnfd_mm.testing.tiny_configs import (deeplabv3_segmentor,
                                            tiny_distill_model)


class _OneConv(nn.Module):
    """A 'segmentor' of one 3x3 convolution (3 -> 4 channels, no bias)
    behind mmseg's data preprocessor, that sleeps ``sleep_s`` per forward:
    its parameters, FLOPs and latency are known by hand."""

    def __init__(self, sleep_s: float = 0.0) -> None:
        super().__init__()
        from mmseg.models import SegDataPreProcessor
        self.data_preprocessor = SegDataPreProcessor(
            mean=[1., 2., 3.], std=[2., 2., 2.], bgr_to_rgb=True)
        self.decode_head = SimpleNamespace(align_corners=False)
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.sleep_s = sleep_s

    def forward(self, x, mode='tensor'):
        if self.sleep_s:
            time.sleep(self.sleep_s)
        return self.conv(x)


def test_params_and_flops_are_the_hand_counts():
    h, w = 32, 48
    cost = model_cost(_OneConv(), (h, w), backends=['torch'], runs=2,
                      warmup=0)
    assert cost['params'] == 4 * 3 * 3 * 3  # 108 weights
    # one multiply-add = 1 FLOP: 108 per output pixel of the convolution,
    # and mmengine's 4 per output element of the bilinear resize
    conv = 4 * 3 * 3 * 3 * h * w
    resize = 4 * 4 * h * w
    assert cost['gflops'] == pytest.approx((conv + resize) / 1e9)
    # a real model: every parameter, counted independently
    model = build_segmentor(deeplabv3_segmentor('r18')).eval()
    got = model_cost(model, (32, 32), backends=['torch'], runs=2,
                     warmup=0)
    assert got['params'] == sum(p.numel() for p in model.parameters())
    assert 0.1 < got['gflops'] < 10  # GFLOPs, not FLOPs


def test_latency_is_in_milliseconds():
    cost = model_cost(_OneConv(sleep_s=0.02), (16, 16), runs=3, warmup=1)
    torch_ms = cost['latency_ms']['torch']
    # milliseconds: not 0.02 (seconds), not 2e4 (microseconds); whether
    # rounds agree: test_latency_rounds_stop_when_two_agree
    assert 20 <= torch_ms['median_ms'] < 200, torch_ms
    assert torch_ms['runs'] == 6
    # the exported graph has no sleep: one 16x16 convolution, well under
    # a millisecond
    ort_ms = cost['latency_ms']['onnxruntime']
    assert 0 < ort_ms['median_ms'] < 5, ort_ms
    off = model_cost(_OneConv(), (16, 16), backends=['torch'], runs=2)
    assert off['latency_ms']['onnxruntime'] is None


def test_latency_rounds_stop_when_two_agree(monkeypatch):
    # a clock that each call advances: rounds of 2 runs of 10, 10 ms, then
    # 20, 20 ms, then 20.5, 20.5 ms: rounds 2 and 3 agree within 5 %, their
    # 4 runs give the median (20.25 ms)
    from attnfd_mm.deploy import latency
    clock = [0.0]
    durations = iter([0.010] * 2 + [0.020] * 2 + [0.0205] * 2 + [1.0] * 10)

    def call():
        clock[0] += next(durations)

    monkeypatch.setattr(latency, 'time',
                        SimpleNamespace(perf_counter=lambda: clock[0]))
    got = measure_latency(call, runs=2, warmup=0, tolerance=0.05)
    assert got.agreed and got.runs == 4
    assert got.round_medians_ms == pytest.approx([10.0, 20.0, 20.5])
    assert got.median_ms == pytest.approx(20.25)
    # never agreeing: the last two rounds, flagged
    durations = iter([0.010, 0.020, 0.040, 0.080])
    got = measure_latency(call, runs=1, warmup=0, max_rounds=4)
    assert not got.agreed and got.median_ms == pytest.approx(60.0)
    with pytest.raises(ValueError, match='max_rounds >= 2'):
        measure_latency(call, max_rounds=1)
    # a 10 s call and a 30 s budget: rounds of 2 runs (not 10), and no
    # third round once the budget is spent, agreed or not
    durations = iter([10.0] + [10.0] * 2 + [20.0] * 2 + [30.0] * 20)
    got = measure_latency(call, runs=10, warmup=1, budget_s=30)
    assert got.runs == 4 and not got.agreed
    assert got.round_medians_ms == pytest.approx([10e3, 20e3])


def test_test_size_is_height_by_width():
    resize = dict(type='Resize', scale=(96, 72), keep_ratio=True)  # (w, h)
    cfg = Config(dict(test_dataloader=dict(dataset=dict(
        pipeline=[dict(type='LoadImageFromFile'), resize]))))
    assert config_test_size(cfg) == (72, 96)
    crop = Config(dict(model=dict(data_preprocessor=dict(size=(48, 64)))))
    assert config_test_size(crop) == (48, 64)
    with pytest.raises(ValueError, match='--size HxW'):
        config_test_size(Config(dict(model=dict(type='EncoderDecoder'))))


class _Logger:

    def __init__(self):
        self.lines = []
        self.warnings = []

    def info(self, text):
        self.lines.append(text)

    def warning(self, text):
        self.warnings.append(text)


def test_hook_writes_the_cost_file_and_a_log_line(tmp_path):
    cfg = Config(dict(
        default_scope='mmseg',
        model=tiny_distill_model('r18', 'r34'),
        test_dataloader=dict(dataset=dict(pipeline=[
            dict(type='Resize', scale=(48, 32), keep_ratio=True)]))))
    runner = SimpleNamespace(cfg=cfg, work_dir=str(tmp_path),
                             logger=_Logger())
    # onnxruntime's latency: test_latency_is_in_milliseconds and the
    # end-to-end run of tests/test_distill_tool.py
    StudentCostHook(runs=2, warmup=1, max_rounds=2,
                    backends=['torch']).after_train(runner)
    cost = json.loads((tmp_path / COST_FILE).read_text())
    assert cost['size'] == [32, 48] and cost['batch'] == 1
    models = {k: build_segmentor(deeplabv3_segmentor(k))
              for k in ('r18', 'r34')}
    for name, key in (('student', 'r18'), ('teacher', 'r34')):
        assert cost[name]['params'] == sum(
            p.numel() for p in models[key].parameters())
        latency = cost[name]['latency_ms']
        assert latency['torch']['runs'] == 4
        assert latency['torch']['median_ms'] > 0
        assert latency['onnxruntime'] is None
    s, t = cost['student'], cost['teacher']
    ratio = cost['teacher_over_student']
    assert ratio['params'] == pytest.approx(t['params'] / s['params'])
    assert ratio['gflops'] == pytest.approx(t['gflops'] / s['gflops'])
    assert ratio['latency_torch'] == pytest.approx(
        t['latency_ms']['torch']['median_ms'] /
        s['latency_ms']['torch']['median_ms'])
    assert 1 < ratio['gflops'] < 10 and t['gflops'] < 10  # GFLOPs
    line, = runner.logger.lines
    assert line.startswith('Student vs teacher at 32x48 (CPU, batch 1): '
                           f'params {s["params"] / 1e6:.2f}M vs '
                           f'{t["params"] / 1e6:.2f}M')
    assert line == cost_line(cost) + f'; details: {tmp_path / COST_FILE}'
    table = cost_table(cost, 'R34', 'R18')
    assert f'| R34 | {t["params"] / 1e6:.2f} | {t["gflops"]:.1f} |' in table


def test_hook_failure_keeps_the_run_and_names_the_tool(tmp_path):
    model = tiny_distill_model('r18', 'r18')
    model['teacher']['backbone']['depth'] = 7  # no such ResNet
    cfg = Config(dict(default_scope='mmseg', model=model))
    runner = SimpleNamespace(cfg=cfg, work_dir=str(tmp_path),
                             logger=_Logger())
    StudentCostHook(runs=1, max_rounds=2).after_train(runner)
    assert not (tmp_path / COST_FILE).exists()
    warning, = runner.logger.warnings
    assert 'could not measure' in warning and 'tools/analysis/cost.py' in \
        warning


def test_hook_is_added_to_distillation_runs_unless_switched_off():
    distill = Config(dict(model=tiny_distill_model(), export_student=False))
    add_student_hooks(distill)
    assert distill.custom_hooks == [dict(type='StudentCostHook')]
    off = Config(dict(model=tiny_distill_model(), measure_student_cost=False,
                      export_student=False))
    add_student_hooks(off)
    assert not off.get('custom_hooks')
    plain = Config(dict(model=deeplabv3_segmentor('r18')))
    add_student_hooks(plain)
    assert not plain.get('custom_hooks')


def _result(miou):
    return dict(metrics={'mIoU': miou}, iters=10, step_s=1.0,
                peak_memory_mib=100.0, wall_s=60.0)


def _cost(teacher_ms=100.0, student_ms=25.0):
    def one(params, gflops, ms, ort):
        return dict(params=params, gflops=gflops, latency_ms=dict(
            torch=dict(median_ms=ms, runs=20, agreed=True),
            onnxruntime=dict(median_ms=ort, runs=20, agreed=True)))
    return dict(size=[72, 96], batch=1, threads=2,
                teacher=one(40_000_000, 80.0, teacher_ms, 60.0),
                student=one(10_000_000, 20.0, student_ms, 15.0),
                teacher_over_student=dict(params=4.0, gflops=4.0,
                                          latency_torch=4.0,
                                          latency_onnxruntime=4.0))


def _results():
    return dict(teacher={'mIoU': 40.0}, arms={
        'student': {'0': _result(30.0), '1': _result(30.0)},
        'attnfd': {'0': _result(36.0), '1': _result(34.0)},
    }, cost=_cost())


def test_report_table_gives_speed_up_and_gap_closed_per_arm(tmp_path):
    _, data = report(_results(), lambda m: {'attnfd': 'AttnFD'}.get(m, m))
    lines, rows = cost_section(data, _cost(), 'teacher R34')
    text = '\n'.join(lines)
    # teacher 100 ms, student 25 ms: 4x; AttnFD (35 - 30) / (40 - 30)
    assert '| teacher R34 | 40.00 | - | 40.00 | 80.0 | 100.0 | 60.0 | ' \
        '1.00x |' in text
    assert '| student | 30.00 | +0.00 | 10.00 | 20.0 | 25.0 | 15.0 | ' \
        '4.00x |' in text
    assert '| AttnFD | 35.00 | +0.50 | 10.00 | 20.0 | 25.0 | 15.0 | ' \
        '4.00x |' in text
    assert 'one 72x96 image on the CPU, CPU threads: 2' in text
    assert 'the last two rounds of runs, which agreed within 5 %' in text
    assert [r['arm'] for r in rows] == ['teacher', 'student', 'attnfd']
    points = plot_cost(data, rows, str(tmp_path / 'cost.png'),
                       'teacher R34')
    assert points == [('teacher R34', 100.0, 40.0), ('student', 25.0, 30.0),
                      ('AttnFD', 25.0, 35.0)]
    from PIL import Image
    with Image.open(tmp_path / 'cost.png') as image:
        assert image.format == 'PNG' and image.size[0] > 300


def test_write_results_adds_the_cost_table_and_chart(tmp_path):
    comparison = SimpleNamespace(
        plan=SimpleNamespace(label=str, same_time_as=None,
                             methods=['student', 'attnfd'], seeds=[0, 1]),
        runner=SimpleNamespace(timings=dict), work_dir=str(tmp_path),
        settings=dict)
    text = write_results(comparison, _results())
    assert '| student | 30.00 | +0.00 | 10.00 |' in text
    assert (tmp_path / 'results_cost.png').is_file()
    saved = json.loads((tmp_path / 'results.json').read_text())
    assert saved['cost']['size'] == [72, 96]
    assert saved['cost_rows'][2]['speedup'] == pytest.approx(4.0)
    # without the cost (--no-cost), none of it
    plain = _results()
    del plain['cost']
    assert 'Accuracy against cost' not in write_results(comparison, plain)
