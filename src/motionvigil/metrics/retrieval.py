"""Retrieval metrics and TMR's text-motion evaluation protocols, in pure numpy.

Conventions follow TMR (Petrovich et al., ICCV 2023, ``src/model/metrics.py`` and
``retrieval.py`` of the public code), re-implemented here:

* A similarity matrix ``sims [Q, G]`` has one row per query and one column per gallery
  item. For text-to-motion (``t2m``) rows are texts and columns motions; motion-to-text
  (``m2t``) uses ``sims.T``.
* The rank of a query is the 0-based position of its (best) ground truth when the row
  is sorted by decreasing similarity. Ties are broken by averaging by default
  (TMR's ``break_ties="averaging"``): a ground truth tied with ``k`` other items gets
  the mean of the ``k + 1`` positions the tied group occupies.
* ``R@k`` is the percentage of queries whose rank is ``< k`` (so an averaged rank of
  ``0.5`` counts for R@1), and ``MedR = median(rank) + 1`` (1-based).

Protocols (names in TMR's ``configs/retrieval.yaml`` in brackets):

* :func:`protocol_all` ("normal", a): all test pairs, only the paired item is correct.
* :func:`protocol_threshold` ("threshold", b): all pairs, and any item whose caption is a
  near-duplicate of the query's caption is correct too.
* :func:`protocol_small_batches` ("guo", d): the pairs are shuffled with a fixed seed,
  cut into batches of 32 (the last incomplete one dropped), and metrics are averaged
  over the batches.

TMR's "nsim" protocol (c) is "all" on a separate de-duplicated split; use
:func:`protocol_all` on that split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import comb

import numpy as np

DEFAULT_KS: tuple[int, ...] = (1, 2, 3, 5, 10)
TIE_MODES = ("average", "optimistic", "pessimistic")
# TMR's evaluation threshold on the (cos + 1) / 2 scale of caption similarity.
TMR_THRESHOLD = 0.95
TMR_BATCH_SIZE = 32


# --------------------------------------------------------------------------- ranks


def ranks(
    sims: np.ndarray,
    positives: np.ndarray | None = None,
    ties: str = "average",
    decimals: int | None = 10,
) -> np.ndarray:
    """0-based rank of the best ground truth of each query, as a float array ``[Q]``.

    ``sims [Q, G]``: similarities, higher is better. ``positives [Q, G]`` (bool): the
    correct gallery items of each query; ``None`` means the diagonal (``sims`` must then be
    square). With several positives, the one with the highest similarity is the ground
    truth. Similarities are rounded to ``decimals`` first (``None``: no rounding) so that
    float noise neither creates nor breaks ties.

    ``ties``: if ``a`` items score strictly higher than the ground truth and ``t``
    non-positive items score exactly the same, ``"optimistic"`` gives ``a``,
    ``"pessimistic"`` ``a + t`` and ``"average"`` the expected rank of the first positive
    when the tie group is ordered at random: ``a + t / (p + 1)`` with ``p`` positives in
    the tie group (``a + t / 2`` for a single ground truth). Other positives tied with
    the best one do not push it down (identical captions of a class are all correct).
    """
    if ties not in TIE_MODES:
        raise ValueError(f"ties must be one of {TIE_MODES}, got {ties!r}")
    s = np.asarray(sims, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"sims must be 2-D [Q, G], got shape {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError("sims contains NaN or infinite values")
    pos = _positives_or_diagonal(s.shape, positives)
    if decimals is not None:
        s = np.round(s, decimals)

    best = np.where(pos, s, -np.inf).max(axis=1, keepdims=True)
    higher = (s > best).sum(axis=1)
    tied = s == best
    tied_negatives = (tied & ~pos).sum(axis=1)
    tied_positives = (tied & pos).sum(axis=1)
    if ties == "optimistic":
        out = higher
    elif ties == "pessimistic":
        out = higher + tied_negatives
    else:
        out = higher + tied_negatives / (tied_positives + 1.0)
    return out.astype(np.float64)


def _positives_or_diagonal(shape: tuple[int, int], positives: np.ndarray | None) -> np.ndarray:
    """Validated boolean positives matrix; the identity when ``positives`` is ``None``."""
    q, g = shape
    if positives is None:
        if q != g:
            raise ValueError(f"sims is {q}x{g}: a non-square matrix needs a positives matrix")
        return np.eye(q, dtype=bool)
    pos = np.asarray(positives, dtype=bool)
    if pos.shape != shape:
        raise ValueError(f"positives shape {pos.shape} does not match sims shape {shape}")
    empty = np.flatnonzero(~pos.any(axis=1))
    if empty.size:
        raise ValueError(f"queries without any positive: {empty[:10].tolist()}")
    return pos


# ------------------------------------------------------------------------- metrics


def recall_key(k: int) -> str:
    """TMR's metric name for recall at ``k``: ``R01``, ``R02``, ..., ``R10``."""
    return f"R{k:02d}"


