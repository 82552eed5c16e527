# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The distillation methods (docs/design.md, "Adding a method")."""
import functools
import os
import os.path as osp
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Dict, Iterator, Optional, Sequence

from mmengine.config import Config

from attnfd_mm.compat.config_bases import PACKAGE_DIR

#: The method files' folder (the package's configs).
METHODS_DIR = osp.join(PACKAGE_DIR, '.mim', 'configs', '_base_', 'methods')
#: The AttnFD layers distilled unless ``layers`` says otherwise.
DEFAULT_LAYERS = ('B', 'E')
#: ``tools/distill.py``'s default: the best CamVid mean (docs/benchmarks.md).
DEFAULT_METHOD = 'attnfd_kd'


class UnknownMethodError(ValueError):
    """A method that has no file in :data:`METHODS_DIR`."""


@dataclass(frozen=True)
class DistillMethod:
    """A method file: ``label`` (reports), ``description`` (``--help``) and
    ``distiller`` (None: the student alone)."""
    label: str
    description: str
    distiller: Optional[Dict]

    @property
    def feature_layers(self) -> bool:
        """Whether the method takes feature ``layers``."""
        return self.distiller is not None and 'layers' in self.distiller


@functools.lru_cache(maxsize=None)
def read_method(path: str) -> DistillMethod:
    """The method of the file ``path``."""
    cfg = Config.fromfile(path)
    distiller = cfg.distiller.to_dict() if cfg.distiller else None
    return DistillMethod(cfg.method.label, cfg.method.description, distiller)


class MethodFiles(Mapping):
    """Method name -> :class:`DistillMethod` of ``folder/<name>.py``."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(name[:-3] for name in os.listdir(self.folder)
                           if name.endswith('.py')))

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __getitem__(self, name: str) -> DistillMethod:
        path = osp.join(self.folder, f'{name}.py')
        if not isinstance(name, str) or not osp.isfile(path):
            raise KeyError(name)
        return read_method(path)


#: Every method a distillation config can be composed with.
METHODS = MethodFiles(METHODS_DIR)


def check_method(method: str) -> DistillMethod:
    """The method ``method``, or a named error listing the valid ones."""
    if method not in METHODS:
        raise UnknownMethodError(
            f'Unknown distillation method {method!r}; valid methods: '
            f'{sorted(METHODS)}.')
    return METHODS[method]


def method_label(method: str, layers: Optional[Sequence[str]] = None) -> str:
    """``method``'s label, with its layers when it distils features."""
    row = check_method(method)
    if not row.feature_layers:
        return row.label
    names = '+'.join(layers or DEFAULT_LAYERS)
    return row.label.replace('AttnFD', f'AttnFD ({names})', 1)
