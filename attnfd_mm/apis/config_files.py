# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Config files: read by name (closest names when missing), written."""
import copy
import difflib
import glob
import importlib.util
import os.path as osp
from typing import List, Sequence, Union

from mmengine.config import Config

from attnfd_mm.atomic_files import atomic_file
from attnfd_mm.compat import apply_entry_point_patches


class ConfigNotFoundError(FileNotFoundError):
    """A config file (local or ``pkg::path``) that does not exist."""


def closest_names(name: str, candidates: List[str], n: int = 3) -> List[str]:
    """The ``n`` candidates closest to ``name`` (path, then file name)."""
    close = difflib.get_close_matches(name, candidates, n=n, cutoff=0.6)
    # file name -> the first path of that name
    by_base = {osp.basename(path): path for path in reversed(candidates)}
    for base in difflib.get_close_matches(osp.basename(name), list(by_base),
                                          n=n, cutoff=0.6):
        if by_base[base] not in close:
            close.append(by_base[base])
    return close[:n]


def check_config_file(config: str) -> str:
    """The file of ``config`` (a local path, or ``pkg::path`` of the
    package's ``.mim/configs``).

    Raises:
        ConfigNotFoundError: It does not exist (with the closest names).
    """
    if '::' in config:
        from attnfd_mm.compat.config_bases import PACKAGE_SCOPE, mim_dir
        package, rel = config.split('::', 1)
        if package == PACKAGE_SCOPE:  # where Python imports it from
            root = osp.join(mim_dir(), 'configs')
        else:
            spec = importlib.util.find_spec(package)
            if spec is None or spec.origin is None:
                raise ConfigNotFoundError(
                    f'Config not found: {config!r}; the package {package!r} '
                    'is not installed (pip install it, or give a local '
                    'file).')
            root = osp.join(osp.dirname(spec.origin), '.mim', 'configs')
        if osp.isfile(osp.join(root, rel)):
            return osp.join(root, rel)
        shown = f'{package}::'
        names = glob.glob('**/*.py', root_dir=root, recursive=True)
        close = [shown + c for c in closest_names(rel, sorted(names))]
    else:
        if osp.isfile(config):
            return config
        folder = osp.dirname(osp.abspath(config))
        while not osp.isdir(folder) and osp.dirname(folder) != folder:
            folder = osp.dirname(folder)
        rel = osp.relpath(osp.abspath(config), folder)
        shown = folder if osp.isabs(config) else osp.relpath(folder)
        names = [name for pattern in ('*.py', '*/*.py', '*/*/*.py')
                 for name in glob.glob(pattern, root_dir=folder)]
        close = [osp.normpath(osp.join(shown, c))
                 for c in closest_names(rel, sorted(names))]
    hint = ('; did you mean ' + ', '.join(repr(c) for c in close) + '?'
            if close else f'; no config with a similar name in {shown}.')
    raise ConfigNotFoundError(f'Config not found: {config!r}{hint}')


def load_config(config: Union[str, Config]) -> Config:
    """A copy of a Config, or the config file (:func:`check_config_file`)."""
    if isinstance(config, Config):
        return copy.deepcopy(config)
    path = check_config_file(config)
    apply_entry_point_patches()  # attnfd_mm:: bases
    return Config.fromfile(path)  # not mmengine.hub: it reads every metafile


def write_config(cfg: Config, path: str, header: Sequence[str] = ()) -> str:
    """Write ``cfg`` atomically to ``path`` (returned), ``header`` on top."""
    text = ''.join(f'# {line}\n' for line in header) + cfg.pretty_text
    with atomic_file(path) as tmp, open(tmp, 'w') as f:
        f.write(text)
    return path
