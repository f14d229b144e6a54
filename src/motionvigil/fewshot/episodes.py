"""N-way K-shot episodes over multi-label clips, with violence-aware class sampling.

An episode draws ``N`` classes, ``K`` support clips and up to ``Q`` query clips per class
(support and query disjoint). Clips may carry several labels: a clip's target row marks
every episode class it belongs to. Violence-aware sampling (TMR-to-Violence [docs/papers.md], Section 3.4.1)
takes ``round(rho * N)`` of the classes from the violent set (``rho = 0.4``), as many
as exist; uniform sampling (evaluation) draws the N classes at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motionvigil.datasets.labelled import LabelledSet

VIOLENT_FRACTION = 0.4


@dataclass(frozen=True)
class Episode:
    """Indices into a :class:`LabelledSet` and targets over the episode's classes."""

    classes: np.ndarray  # [N] class indices into the vocabulary
    support: np.ndarray  # [S] clip indices
    support_targets: np.ndarray  # [S, N] bool
    query: np.ndarray  # [Q'] clip indices
    query_targets: np.ndarray  # [Q', N] bool
    violent: np.ndarray  # [N] bool: which episode classes are violent


class EpisodeSampler:
    """Draws episodes from a :class:`LabelledSet`.

    Args:
        ways, shots, queries: N, K and the number of queries per class (fewer when a
            class has too few clips; at least one).
        violent_fraction: share of the N classes taken from the violent classes
            (``None``: uniform sampling).
    """

    def __init__(self, data: LabelledSet, ways: int, shots: int, queries: int = 5,
                 violent_fraction: float | None = None):
        if ways < 2:
            raise ValueError("an episode needs at least 2 classes")
        self.data, self.ways, self.shots, self.queries = data, ways, shots, queries
        self.violent_fraction = violent_fraction
        counts = data.class_counts()
        self.eligible = np.flatnonzero(counts >= shots + 1)
        if len(self.eligible) < ways:
            raise ValueError(
                f"{ways}-way {shots}-shot episodes need {ways} classes with at least {shots + 1} clips; "
                f"only {len(self.eligible)} have enough"
            )

    def _classes(self, rng: np.random.Generator) -> np.ndarray:
        if self.violent_fraction is None:
            return rng.choice(self.eligible, self.ways, replace=False)
        violent = self.eligible[self.data.violent[self.eligible]]
        calm = self.eligible[~self.data.violent[self.eligible]]
        n_violent = min(len(violent), int(round(self.violent_fraction * self.ways)), self.ways)
        n_calm = self.ways - n_violent
        if n_calm > len(calm):
            n_calm = len(calm)
            n_violent = min(len(violent), self.ways - n_calm)
        picked = np.concatenate([rng.choice(violent, n_violent, replace=False),
                                 rng.choice(calm, n_calm, replace=False)])
        return rng.permutation(picked)

    def sample(self, rng: np.random.Generator) -> Episode:
        classes = self._classes(rng)
        used: set[int] = set()
        support, query = [], []
        for c in classes:
            members = [i for i in rng.permutation(np.flatnonzero(self.data.labels[:, c])) if i not in used]
            chosen = members[: self.shots]
            rest = members[self.shots : self.shots + self.queries]
            support += chosen
            query += rest
            used.update(chosen)
            used.update(rest)
        support_idx = np.array(support, dtype=np.int64)
        query_idx = np.array(query, dtype=np.int64)
        return Episode(
            classes=classes,
            support=support_idx,
            support_targets=self.data.labels[np.ix_(support_idx, classes)] if len(support_idx) else
            np.zeros((0, len(classes)), dtype=bool),
            query=query_idx,
            query_targets=self.data.labels[np.ix_(query_idx, classes)],
            violent=self.data.violent[classes],
        )
