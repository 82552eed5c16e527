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


SCOPED_BUILD = '''
from mmengine.registry import DefaultScope
import attnfd_mm  # noqa: F401
from attnfd_mm.models import AttnFDDistiller, LogitsDistiller
LOGITS = dict(source='decode_head.conv_seg', channels=21)
for scope in ('mmseg', 'mmengine'):
    DefaultScope.get_instance(f'caller_{scope}', scope_name=scope)
    attnfd = AttnFDDistiller(student_layers='deeplabv3_r18',
                             teacher_layers='deeplabv3_r101',
                             logits_loss=dict(type='KLDivergence', tau=1.0),
                             student_logits=LOGITS, teacher_logits=LOGITS)
    kd = LogitsDistiller(loss=dict(type='KLDivergence', tau=1.0),
                         student_logits=LOGITS, teacher_logits=LOGITS)
    assert DefaultScope.get_current_instance().scope_name == scope
    print(scope, sorted(attnfd.connectors),
          sorted(attnfd.student_recorders.recorders),
          sorted(kd.teacher_recorders.recorders))
'''


def test_distillers_build_inside_another_default_scope():
    """An mmseg runner (or an earlier test) leaves ``mmseg`` as the default
    scope: the distillers still find their recorders, connectors and losses
    in MMRazor's registries, and give the caller's scope back."""
    out = run_python(SCOPED_BUILD)
    assert out.returncode == 0, out.stderr[-2000:]
    for scope in ('mmseg', 'mmengine'):
        assert f"{scope} ['B_s', 'B_t', 'E_s', 'E_t'] ['B', 'E', 'logits'] " \
            "['logits']" in out.stdout, out.stdout
