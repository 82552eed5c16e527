# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Let mmengine resolve ``attnfd_mm::`` config bases.

mmengine 0.10 resolves ``_base_ = ['pkg::path']`` only for the packages of
``mmengine.config.utils.MODULE2PACKAGE``, locates them with
``pkg_resources`` and stamps ``_scope_='<pkg>'`` on a base's typed dicts.
For attnfd_mm only: the name is listed (pip name ``attnfd-mm``); the package
is located where Python imports it from (``pkg_resources`` misplaces an
editable install and misses a checkout on ``PYTHONPATH``); its bases are
scoped :data:`CONFIG_SCOPE`, the registries its modules live in. The
configs are in ``attnfd_mm/.mim`` (copies in a wheel, links in a checkout).
"""
import os.path as osp
from types import ModuleType
from typing import Callable, Optional, Tuple

#: The prefix of the bases resolved here: ``attnfd_mm::<path>``.
PACKAGE_SCOPE = 'attnfd_mm'
#: The distribution (pip) name of the package.
DISTRIBUTION = 'attnfd-mm'
#: The registry scope the package's configs are written for.
CONFIG_SCOPE = 'mmseg'
#: The directory Python imports attnfd_mm from.
PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


class ConfigBasesNotFoundError(FileNotFoundError):
    """attnfd_mm is importable but its ``.mim`` config folder is not."""


class PackageNameClaimedError(RuntimeError):
    """mmengine maps ``attnfd_mm`` to another distribution."""


def mim_dir(package_dir: str = PACKAGE_DIR) -> str:
    """``attnfd_mm/.mim``: ``model-index.yml``, ``configs/``, ``tools/``.

    Raises:
        ConfigBasesNotFoundError: It or its ``model-index.yml`` is missing.
    """
    path = osp.join(package_dir, '.mim')
    if not osp.isfile(osp.join(path, 'model-index.yml')):
        raise ConfigBasesNotFoundError(
            f'{path}/model-index.yml not found, so `{PACKAGE_SCOPE}::` '
            'config bases cannot be resolved. A wheel install carries it: '
            'reinstall with `pip install attnfd-mm` (or `pip install .`). '
            'In a source checkout attnfd_mm/.mim holds links to configs/, '
            'tools/ and model-index.yml: restore them with '
            '`git checkout -- attnfd_mm/.mim`.')
    return path


#: What mmengine's package lookups answer for attnfd-mm (it is importable).
OWN_ANSWERS = dict(
    is_installed=lambda: True,
    get_installed_path=lambda: osp.dirname(mim_dir()),
    install_package=lambda: None)


def _patch_lookups(namespace: ModuleType) -> None:
    """Make the package lookups ``namespace`` imported from mmengine answer
    for attnfd-mm with :data:`OWN_ANSWERS`."""

    def own_lookup(lookup: Callable, own: Callable) -> Callable:
        return lambda package: own() if package == DISTRIBUTION else lookup(
            package)

    for name, own in OWN_ANSWERS.items():
        if hasattr(namespace, name):
            setattr(namespace, name, own_lookup(getattr(namespace, name), own))


def _scoped_cfg_path(get_cfg_path: Callable) -> Callable:
    """Wrap ``Config._get_cfg_path``: ``attnfd_mm::`` bases are scoped
    :data:`CONFIG_SCOPE`."""

    def _get_cfg_path(cfg_path: str,
                      filename: str) -> Tuple[str, Optional[str]]:
        path, scope = get_cfg_path(cfg_path, filename)
        return path, CONFIG_SCOPE if scope == PACKAGE_SCOPE else scope

    return _get_cfg_path


def enable_config_bases() -> None:
    """Make ``attnfd_mm::<path>`` bases resolve, scoped ``mmseg``.

    Raises:
        PackageNameClaimedError: mmengine maps ``attnfd_mm`` elsewhere.
    """
    from mmengine.config import config as config_module
    from mmengine.config import utils as config_utils
    from mmengine.hub import hub as hub_module

    known = config_utils.MODULE2PACKAGE.get(PACKAGE_SCOPE)
    if known not in (None, DISTRIBUTION):
        raise PackageNameClaimedError(
            f'mmengine maps {PACKAGE_SCOPE!r} to {known!r}, not '
            f'{DISTRIBUTION!r}: another package claims the name, so '
            f'`{PACKAGE_SCOPE}::` config bases cannot be enabled. Remove '
            'that entry from mmengine.config.utils.MODULE2PACKAGE.')
    config_utils.MODULE2PACKAGE[PACKAGE_SCOPE] = DISTRIBUTION
    _patch_lookups(config_module)
    _patch_lookups(hub_module)
    config_module.Config._get_cfg_path = staticmethod(
        _scoped_cfg_path(config_module.Config._get_cfg_path))
