"""Class-disjoint ("novel") splits: base classes to learn from, novel classes to test on.

The paper's protocol (TMR-to-Violence [docs/papers.md]) meta-trains and tests on the same
classes; only the subjects differ. A user brings classes the model never saw, so
``--class-split novel`` splits the vocabulary instead, by one fixed rule that needs no
choice per dataset:

- the violent classes, in vocabulary order, alternate between the two halves (the 1st,
  3rd, ... go to half A; the 2nd, 4th, ... to half B), and so do the non-violent ones;
- fold 0 learns from half A and tests on half B; fold 1 is the reverse.

With ``mocap_violence`` (violent classes in vocabulary order: punch, then kick) fold 0
learns punch and tests kick, fold 1 learns kick and tests punch; each half also holds
every other calm class. A
clip belongs to a side only when all its labels do (clips with labels on both sides are
dropped from both), so neither pre-training captions nor meta-training episodes nor the
supervised baseline ever see a clip of a held-out class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from motionvigil.datasets.clip import Clip
from motionvigil.datasets.violence import is_violent

CLASS_SPLITS = ("paper", "novel")


@dataclass(frozen=True)
class ClassSplit:
    """``base``: classes that training may see; ``novel``: classes held out for testing."""

    base: tuple[str, ...]
    novel: tuple[str, ...]
    fold: int

    def describe(self) -> str:
        held = [c for c in self.novel if is_violent(c)]
        seen = [c for c in self.base if is_violent(c)]
        return (f"fold {self.fold}: {len(self.base)} base classes (violent: {', '.join(seen) or 'none'}), "
                f"{len(self.novel)} novel classes (violent: {', '.join(held) or 'none'})")


def novel_split(classes: Sequence[str], fold: int = 0) -> ClassSplit:
    """The fixed base/novel split of ``classes`` for ``fold`` (0 or 1); see the module doc."""
    if fold not in (0, 1):
        raise ValueError(f"the class split has folds 0 and 1, got {fold}")
    halves: tuple[list[str], list[str]] = ([], [])
    for group in ([c for c in classes if is_violent(c)], [c for c in classes if not is_violent(c)]):
        for i, c in enumerate(group):
            halves[i % 2].append(c)
    if not any(is_violent(c) for c in halves[1 - fold]) or not any(is_violent(c) for c in halves[fold]):
        raise ValueError("a class-disjoint split needs at least two violent classes (one to learn, one to test); "
                         f"the vocabulary has {sum(is_violent(c) for c in classes)}")
    order = {c: i for i, c in enumerate(classes)}
    base, novel = (sorted(h, key=order.__getitem__) for h in (halves[fold], halves[1 - fold]))
    return ClassSplit(tuple(base), tuple(novel), fold)


def restrict(clips: Sequence[Clip], classes: Sequence[str]) -> list[Clip]:
    """The clips all of whose labels are in ``classes`` (unlabelled clips are dropped)."""
    keep = set(classes)
    return [c for c in clips if c.labels and set(c.labels) <= keep]


__all__ = ["CLASS_SPLITS", "ClassSplit", "novel_split", "restrict"]
