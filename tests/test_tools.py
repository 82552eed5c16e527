# Copyright (c) attnfd-mm contributors. All rights reserved.
"""tools/train.py and tools/test.py: flags, work-dir layout, resume."""
import json
import os
import os.path as osp
import shutil
import struct
import subprocess
from typing import Tuple

import pytest
from conftest import run_tool

from attnfd_mm.testing import (SHAPES_CLASSES, tiny_distill_model,
                               tiny_runner_config)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _png_size(path: str) -> Tuple[int, int]:
    """(width, height) of a PNG file, read from its header."""
    with open(path, 'rb') as f:
        header = f.read(24)
    assert header[:8] == b'\x89PNG\r\n\x1a\n', path
    return struct.unpack('>II', header[16:24])


@pytest.mark.parametrize('script,usage', [
    ('tools/dist_train.sh', 'CONFIG GPUS'),
    ('tools/dist_test.sh', 'CONFIG CHECKPOINT GPUS'),
    ('tools/slurm_train.sh', 'PARTITION JOB_NAME CONFIG'),
    ('tools/dist_distill.sh', 'STUDENT_CONFIG TEACHER_CONFIG GPUS'),
    ('tools/slurm_distill.sh',
     'PARTITION JOB_NAME STUDENT_CONFIG TEACHER_CONFIG'),
])
def test_shell_launchers_usage(script, usage):
    ok = subprocess.run(['bash', script, '--help'],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and usage in ok.stdout
    bad = subprocess.run(['bash', script, 'only_one_arg'],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and usage in bad.stderr


#: The Python tools whose --help runs in test_python_tools_help (the
#: others start fresh interpreters in their own tests).
HELP_TOOLS = ('tools/train.py', 'tools/test.py',
              'tools/convert_kd_ckpt_to_student.py',
              'tools/visualize_attention.py',
              'tools/analysis/per_class_iou.py',
              'tools/dataset_converters/coco_voc21.py', 'tools/export.py',
              'tools/analysis/cost.py')
#: Prints ``{tool: [exit code, stdout]}`` of each tool's --help, run one
#: after the other as ``__main__`` in one fresh interpreter (the stack's
#: imports are paid once).
_RUN_HELPS = """
import contextlib, io, json, runpy, sys
outputs = {}
for tool in sys.argv[1:]:
    sys.argv, out, code = [tool, '--help'], io.StringIO(), None
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(tool, run_name='__main__')
    except SystemExit as exit:
        code = exit.code
    outputs[tool] = [code, out.getvalue()]
print(json.dumps(outputs))
"""


@pytest.mark.slow
def test_python_tools_help():
    out = run_tool(['-c', _RUN_HELPS, *HELP_TOOLS], cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    helps = json.loads(out.stdout.splitlines()[-1])
    assert list(helps) == list(HELP_TOOLS)
    for tool, (code, text) in helps.items():
        assert code == 0 and 'usage:' in text, (tool, code, text)
    for tool in ('tools/train.py', 'tools/test.py'):
        for flag in ('--work-dir', '--cfg-options', '--launcher'):
            assert flag in helps[tool][1], (tool, flag)


def _write_config(tmp_path, shapes_root):
    cfg = tiny_runner_config('unused', shapes_root, tiny_distill_model(),
                             max_iters=2)
    cfg.pop('work_dir')
    cfg.custom_imports = dict(imports=['attnfd_mm'],
                              allow_failed_imports=False)
    path = str(tmp_path / 'tiny_attnfd.py')
    cfg.dump(path)
    return path


@pytest.mark.slow
def test_train_resume_and_test(tmp_path, shapes_root):
    config = _write_config(tmp_path, shapes_root)
    work_dir = str(tmp_path / 'work')
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    out = run_tool(['tools/train.py', config, '--work-dir', work_dir],
                   cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
    assert open(osp.join(work_dir, 'last_checkpoint')).read().strip() \
        .endswith('iter_2.pth')
    # the run's copy of its config: the same values, written without yapf
    # (build_runner: mmengine's format_python_code=False)
    from mmengine.config import Config
    copied = osp.join(work_dir, 'tiny_attnfd.py')
    given, kept = (Config.fromfile(p).to_dict() for p in (config, copied))
    for key in ('model', 'train_dataloader', 'val_dataloader', 'train_cfg'):
        assert kept[key] == given[key], key
    assert '\nmodel=dict(\n' in open(copied).read()
    # --resume continues from iter 2 up to the new max_iters
    out = run_tool([
        'tools/train.py', config, '--work-dir', work_dir, '--resume',
        '--cfg-options', 'train_cfg.max_iters=3',
        'param_scheduler.0.end=3', 'default_hooks.checkpoint.interval=1',
        'log_level=INFO'
    ], cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 2' in out.stdout + out.stderr
    assert osp.isfile(osp.join(work_dir, 'iter_3.pth'))
    metrics = str(tmp_path / 'metrics.json')
    masks, painted = tmp_path / 'masks', tmp_path / 'painted'
    out = run_tool([
        'tools/test.py', config, osp.join(work_dir, 'iter_3.pth'),
        '--work-dir', str(tmp_path / 'test'), '--metrics-out', metrics,
        '--out', str(masks), '--show-dir', str(painted),
        '--cfg-options', 'log_level=INFO'
    ], cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'mIoU' in out.stdout + out.stderr
    # --out: a label PNG per val image, of its size; --show-dir: a painted
    # image per val image
    val_images = sorted(os.listdir(osp.join(shapes_root, 'img_dir', 'val')))
    assert sorted(os.listdir(masks)) == val_images
    assert _png_size(str(masks / val_images[0])) == (64, 64)
    drawn = [f for _, _, files in os.walk(painted) for f in files
             if f.endswith('.png')]
    assert len(drawn) == len(val_images)
    with open(metrics) as f:
        values = json.load(f)
    assert set(f'IoU.{c}' for c in SHAPES_CLASSES) <= set(values)
    assert 0 <= values['mIoU'] <= 100

    # per-class comparison of two result files: table and bar chart
    png = str(tmp_path / 'per_class.png')
    out = run_tool([
        'tools/analysis/per_class_iou.py', metrics, metrics, '--names', 'a',
        'b', '--out-png', png
    ], cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [line for line in out.stdout.splitlines() if line.startswith('|')]
    assert rows[0] == '| class | a | b |'
    assert len(rows) == 2 + len(SHAPES_CLASSES) + 1  # header, classes, mIoU
    assert f'| mIoU | {values["mIoU"]:.2f} | {values["mIoU"]:.2f} |' in rows
    assert _png_size(png)[0] > 100

    # Figure 1 for one image: one row per distilled layer (B, E)
    image = osp.join(shapes_root, 'img_dir', 'val',
                     sorted(os.listdir(osp.join(shapes_root, 'img_dir',
                                                'val')))[0])
    grid = str(tmp_path / 'attention.png')
    out = run_tool([
        'tools/visualize_attention.py', config,
        osp.join(work_dir, 'iter_3.pth'), image, '--out', grid
    ], cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    assert '2 layers' in out.stdout
    width, height = _png_size(grid)
    assert width > 2 * height  # five columns, two rows


def test_missing_config_and_checkpoint(tmp_path, monkeypatch):
    import runpy
    import sys
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, 'argv', ['train.py', 'configs/no_such.py'])
    with pytest.raises(SystemExit, match='ConfigNotFoundError: Config not '
                       'found'):
        runpy.run_path('tools/train.py', run_name='__main__')
    monkeypatch.setattr(sys, 'argv', [
        'test.py', 'configs/attnfd/deeplabv3_r101_r18_voc.py',
        str(tmp_path / 'none.pth')])
    with pytest.raises(FileNotFoundError, match='Checkpoint not found'):
        runpy.run_path('tools/test.py', run_name='__main__')


def test_set_data_root_reaches_every_dataset(tmp_path):
    from mmengine.config import Config

    from attnfd_mm.apis.runner_config import set_data_root
    leaf = dict(type='CamVidDataset', data_root='data/camvid', split='val')
    cfg = Config(dict(
        data_root='data/camvid',
        train_dataloader=dict(dataset=dict(
            type='ConcatDataset',
            datasets=[dict(type='RepeatDataset', times=2,
                           dataset=dict(leaf, split='train')),
                      dict(leaf, split='val')])),
        val_dataloader=dict(dataset=leaf),
        test_dataloader=dict(dataset=dict(type='CamVidDataset',
                                          split='test'))))
    root = str(tmp_path)
    set_data_root(cfg, root)
    train = cfg.train_dataloader.dataset
    assert 'data_root' not in train
    assert 'data_root' not in train.datasets[0]
    assert train.datasets[0].dataset.data_root == root
    assert train.datasets[1].data_root == root
    assert cfg.val_dataloader.dataset.data_root == root
    assert cfg.test_dataloader.dataset.data_root == root
    assert cfg.data_root == root
    with pytest.raises(FileNotFoundError, match='Dataset root not found'):
        set_data_root(cfg, str(tmp_path / 'nope'))


def test_launchers_run_the_set_up_python(tmp_path):
    """Without PYTHON, the launchers run the repository's .venv python when
    there is one, else python from PATH; PYTHON overrides both."""
    script = 'source tools/launch.sh; echo "$PYTHON"'
    env = {k: v for k, v in os.environ.items() if k != 'PYTHON'}
    out = subprocess.run(['bash', '-c', script], capture_output=True,
                         text=True, cwd=ROOT, env=env)
    venv = osp.join(ROOT, 'tools', '..', '.venv', 'bin', 'python')
    expected = venv if os.access(venv, os.X_OK) else 'python'
    assert out.stdout.strip() == expected
    # a copy of tools/ without a .venv beside it
    shutil.copytree(osp.join(ROOT, 'tools'), tmp_path / 'tools')
    out = subprocess.run(['bash', '-c', script], capture_output=True,
                         text=True, cwd=str(tmp_path), env=env)
    assert out.stdout.strip() == 'python'
    out = subprocess.run(['bash', '-c', script], capture_output=True,
                         text=True, cwd=str(tmp_path),
                         env=dict(env, PYTHON='/opt/py/bin/python3'))
    assert out.stdout.strip() == '/opt/py/bin/python3'


def test_amp_on_cpu_is_named(shapes_root):
    import torch

    from attnfd_mm.apis import enable_amp
    cfg = tiny_runner_config('w', shapes_root, tiny_distill_model())
    if torch.cuda.is_available():
        enable_amp(cfg)
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    else:
        with pytest.raises(RuntimeError, match='--amp: .*needs a CUDA.*'
                           'train without --amp on CPU'):
            enable_amp(cfg)


@pytest.mark.slow
def test_demo_and_layer_table_run(tmp_path):
    """The tools users run first: the demo at a tiny setting, the layer
    table on two families."""
    out = run_tool(['tools/demo.py', '--work-dir', str(tmp_path / 'demo'),
                    '--iters', '2', '--teacher-iters', '2'], cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    table = out.stdout.split('| model | val mIoU |')[1]
    rows = [line for line in table.splitlines() if line.startswith('|')]
    assert [r.split('|')[1].strip() for r in rows[1:]] == [
        'teacher (DeepLabV3-R34)', 'student (DeepLabV3-R18)',
        'student + AttnFD (B+E)']
    assert _png_size(str(tmp_path / 'demo' / 'attention.png'))[0] > 100
    # the console: stages, figures, where results went; logs in files
    assert len(out.stdout.splitlines()) < 25, out.stdout
    with open(tmp_path / 'demo' / 'results.json') as f:
        figures = json.load(f)
    assert [f'| {name} | {miou:.2f} |' for name, miou in figures.items()] \
        == rows[1:]
    for stage in ('teacher_r34', 'student', 'student_attnfd_r34'):
        log = (tmp_path / 'demo' / stage / 'console.log').read_text()
        assert 'Hooks will be executed in the following order' in log
        assert f'[demo] {stage}: val mIoU ' in out.stdout
    assert 'results.json' in out.stdout
    out = run_tool(['tools/analysis/layer_table.py', '--families', 'fcn',
                    'pspnet'], cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    table = [line for line in out.stdout.splitlines()
             if line.startswith('| fcn') or line.startswith('| pspnet')]
    assert len(table) == 2, out.stdout


def test_a_config_is_never_dumped_over_a_file_of_the_work_dir(tmp_path):
    """The runner dumps a config under its file name: not where that file
    is the config itself (DIR/distill_config.py) or another file."""
    from mmengine.config import Config

    from attnfd_mm.apis.runner_config import (keep_config_files,
                                              load_runner_config)
    work = tmp_path / 'w'
    work.mkdir()
    Config(dict(model=dict(type='X'), work_dir=str(work))).dump(
        str(work / 'own.py'))
    cfg = load_runner_config(str(work / 'own.py'))
    assert cfg.filename is None and cfg.model == dict(type='X')
    # another work dir: mmseg's <config name>.py dump
    cfg = load_runner_config(str(work / 'own.py'),
                             work_dir=str(tmp_path / 'other'))
    assert cfg.filename == str(work / 'own.py')
    assert keep_config_files(cfg, always=True).filename is None


def test_a_checkpoint_that_does_not_fit_is_a_named_error(tmp_path):
    import torch
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    from attnfd_mm.apis.test_config import (CheckpointMismatchError,
                                            check_checkpoint_fits)
    from attnfd_mm.testing import deeplabv3_segmentor
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(deeplabv3_segmentor('r18'))
    state = model.state_dict()
    path = str(tmp_path / 'ckpt.pth')
    torch.save(dict(state_dict={f'module.{k}': v for k, v in state.items()}),
               path)
    check_checkpoint_fits(model, path)  # mmengine drops module.
    # a distillation checkpoint: the student's weights under architecture.
    torch.save(dict(state_dict={f'architecture.{k}': v
                                for k, v in state.items()}), path)
    with pytest.raises(CheckpointMismatchError,
                       match=rf'{len(state)} of its {len(state)} weights '
                       r'are not in the model \(architecture\.'):
        check_checkpoint_fits(model, path)
    # one weight missing
    torch.save(dict(state_dict=dict(list(state.items())[1:])), path)
    with pytest.raises(CheckpointMismatchError,
                       match=rf'0 of its {len(state) - 1} weights .* and 1 '
                       rf"of the model's {len(state)} are not in it"):
        check_checkpoint_fits(model, path)


def test_absolute_paths_run_the_config_from_any_directory(tmp_path,
                                                          monkeypatch):
    from mmengine.config import Config

    from attnfd_mm.apis.runner_config import absolute_paths
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'r18.pth').write_bytes(b'')
    url = 'open-mmlab://resnet18_v1c'
    cfg = Config(dict(
        work_dir='w', load_from=None,
        model=dict(teacher_ckpt='t.pth', architecture=dict(
            pretrained=url, backbone=dict(init_cfg=dict(
                type='Pretrained', checkpoint='r18.pth')))),
        train_dataloader=dict(dataset=dict(
            type='ConcatDataset', datasets=[dict(data_root='data/a'),
                                            dict(data_root='/abs/b')])),
        val_dataloader=dict(dataset=dict(data_root='data/a'))))
    absolute_paths(cfg)
    assert cfg.work_dir == str(tmp_path / 'w')
    assert cfg.load_from is None
    assert cfg.model.teacher_ckpt == str(tmp_path / 't.pth')
    assert cfg.model.architecture.pretrained == url  # a URL, kept
    assert cfg.model.architecture.backbone.init_cfg.checkpoint == \
        str(tmp_path / 'r18.pth')
    assert [d.data_root for d in cfg.train_dataloader.dataset.datasets] == \
        [str(tmp_path / 'data' / 'a'), '/abs/b']
    assert cfg.val_dataloader.dataset.data_root == str(tmp_path / 'data/a')


def test_sample_check_benchmark_tables_both_pipelines(tmp_path, capsys):
    """tools/benchmarks/sample_check.py at a tiny size: one row per
    pipeline, one rate per epoch and the whole run's."""
    import runpy
    module = runpy.run_path(osp.join(ROOT, 'tools', 'benchmarks',
                                     'sample_check.py'))
    module['main'](['--images', '2', '--epochs', '2', '--size', '64', '32',
                    '--work-dir', str(tmp_path)])
    out = capsys.readouterr().out
    rows = {line.split('|')[1].strip(): line.split('|')[2:-1]
            for line in out.splitlines() if line.startswith('| with')}
    assert list(rows) == ['without CheckSegSample', 'with CheckSegSample']
    assert all(len(r) == 3 and float(r[0]) > 0 for r in rows.values())
    assert len(list(tmp_path.glob('data/*_label.png'))) == 2


def test_test_tool_never_resumes(tmp_path, shapes_root, monkeypatch):
    """A config that says ``resume = True`` (as ``train.py --resume`` once
    rewrote the composed config): tools/test.py scores the plain weights
    it was given instead of resuming a training state."""
    import runpy
    import sys

    import torch
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    from attnfd_mm.testing import deeplabv3_segmentor
    cfg = tiny_runner_config(str(tmp_path / 'w'), shapes_root,
                             deeplabv3_segmentor('r18'))
    cfg.resume = True
    cfg.dump(str(tmp_path / 'resuming.py'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        state = MODELS.build(deeplabv3_segmentor('r18')).state_dict()
    torch.save(dict(state_dict=state), str(tmp_path / 'plain.pth'))
    out = str(tmp_path / 'metrics.json')
    monkeypatch.setattr(sys, 'argv', [
        'test.py', str(tmp_path / 'resuming.py'), str(tmp_path / 'plain.pth'),
        '--metrics-out', out])
    # (the runner sets a default scope; the context drops it afterwards)
    with DefaultScope.overwrite_default_scope('mmseg'):
        runpy.run_path(osp.join(ROOT, 'tools', 'test.py'),
                       run_name='__main__')
    with open(out) as f:
        assert 0 <= json.load(f)['mIoU'] <= 100