def recall_at_k(rank: np.ndarray, ks: Sequence[int] = DEFAULT_KS) -> dict[str, float]:
    """``{"R01": .., "R05": ..}``: percentage of queries with 0-based rank ``< k``."""
    r = np.asarray(rank, dtype=np.float64)
    if r.size == 0:
        raise ValueError("no ranks given")
    return {recall_key(k): 100.0 * float(np.mean(r < k)) for k in ks}


def median_rank(rank: np.ndarray) -> float:
    """1-based median rank: ``median(rank) + 1``."""
    r = np.asarray(rank, dtype=np.float64)
    if r.size == 0:
        raise ValueError("no ranks given")
    return float(np.median(r) + 1.0)


def retrieval_metrics(
    sims: np.ndarray,
    positives: np.ndarray | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    ties: str = "average",
    decimals: int | None = 10,
) -> dict[str, float | int]:
    """Both directions' metrics, keyed as TMR: ``t2m/R01`` .. ``t2m/MedR``, ``m2t/..``.

    Rows of ``sims`` are texts and columns motions; ``m2t`` ranks ``sims.T`` against
    ``positives.T``. Also returns ``t2m/len`` (number of text queries) and ``m2t/len``.
    Values are not rounded (TMR rounds to 2 decimals for display only).
    """
    s = np.asarray(sims)
    if s.ndim != 2:
        raise ValueError(f"sims must be 2-D [Q, G], got shape {s.shape}")
    pos = _positives_or_diagonal(s.shape, positives)
    out: dict[str, float | int] = {}
    for name, mat, p in (("t2m", s, pos), ("m2t", s.T, pos.T)):
        r = ranks(mat, p, ties=ties, decimals=decimals)
        for key, val in recall_at_k(r, ks).items():
            out[f"{name}/{key}"] = val
        out[f"{name}/MedR"] = median_rank(r)
    out["t2m/len"] = int(s.shape[0])
    out["m2t/len"] = int(s.shape[1])
    return out


# ----------------------------------------------------------------------- protocols


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows of ``x [N, D]`` scaled to unit L2 norm (zero rows stay zero)."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"embeddings must be 2-D [N, D], got shape {a.shape}")
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), eps)


