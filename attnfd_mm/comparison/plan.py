# Copyright (c) attnfd-mm contributors. All rights reserved.
"""What a comparison runs: its arms and their order, as data."""
from dataclasses import dataclass
from typing import List, Optional, Tuple

from attnfd_mm.apis import METHODS, method_label

#: The student trained alone: the arm every other is compared with.
ALONE = 'student'
#: The student alone for the compute of the slowest (or same_time_as) arm.
SAME_TIME = 'student_same_time'
#: Everything a plan's ``methods`` may hold.
ARMS = [*METHODS, SAME_TIME]


class ComparisonError(ValueError):
    """A comparison that cannot run as asked (named cause and fix)."""


@dataclass(frozen=True)
class Arm:
    """One training run of a comparison: ``method`` with ``seed``."""
    method: str
    seed: int

    @property
    def stage(self) -> str:
        """Its name in the work dir (``checkpoints/<stage>.pth``, ...)."""
        return f'{self.method}_seed{self.seed}'

    @property
    def distills(self) -> bool:
        """Whether a teacher trains it (not the student alone)."""
        return self.method not in (ALONE, SAME_TIME)


@dataclass(frozen=True)
class Plan:
    """Every method with every seed, ``iters`` iterations each; checked."""
    methods: Tuple[str, ...]
    seeds: Tuple[int, ...] = (0, )
    iters: int = 1000
    layers: Optional[Tuple[str, ...]] = None
    same_time_as: Optional[str] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, 'methods', tuple(dict.fromkeys(self.methods)))
        object.__setattr__(self, 'seeds', tuple(self.seeds))
        object.__setattr__(self, 'layers', tuple(self.layers or ()) or None)
        unknown = [m for m in self.methods if m not in ARMS]
        if unknown:
            raise ComparisonError(f'Unknown methods {unknown}; valid: {ARMS}.')
        if self.same_time_as not in (None, *self.distilled):
            raise ComparisonError(
                f'same_time_as={self.same_time_as!r} is not one of the '
                f'distillation methods compared: {self.distilled}.')
        if SAME_TIME in self.methods and (ALONE not in self.methods or
                                          not self.distilled):
            raise ComparisonError(
                f'{SAME_TIME} needs the student alone ({ALONE!r}) and at '
                'least one distillation method in the comparison: their '
                'step times set its iterations.')

    @property
    def distilled(self) -> List[str]:
        """The distillation methods compared."""
        return [m for m in self.methods if Arm(m, 0).distills]

    def arms(self) -> List[Arm]:
        """Every arm in running order: seed by seed, the same-time arms
        last (they need the step times of the others)."""
        return sorted((Arm(m, s) for s in self.seeds for m in self.methods),
                      key=lambda arm: arm.method == SAME_TIME)

    def label(self, method: str) -> str:
        """``method``'s name in the report."""
        if method == SAME_TIME:
            return 'student alone, same time'
        return method_label(method, self.layers)


def references() -> List[str]:
    """The arms every other is compared with (docs/design.md)."""
    return [ALONE, SAME_TIME, *(m for m, row in METHODS.items()
                                if m != ALONE and not row.feature_layers)]
