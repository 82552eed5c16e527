# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Fixes for the OpenMMLab stack on current PyTorch, each applied only where
the upstream releases it works around are installed; none edits them
(``docs/design.md``, "Compatibility with current PyTorch")."""
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Callable, Dict, List, Optional, Set

from packaging.specifiers import SpecifierSet

from . import (atomic_checkpoints, checkpoint_loading, config_bases,
               cpu_distributed, mmrazor_quantization)


def installed_version(package: str) -> Optional[str]:
    """The version of distribution ``package`` (None: absent), not imported."""
    try:
        return version(package)
    except PackageNotFoundError:
        return None


@dataclass(frozen=True)
class Patch:
    """A fix, needed where each package of ``affects`` (name -> PEP 440
    range) is in its range; ``at_import``: applied by ``import attnfd_mm``."""
    name: str
    affects: Dict[str, str]
    apply: Callable[[], None]
    at_import: bool = False

    def needed(self) -> bool:
        for package, versions in self.affects.items():
            installed = installed_version(package)
            if installed is None or installed not in SpecifierSet(
                    versions, prereleases=True):
                return False
        return True


MMENGINE_0_10 = '>=0.10,<1.0'
#: The fixes, in the order they are applied.
PATCHES = (
    Patch('mmrazor_quantization', dict(mmrazor='<=1.0.0', torch='!=1.13.*'),
          mmrazor_quantization.stub_backend_config, at_import=True),
    Patch('mmengine_checkpoints', dict(mmengine=MMENGINE_0_10,
                                       torch='>=2.6'),
          checkpoint_loading.allow_mmengine_checkpoints, at_import=True),
    Patch('config_bases', dict(mmengine=MMENGINE_0_10),
          config_bases.enable_config_bases),
    Patch('cpu_distributed', dict(mmengine=MMENGINE_0_10),
          cpu_distributed.allow_cpu_distributed),
    Patch('atomic_checkpoints', dict(mmengine=MMENGINE_0_10),
          atomic_checkpoints.make_checkpoint_saves_atomic),
)
_applied: Set[str] = set()


def apply_entry_point_patches(at_import_only: bool = False) -> List[str]:
    """Apply every needed fix (``at_import_only``: those of ``import
    attnfd_mm``), each once; return the names of the fixes in effect."""
    for patch in PATCHES:
        if (patch.at_import or not at_import_only) and \
                patch.name not in _applied and patch.needed():
            patch.apply()
            _applied.add(patch.name)
    return [patch.name for patch in PATCHES if patch.name in _applied]


def apply_import_patches() -> List[str]:
    """Apply the fixes of ``import attnfd_mm``; return those in effect."""
    return apply_entry_point_patches(at_import_only=True)


__all__ = [
    'Patch', 'PATCHES', 'apply_entry_point_patches', 'apply_import_patches',
    'installed_version'
]
