# Copyright (c) attnfd-mm contributors. All rights reserved.
import copy
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import List, Union

import pytest
import torch

from attnfd_mm.compat import apply_entry_point_patches
from attnfd_mm.testing import make_synthetic_shapes

apply_entry_point_patches()  # the tests run as the package's tools do

#: the repository's root
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

if os.environ.get('PYTEST_XDIST_WORKER'):
    # several test processes share the cores: one thread each, for them and
    # for the tools they start, instead of each oversubscribing every core
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))
else:
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def _parse_metafiles_once() -> None:
    """mmengine parses every metafile of mmseg (YAML, ~0.1 s in all) each
    time a config names an ``mmseg::`` base; in the test processes each file
    is parsed once (keyed by path and modification time) and copied."""
    from mmengine.config import utils
    read, parsed = utils.load, {}

    def load(path, *args, **kwargs):
        if args or kwargs or not str(path).endswith(('.yml', '.yaml')):
            return read(path, *args, **kwargs)
        key = (str(path), os.stat(path).st_mtime_ns)
        if key not in parsed:
            parsed[key] = read(path)
        return copy.deepcopy(parsed[key])

    utils.load = load


_parse_metafiles_once()


_WEIGHT_POOL = [torch.empty(0)]


@pytest.fixture
def pooled_weight_init(monkeypatch):
    """``Tensor.uniform_`` and ``normal_`` copy their values from one fixed
    pool of uniform draws (same range; for ``normal_`` the same mean and
    variance) instead of drawing every element anew: for tests that build
    many full-size models and check what does not depend on the initial
    values (a finite step, gradients, the layers found). Drawing every
    weight was about 60 % of the time it takes to build a DeepLabV3-R101
    pair on the CPU."""

    def uniform_(tensor, a=0.0, b=1.0, generator=None):
        n = tensor.numel()
        if _WEIGHT_POOL[0].numel() < n:  # drawn once per test process
            _WEIGHT_POOL[0] = torch.rand(
                max(n, 1 << 24), generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            return tensor.copy_(_WEIGHT_POOL[0][:n].view(tensor.shape)).mul_(
                b - a).add_(a)

    def normal_(tensor, mean=0.0, std=1.0, generator=None):
        half_width = std * 3 ** 0.5  # a uniform of variance std ** 2
        return uniform_(tensor, mean - half_width, mean + half_width)

    monkeypatch.setattr(torch.Tensor, 'uniform_', uniform_)
    monkeypatch.setattr(torch.Tensor, 'normal_', normal_)


@pytest.fixture(autouse=True)
def _default_scope_dropped_after_each_test():
    """A runner built in a test (a tool run in-process) leaves its default
    scope current for the rest of the process, where it would change how
    later tests' registries resolve: drop what a test left, as mmengine's
    ``DefaultScope.overwrite_default_scope`` does on exit."""
    from mmengine.registry import DefaultScope
    before = copy.copy(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict = before


@pytest.fixture(scope='session')
def shapes_root(tmp_path_factory) -> str:
    """The synthetic shapes dataset, written once per test session."""
    return make_synthetic_shapes(
        str(tmp_path_factory.mktemp('shapes')), num_train=8, num_val=4,
        size=64)


@pytest.fixture(scope='session')
def camvid_shapes_root(tmp_path_factory) -> str:
    """The synthetic shapes (64x64, 4 train / 2 val images) in CamVid's
    SegNet layout: ``{split}/`` and ``{split}annot/``, labels 0-3."""
    root = str(tmp_path_factory.mktemp('camvid_shapes'))
    shapes = make_synthetic_shapes(
        os.path.join(root, 'shapes'), num_train=4, num_val=2, size=64)
    camvid = os.path.join(root, 'camvid')
    for split in ('train', 'val'):
        for kind, folder in (('img_dir', split), ('ann_dir', f'{split}annot')):
            shutil.copytree(os.path.join(shapes, kind, split),
                            os.path.join(camvid, folder))
    return camvid


def run_python(code: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (no attnfd_mm imported)."""
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=timeout)


def slow_except(values: List[str], fast) -> list:
    """``values`` as pytest params, all marked slow but those in ``fast``
    (the few that stay in ``make test-fast``)."""
    return [pytest.param(v, marks=() if v in fast else pytest.mark.slow)
            for v in values]


def wait_for_file(path: Union[str, Path], proc: subprocess.Popen,
                  timeout: float, what: str) -> None:
    """Wait until ``path`` exists; fail when ``proc`` ends first (``what``:
    what the file stands for) or after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while not os.path.isfile(path):
        assert proc.poll() is None, f'the process ended before {what}'
        assert time.time() < deadline, f'no {what} in {timeout} s'
        time.sleep(0.05)


def load_tool(path: str) -> ModuleType:
    """A script of this repository (``tools/...py``) as a module, to call its
    functions in the test's process."""
    name = 'tool_' + os.path.splitext(path)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(args: List[str], cwd: str,
             timeout: int = 600) -> subprocess.CompletedProcess:
    """Run a ``tools/`` script of this repository."""
    return subprocess.run([sys.executable, *args],
                          capture_output=True,
                          text=True,
                          timeout=timeout,
                          cwd=cwd,
                          env=dict(os.environ, PYTHONPATH=ROOT))
