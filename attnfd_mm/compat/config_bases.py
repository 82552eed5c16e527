# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Let mmengine resolve ``attnfd_mm::`` config bases.

mmengine 0.x resolves a ``_base_ = ['pkg::path']`` entry only for the
OpenMMLab packages listed in ``mmengine.config.utils.MODULE2PACKAGE``; any
other name fails with "mmengine does not support to load <pkg> config". For
a listed package it locates the installed distribution with
``pkg_resources``, reads ``<package dir>/.mim/model-index.yml`` and loads
``<package dir>/.mim/configs/<path>``, stamping ``_scope_='<pkg>'`` on the
base's outermost typed dicts.

This step, applied by ``import attnfd_mm``, changes three things, for
attnfd_mm only:

1. ``attnfd_mm`` is listed in ``MODULE2PACKAGE`` (pip name ``attnfd-mm``);
2. the package is located where Python imports it from. ``pkg_resources``
   places an editable (PEP 660) install in site-packages, where its files
   are not, and does not see a source checkout on ``PYTHONPATH``;
3. an ``attnfd_mm::`` base gets the scope its configs are written for,
   :data:`CONFIG_SCOPE` (``'mmseg'``). attnfd_mm has no registry scope of
   its own: its modules live in mmseg's and mmrazor's registries and its
   configs run with ``default_scope='mmseg'``, naming ``_scope_='mmrazor'``
   where they need MMRazor's. Stamped ``'attnfd_mm'``, the datasets,
   metrics, loops and hooks of a base would be looked up in a scope that
   does not exist.

The configs are found in ``attnfd_mm/.mim``: a wheel carries copies, a
source checkout has links to the top-level ``configs/`` and ``tools/``.
Other packages' ``pkg::`` bases are untouched.
"""
import importlib.util
import os.path as osp
from types import ModuleType
from typing import Any, Callable, Optional, Tuple

import mmengine
from mmengine.utils import digit_version

#: The prefix of the bases this step resolves: ``attnfd_mm::<path>``.
PACKAGE_SCOPE = 'attnfd_mm'
#: The distribution (pip) name of the package.
DISTRIBUTION = 'attnfd-mm'
#: The registry scope the package's configs are written for.
CONFIG_SCOPE = 'mmseg'
#: First mmengine release whose config internals this step has not been
#: checked against; on it the step does nothing.
FIRST_UNCHECKED_MMENGINE = '1.0.0'

_PATCH_FLAG = '_attnfd_config_bases'


class ConfigBasesNotFoundError(FileNotFoundError):
    """attnfd_mm is importable but its ``.mim`` config folder is not."""


def needs_config_bases(
        mmengine_version: str = mmengine.__version__) -> bool:
    """Whether this mmengine resolves ``pkg::`` bases only through its
    fixed package table (mmengine 0.x)."""
    return digit_version(mmengine_version) < digit_version(
        FIRST_UNCHECKED_MMENGINE)


def package_dir() -> str:
    """The directory Python imports attnfd_mm from (not importing it)."""
    spec = importlib.util.find_spec(PACKAGE_SCOPE)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f'{PACKAGE_SCOPE} is not importable.')
    return osp.dirname(spec.origin)


def mim_dir() -> str:
    """``attnfd_mm/.mim``: ``model-index.yml``, ``configs/``, ``tools/``.

    Raises:
        ConfigBasesNotFoundError: The folder or its ``model-index.yml`` is
            missing, with how to restore it.
    """
    path = osp.join(package_dir(), '.mim')
    if not osp.isfile(osp.join(path, 'model-index.yml')):
        raise ConfigBasesNotFoundError(
            f'{path}/model-index.yml not found, so `{PACKAGE_SCOPE}::` '
            'config bases cannot be resolved. A wheel install carries it: '
            'reinstall with `pip install attnfd-mm` (or `pip install .`). '
            'In a source checkout attnfd_mm/.mim holds links to configs/, '
            'tools/ and model-index.yml: restore them with '
            '`git checkout -- attnfd_mm/.mim`.')
    return path


def _own_package_lookup(name: str, lookup: Callable) -> Callable:
    """Wrap one of mmengine's package lookups (``is_installed``,
    ``get_installed_path``, ``install_package``) so that it answers for
    attnfd-mm from :func:`package_dir` and leaves other packages to
    mmengine."""

    def answer(package: str) -> Any:
        if package != DISTRIBUTION:
            return lookup(package)
        if name == 'is_installed':
            return importlib.util.find_spec(PACKAGE_SCOPE) is not None
        if name == 'get_installed_path':
            return osp.dirname(mim_dir())
        return None  # install_package: importable, nothing to install

    answer.__name__ = name
    answer.__doc__ = lookup.__doc__
    setattr(answer, _PATCH_FLAG, True)
    return answer


def _patch_lookups(namespace: ModuleType) -> None:
    """Wrap the package lookups ``namespace`` imported from
    ``mmengine.utils`` (once)."""
    for name in ('is_installed', 'get_installed_path', 'install_package'):
        lookup = getattr(namespace, name, None)
        if lookup is not None and not getattr(lookup, _PATCH_FLAG, False):
            setattr(namespace, name, _own_package_lookup(name, lookup))


def _scoped_cfg_path(
    get_cfg_path: Callable[[str, str], Tuple[str, Optional[str]]]
) -> Callable[[str, str], Tuple[str, Optional[str]]]:
    """Wrap ``Config._get_cfg_path``: an ``attnfd_mm::`` base is resolved
    by mmengine and scoped :data:`CONFIG_SCOPE`."""

    def _get_cfg_path(cfg_path: str,
                      filename: str) -> Tuple[str, Optional[str]]:
        path, scope = get_cfg_path(cfg_path, filename)
        if scope == PACKAGE_SCOPE:
            scope = CONFIG_SCOPE
        return path, scope

    setattr(_get_cfg_path, _PATCH_FLAG, True)
    return _get_cfg_path


def enable_config_bases() -> bool:
    """Make ``attnfd_mm::<path>`` bases resolve, scoped ``mmseg``.

    Returns:
        bool: True when mmengine needed it (now or before), False on an
        mmengine this step does not know (a no-op).
    """
    if not needs_config_bases():
        return False
    from mmengine.config import config as config_module
    from mmengine.config import utils as config_utils
    from mmengine.hub import hub as hub_module

    known = config_utils.MODULE2PACKAGE.get(PACKAGE_SCOPE)
    if known not in (None, DISTRIBUTION):
        raise RuntimeError(
            f'mmengine maps {PACKAGE_SCOPE!r} to {known!r}, not '
            f'{DISTRIBUTION!r}: another package claims the name, so '
            f'`{PACKAGE_SCOPE}::` config bases cannot be enabled. Remove '
            'that entry from mmengine.config.utils.MODULE2PACKAGE.')
    config_utils.MODULE2PACKAGE[PACKAGE_SCOPE] = DISTRIBUTION
    _patch_lookups(config_module)
    _patch_lookups(hub_module)
    Config = config_module.Config
    if not getattr(Config._get_cfg_path, _PATCH_FLAG, False):
        Config._get_cfg_path = staticmethod(
            _scoped_cfg_path(Config._get_cfg_path))
    return True
