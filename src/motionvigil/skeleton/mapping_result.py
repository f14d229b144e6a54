"""The result of automatic joint mapping (:class:`AutoMapping`) and its error (:class:`MappingError`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from motionvigil.io.joint_map import Mix
from motionvigil.io.layouts import SMPL22_NAMES

__all__ = ["AutoMapping", "MappingError", "Mix"]



class MappingError(ValueError):
    """No SMPL-22 mapping could be made; the message is one line."""


@dataclass
class AutoMapping:
    """The result: SMPL-22 joint -> ``{file joint: weight}`` and how it was found."""

    mapping: dict[str, Mix]
    notes: list[str] = field(default_factory=list)

    def matrix(self, names: Sequence[str]) -> np.ndarray:
        """The ``[22, J]`` matrix over ``names``."""
        index = {n: i for i, n in enumerate(names)}
        out = np.zeros((len(SMPL22_NAMES), len(names)))
        for row, smpl in enumerate(SMPL22_NAMES):
            for name, weight in self.mapping[smpl].items():
                out[row, index[name]] += weight
        return out

    def describe(self) -> dict[str, str | Mix]:
        """JSON-ready: a single joint as its name, a mix as ``{name: weight}`` (3 decimals)."""
        out: dict[str, str | Mix] = {}
        for smpl in SMPL22_NAMES:
            mix = self.mapping[smpl]
            out[smpl] = next(iter(mix)) if len(mix) == 1 else {k: round(float(v), 3) for k, v in mix.items()}
        return out
