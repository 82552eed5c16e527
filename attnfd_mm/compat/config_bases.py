# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Let mmengine 0.10 resolve ``attnfd_mm::`` config bases: it knows only the
packages it lists, found with ``pkg_resources`` (which misses an editable
install or a checkout on ``PYTHONPATH``). attnfd_mm is listed, found where
Python imports it from, and its bases are scoped ``mmseg``."""
import os.path as osp
from typing import Callable, Optional, Tuple

PACKAGE_SCOPE = 'attnfd_mm'  # the prefix of the bases: attnfd_mm::<path>
DISTRIBUTION = 'attnfd-mm'
CONFIG_SCOPE = 'mmseg'  # the registry scope of the package's configs
PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


class ConfigBasesNotFoundError(FileNotFoundError):
    """attnfd_mm is importable but its ``.mim`` config folder is not."""


class PackageNameClaimedError(RuntimeError):
    """mmengine maps ``attnfd_mm`` to another distribution."""


def mim_dir(package_dir: str = PACKAGE_DIR) -> str:
    """``attnfd_mm/.mim``, or :class:`ConfigBasesNotFoundError`."""
    path = osp.join(package_dir, '.mim')
    if not osp.isfile(osp.join(path, 'model-index.yml')):
        raise ConfigBasesNotFoundError(
            f'{path}/model-index.yml not found, so `{PACKAGE_SCOPE}::` bases '
            'cannot be resolved: reinstall the wheel (`pip install '
            'attnfd-mm`) or, in a source checkout, restore the links with '
            '`git checkout -- attnfd_mm/.mim`.')
    return path


#: What mmengine's package lookups answer for attnfd-mm (it is importable).
OWN_ANSWERS = dict(
    is_installed=lambda: True,
    get_installed_path=lambda: osp.dirname(mim_dir()),
    install_package=lambda: None)


def _own_lookup(lookup: Callable, answer: Callable) -> Callable:
    return lambda package: answer() if package == DISTRIBUTION else lookup(
        package)


def enable_config_bases() -> None:
    """Make ``attnfd_mm::<path>`` bases resolve, scoped ``mmseg`` (or raise
    :class:`PackageNameClaimedError`)."""
    from mmengine.config import config as config_module
    from mmengine.config import utils as config_utils
    from mmengine.hub import hub as hub_module

    known = config_utils.MODULE2PACKAGE.get(PACKAGE_SCOPE)
    if known not in (None, DISTRIBUTION):
        raise PackageNameClaimedError(
            f'mmengine maps {PACKAGE_SCOPE!r} to {known!r}: another package '
            f'claims the name, so `{PACKAGE_SCOPE}::` bases cannot resolve.')
    config_utils.MODULE2PACKAGE[PACKAGE_SCOPE] = DISTRIBUTION
    for namespace in (config_module, hub_module):  # their mmengine.utils
        for name, answer in OWN_ANSWERS.items():
            if hasattr(namespace, name):
                setattr(namespace, name,
                        _own_lookup(getattr(namespace, name), answer))
    get_cfg_path = config_module.Config._get_cfg_path

    def scoped_cfg_path(cfg_path: str,
                        filename: str) -> Tuple[str, Optional[str]]:
        path, scope = get_cfg_path(cfg_path, filename)
        return path, CONFIG_SCOPE if scope == PACKAGE_SCOPE else scope

    config_module.Config._get_cfg_path = staticmethod(scoped_cfg_path)
