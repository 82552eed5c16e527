# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The plugin's names are visible through the registries after
``custom_imports``, in a fresh interpreter."""
from conftest import run_python

CHECK = '''
from mmengine.config import Config
cfg = Config.fromfile({path!r})
from mmengine.registry import HOOKS
from mmrazor.registry import MODELS, TASK_UTILS
for name in ('AttnFDLoss', 'CBAMConnector', 'ATConnector', 'SAConnector',
             'BAMConnector', 'EMAConnector', 'FrozenTeacherDistill',
             'AttnFDDistiller', 'LogitsDistiller', 'CheckedDistiller'):
    assert MODELS.get(name) is not None, name
for name in ('PreForwardInputsRecorder', 'OutputElementRecorder'):
    assert TASK_UTILS.get(name) is not None, name
assert HOOKS.get('ConnectorWarmupHook') is not None
loss = MODELS.build(dict(type='AttnFDLoss', loss_weight=1.0))
assert type(loss).__module__ == 'attnfd_mm.models.losses.attnfd_loss'
print('registered')
'''


def test_custom_imports_register_everything(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text("custom_imports = dict(imports=['attnfd_mm'], "
                    'allow_failed_imports=False)\n')
    out = run_python(CHECK.format(path=str(path)))
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'registered' in out.stdout


def test_without_custom_imports_nothing_is_registered(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text('x = 1\n')
    out = run_python('import sys\n'
                     'from mmengine.config import Config\n'
                     f'Config.fromfile({str(path)!r})\n'
                     'print("attnfd_mm" in sys.modules)')
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == 'False'