def cosine_sims(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``[N, M]`` cosine similarities between rows of ``x [N, D]`` and ``y [M, D]``."""
    return l2_normalize(x) @ l2_normalize(y).T


def _check_pairs(text_emb: np.ndarray, motion_emb: np.ndarray) -> None:
    """Texts and motions must be paired one to one (row ``i`` with row ``i``)."""
    if len(text_emb) != len(motion_emb):
        raise ValueError(f"{len(text_emb)} texts but {len(motion_emb)} motions: pairs expected")


def protocol_all(
    text_emb: np.ndarray,
    motion_emb: np.ndarray,
    ks: Sequence[int] = DEFAULT_KS,
    ties: str = "average",
) -> dict[str, float | int | str]:
    """TMR protocol (a), "normal": cosine similarity of all pairs, diagonal is correct."""
    _check_pairs(text_emb, motion_emb)
    metrics = retrieval_metrics(cosine_sims(text_emb, motion_emb), ks=ks, ties=ties)
    return {"protocol": "all", **metrics}


def threshold_positives(
    sentence_emb: np.ndarray, threshold: float = TMR_THRESHOLD, strict: bool = True
) -> np.ndarray:
    """``[N, N]`` bool: pairs whose captions are near-duplicates, plus the diagonal.

    TMR maps the caption cosine to ``[0, 1]`` as ``(cos + 1) / 2`` and compares it with
    ``threshold``; i.e. it tests ``cos > 2 * threshold - 1`` (0.9 for the default 0.95).
    TMR's code uses a strict ``>``; ``strict=False`` uses ``>=`` instead (only exact
    equality differs). The diagonal is always positive.
    """
    score = (cosine_sims(sentence_emb, sentence_emb) + 1.0) / 2.0
    pos = score > threshold if strict else score >= threshold
    np.fill_diagonal(pos, True)
    return pos


def protocol_threshold(
    text_emb: np.ndarray,
    motion_emb: np.ndarray,
    sentence_emb: np.ndarray,
    threshold: float = TMR_THRESHOLD,
    ks: Sequence[int] = DEFAULT_KS,
    ties: str = "average",
    strict: bool = True,
) -> dict[str, float | int | str]:
    """TMR protocol (b), "all with threshold".

    Like :func:`protocol_all`, but for text query ``i`` motion ``j`` is also correct when
    the captions of pairs ``i`` and ``j`` are near-duplicates: ``(cos(s_i, s_j) + 1) / 2
    > threshold`` with ``s`` the (L2-normalised) sentence embeddings of the captions, see
    :func:`threshold_positives`. The best-ranked correct motion counts. The relation is
    symmetric, so ``m2t`` uses the same positives (transposed).
    """
    _check_pairs(text_emb, motion_emb)
    if len(sentence_emb) != len(text_emb):
        raise ValueError(f"{len(sentence_emb)} sentence embeddings for {len(text_emb)} pairs")
    pos = threshold_positives(sentence_emb, threshold, strict=strict)
    metrics = retrieval_metrics(cosine_sims(text_emb, motion_emb), pos, ks=ks, ties=ties)
    return {"protocol": "threshold", "threshold": float(threshold), **metrics}


def small_batch_indices(
    n: int, batch_size: int = TMR_BATCH_SIZE, seed: int | None = 0, shuffle: bool = True
) -> list[np.ndarray]:
    """Index batches for :func:`protocol_small_batches`; the last incomplete one is dropped.

    With ``shuffle``, ``np.arange(n)`` is shuffled in place by the legacy
    ``np.random.RandomState(seed)``, which is exactly TMR's ``np.random.seed(0);
    np.random.shuffle(idx)``. Without it, batches are consecutive chunks.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if n < batch_size:
        raise ValueError(f"{n} pairs are fewer than one batch of {batch_size}")
    idx = np.arange(n)
    if shuffle:
        np.random.RandomState(seed).shuffle(idx)
    return [idx[i * batch_size : (i + 1) * batch_size] for i in range(n // batch_size)]


def protocol_small_batches(
    text_emb: np.ndarray,
    motion_emb: np.ndarray,
    batch_size: int = TMR_BATCH_SIZE,
    seed: int | None = 0,
    shuffle: bool = True,
    ks: Sequence[int] = DEFAULT_KS,
    ties: str = "average",
) -> dict[str, float | int | str]:
    """TMR protocol (d), "guo" (the small-batch protocol of Guo et al. 2022).

    What TMR's ``retrieval.py`` does, reproduced here: take the test pairs in order of
    sorted key id, shuffle the indices with ``np.random.seed(0)`` (*not* the dataset
    order), cut them into ``len // 32`` batches of 32 (dropping the incomplete tail),
    evaluate each batch as :func:`protocol_all` and average every metric (MedR included)
    over the batches. To get TMR's exact batches, pass the pairs sorted by key id.
    ``shuffle=False`` uses consecutive chunks instead. Each batch uses only the pairs in
    it as gallery.
    """
    _check_pairs(text_emb, motion_emb)
    batches = small_batch_indices(len(text_emb), batch_size, seed=seed, shuffle=shuffle)
    t, m = np.asarray(text_emb), np.asarray(motion_emb)
    per_batch = [retrieval_metrics(cosine_sims(t[b], m[b]), ks=ks, ties=ties) for b in batches]
    avg: dict[str, float | int | str] = {"protocol": "small_batches"}
    for key in per_batch[0]:
        avg[key] = float(np.mean([mb[key] for mb in per_batch]))
    avg["t2m/len"] = avg["m2t/len"] = int(batch_size)
    avg["n_batches"] = len(batches)
    avg["batch_size"] = int(batch_size)
    return avg


# ---------------------------------------------------------------------- zero-shot


def _chance_hit(n_classes: int, n_true: int, k: int) -> float:
    """Probability that a uniformly random class ranking puts one of ``n_true`` labels in top ``k``."""
    k = min(k, n_classes)
    return 1.0 - comb(n_classes - n_true, k) / comb(n_classes, k)


def zero_shot_classification(
    motion_emb: np.ndarray,
    label_sets: Sequence[set[int] | frozenset[int] | Sequence[int]],
    class_text_emb: np.ndarray,
    ks: Sequence[int] = (1, 5),
    ties: str = "average",
) -> dict[str, float | int]:
    """Zero-shot top-k accuracy by cosine similarity to class-name text embeddings.

    Sample ``i`` is a hit at ``k`` when ANY of its true labels ``label_sets[i]`` has rank
    ``< k`` among the ``C`` classes (ranks and ``ties`` as in :func:`ranks`). Returns, in
    percent, ``top{k}`` and ``chance_top{k}``: the expected accuracy of a random ranking,
    ``1 - C(C - m, k) / C(C, k)`` averaged over samples with ``m`` true labels, which is
    ``k / C`` for single-label data. Also ``n`` and ``n_classes``.
    """
    sims = cosine_sims(motion_emb, class_text_emb)
    n, c = sims.shape
    if len(label_sets) != n:
        raise ValueError(f"{len(label_sets)} label sets for {n} motions")
    pos = np.zeros((n, c), dtype=bool)
    for i, labels in enumerate(label_sets):
        lab = sorted(set(int(x) for x in labels))
        if not lab:
            raise ValueError(f"sample {i} has no label")
        if lab[0] < 0 or lab[-1] >= c:
            raise ValueError(f"sample {i} has labels {lab} outside [0, {c})")
        pos[i, lab] = True
    r = ranks(sims, pos, ties=ties)
    n_true = pos.sum(axis=1)
    out: dict[str, float | int] = {}
    for k in ks:
        out[f"top{k}"] = 100.0 * float(np.mean(r < k))
        out[f"chance_top{k}"] = 100.0 * float(np.mean([_chance_hit(c, int(m), k) for m in n_true]))
    out["n"] = int(n)
    out["n_classes"] = int(c)
    return out


# -------------------------------------------------------------------------- table


def _cell(value: object, float_fmt: str) -> str:
    """One table cell: floats with ``float_fmt``, missing values empty, ``|`` escaped."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return format(float(value), float_fmt)
    return str(value).replace("|", "\\|")


def format_table(rows: Sequence[Mapping[str, object]], keys: Sequence[str], float_fmt: str = ".2f") -> str:
    """A Markdown table with one column per key and one line per row (missing keys blank)."""
    keys = list(keys)
    if not keys:
        raise ValueError("no columns")
    lines = [
        "| " + " | ".join(_cell(k, float_fmt) for k in keys) + " |",
        "|" + "|".join(" --- " for _ in keys) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(k), float_fmt) for k in keys) + " |")
    return "\n".join(lines)
