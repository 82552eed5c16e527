# Copyright (c) attnfd-mm contributors. All rights reserved.
"""ConnectorWarmupHook: only connectors train during warm-up."""
import pytest
import torch
from mmengine.hooks import Hook

from attnfd_mm.apis import build_runner
from attnfd_mm.engine import ConnectorWarmupHook
from attnfd_mm.testing import tiny_distill_model, tiny_runner_config


class Snapshots(Hook):
    """Keep student and connector weights after every iteration."""
    priority = 'LOWEST'

    def __init__(self):
        self.student, self.connectors = [], []

    def before_train(self, runner):
        self._save(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self._save(runner)

    def _save(self, runner):
        model = runner.model
        self.student.append({k: v.detach().clone()
                             for k, v in model.student.named_parameters()})
        self.connectors.append({
            k: v.detach().clone()
            for k, v in model.distiller.connectors.named_parameters()})


def _changed(a, b):
    return [k for k in a if not torch.equal(a[k], b[k])]


def test_student_frozen_then_trained(tmp_path, shapes_root):
    model = tiny_distill_model('r18', 'r18')
    cfg = tiny_runner_config(str(tmp_path), shapes_root, model, max_iters=3)
    cfg.custom_hooks = [dict(type='ConnectorWarmupHook', warmup_iters=2)]
    runner = build_runner(cfg)
    snaps = Snapshots()
    runner.register_hook(snaps)
    runner.train()
    # iterations 1 and 2: connectors move, student does not
    for i in (1, 2):
        assert not _changed(snaps.student[i - 1], snaps.student[i])
        assert _changed(snaps.connectors[i - 1], snaps.connectors[i])
    # iteration 3: the student trains too
    assert _changed(snaps.student[2], snaps.student[3])
    assert all(p.requires_grad for p in runner.model.student.parameters())


def test_keeps_deliberately_frozen_parameters_frozen(tmp_path, shapes_root):
    model = tiny_distill_model('r18', 'r18')
    model['architecture']['backbone']['frozen_stages'] = 1
    cfg = tiny_runner_config(str(tmp_path), shapes_root, model, max_iters=2)
    cfg.custom_hooks = [dict(type='ConnectorWarmupHook', warmup_iters=1)]
    runner = build_runner(cfg)
    runner.train()
    stem = runner.model.student.backbone.stem
    assert not any(p.requires_grad for p in stem.parameters())
    assert runner.model.student.backbone.layer2[0].conv1.weight.requires_grad


@pytest.mark.parametrize('bad', [-1, 1.5, 'ten', True])
def test_bad_warmup_iters(bad):
    with pytest.raises(ValueError, match='warmup_iters'):
        ConnectorWarmupHook(warmup_iters=bad)
