"""Few-shot classification and violence-detection metrics, in pure numpy.

The metrics of the TMR-to-Violence paper [docs/papers.md] (Section 4.3, Tables 1-2) on one
evaluation episode:

* ``scores [Q, C]``: one row per query, one column per class, higher = more likely
  (cosine similarities to prototypes, probabilities, logits ...).
* ``targets [Q, C]``: boolean multi-hot ground truth; a query may carry several labels,
  or none of the episode's classes.
* ``violent_classes [C]``: boolean, which classes are violent.

Metrics (all fractions in ``[0, 1]``, as in the paper's tables):

``mAP``
    Macro average precision: the mean over classes of the AP of the class's score
    column against its target column. Classes without any positive query are skipped
    (their AP is undefined) and the number of classes that were scored is reported as
    ``n_classes_scored``; with no scored class the mAP is NaN.
    AP is ``sum_n (R_n - R_{n-1}) P_n`` over the distinct score thresholds, exactly
    scikit-learn's ``average_precision_score`` (no interpolation). **Ties**: queries
    with the same score enter together at one threshold, so every positive in a tied
    group gets the precision of the whole group (neither the optimistic nor the
    pessimistic ordering: ``[.5, .5, .5, .5]`` against ``[1, 1, 0, 0]`` gives 0.5, the
    optimistic ordering 1 and the pessimistic one 5/12).
``top{k}``
    A query is a hit if ANY of its true labels is among its ``k`` best classes; mean
    over the queries with at least one true label.
``recall{k}``
    The share of a query's true labels that are among its ``k`` best classes (3 labels,
    2 of them in the top 5: 2/3), averaged over the queries with at least one label.
``VDR`` / ``FPR``
    The binary decision "violent" = ``violence_score >= threshold`` where a query's
    violence score is its maximum score over the violent classes and a query is truly
    violent if any of its true labels is violent. The threshold maximises F1 over the
    distinct violence scores; VDR = TP / (TP + FN), FPR = FP / (FP + TN). See
    :func:`vdr_fpr_best_f1` for the tie and NaN rules.

Ties in top-k and recall@k (``ties=``): within a group of classes that share a score,
the order is unknown. ``"optimistic"`` puts the query's true labels first in every tied
group (equivalently: a true label is in the top ``k`` iff fewer than ``k`` classes score
strictly higher), ``"pessimistic"`` puts them last (behind every tied non-label), and
``"average"`` (the default) is the expectation over uniformly random orderings of each
tied group, so a constant scorer gets chance level rather than 1.0 or 0.0. Without ties
the three agree. With ``C < k`` every labelled query is a hit and recalls all its
labels under every rule. Note that this pessimistic rule is a true worst-case ordering
and differs from :func:`motionvigil.metrics.retrieval.ranks`'s, which also counts other
tied positives as ranked ahead.

Scores are rounded to ``decimals`` (default 10) in :func:`classification_metrics` so
that float noise neither creates nor breaks ties (as in ``retrieval.ranks``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

TIE_MODES = ("average", "optimistic", "pessimistic")
DEFAULT_KS: tuple[int, ...] = (1, 5)
# Column order of the paper's Tables 1-2.
METRIC_KEYS: tuple[str, ...] = ("mAP", "top1", "top5", "recall1", "recall5", "VDR", "FPR")


# ----------------------------------------------------------------------- validation


def _as_scores(scores: np.ndarray, name: str = "scores", ndim: int = 2) -> np.ndarray:
    """``scores`` as float64 with ``ndim`` dimensions, non-empty and finite."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != ndim:
        shape = "[Q, C]" if ndim == 2 else "[N]"
        raise ValueError(f"{name} must be {ndim}-D {shape}, got shape {s.shape}")
    if s.size == 0 or s.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {s.shape})")
    if not np.isfinite(s).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return s


def _as_bool(values: np.ndarray, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` as a bool array of ``shape``; integer/float arrays must hold only 0 and 1."""
    a = np.asarray(values)
    if a.shape != shape:
        raise ValueError(f"{name} shape {a.shape} does not match the expected shape {shape}")
    if a.dtype == bool:
        return a
    if a.dtype.kind not in "iuf" or not np.isin(a, (0, 1)).all():
        raise ValueError(f"{name} must be boolean (or 0/1), got dtype {a.dtype}")
    return a.astype(bool)


def _check_inputs(scores: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``scores [Q, C]`` (float64, finite) and ``targets [Q, C]`` (bool)."""
    s = _as_scores(scores)
    return s, _as_bool(targets, "targets", s.shape)


def _check_ties(ties: str) -> None:
    if ties not in TIE_MODES:
        raise ValueError(f"ties must be one of {TIE_MODES}, got {ties!r}")


def _check_k(k: int) -> int:
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


# ------------------------------------------------------------------------------ mAP


def average_precision(scores: np.ndarray, targets: np.ndarray) -> float:
    """AP of one score column ``[N]`` against boolean ``targets [N]``; NaN without positives.

    ``sum_n (R_n - R_{n-1}) P_n`` over the distinct score values taken as thresholds in
    decreasing order (scikit-learn's definition): tied scores form a single threshold.
    """
    s = _as_scores(scores, "scores", ndim=1)
    t = _as_bool(targets, "targets", s.shape)
    n_pos = int(t.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    # last index of every group of equal scores
    ends = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
    tp = np.cumsum(t)[ends]
    precision = tp / (ends + 1.0)
    recall_gain = np.diff(tp, prepend=0) / n_pos
    return float(np.sum(recall_gain * precision))


def per_class_average_precision(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``[C]`` AP of each class column; NaN for classes with no positive query."""
    s, t = _check_inputs(scores, targets)
    return np.array([average_precision(s[:, c], t[:, c]) for c in range(s.shape[1])])


def mean_average_precision(scores: np.ndarray, targets: np.ndarray) -> tuple[float, int]:
    """``(mAP, n_classes_scored)``: macro AP over the classes with at least one positive.

    ``mAP`` is NaN when no class has a positive query (``n_classes_scored == 0``).
    """
    ap = per_class_average_precision(scores, targets)
    scored = ~np.isnan(ap)
    n = int(scored.sum())
    return (float(ap[scored].mean()) if n else float("nan")), n


# ------------------------------------------------------------------------ top-k ties


def _tie_stats(s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per ``(query, class)``: ``higher`` (classes scoring strictly higher), ``equal``
    (classes with the same score, itself included) and ``pos_equal`` (true labels among
    those), all ``[Q, C]`` int64."""
    q, c = s.shape
    from scipy.stats import rankdata  # scipy.stats costs a third of a second to import: only when ranking

    rank_min = rankdata(-s, method="min", axis=1).astype(np.int64)
    rank_max = rankdata(-s, method="max", axis=1).astype(np.int64)
    higher = rank_min - 1
    equal = rank_max - rank_min + 1
    group = np.arange(q)[:, None] * c + higher  # unique id of each tie group
    pos_count = np.bincount(group[t], minlength=q * c)
    return higher, equal, pos_count[group]


def _labels_in_top_k(s: np.ndarray, t: np.ndarray, k: int, ties: str) -> np.ndarray:
    """``[Q, C]`` float: for each true label, its (expected) share of being in the top k.

    Zero for non-labels. Summed over a query's labels it gives the (expected) number of
    its labels in the top ``k`` under the tie rule (see the module docstring): a tie
    group with ``p`` labels and ``n`` non-labels below ``h`` strictly better classes
    contributes ``clip(k - h, 0, p)`` labels (optimistic), ``clip(k - h - n, 0, p)``
    (pessimistic) or ``p * clip((k - h) / (p + n), 0, 1)`` (average), shared equally by
    its ``p`` labels.
    """
    higher, equal, pos_eq = _tie_stats(s, t)
    p = np.maximum(pos_eq, 1)
    if ties == "optimistic":
        share = np.clip(k - higher, 0, p) / p
    elif ties == "pessimistic":
        share = np.clip(k - higher - (equal - pos_eq), 0, p) / p
    else:
        share = np.clip((k - higher) / equal, 0.0, 1.0)
    return np.where(t, share, 0.0)


def _hit_probability(n_neg: int, n_tied: int, slots: int) -> float:
    """Chance that ``slots`` draws from ``n_tied`` tied classes (``n_neg`` non-labels)
    include a label: ``1 - C(n_neg, slots) / C(n_tied, slots)``."""
    return 1.0 - math.comb(n_neg, slots) / math.comb(n_tied, slots)


def top_k_hits(scores: np.ndarray, targets: np.ndarray, k: int, ties: str = "average") -> np.ndarray:
    """``[Q]`` hit of each query at ``k`` (1/0, or a probability with ``ties="average"``).

    NaN for queries without a true label. Only the best-scored tie group holding a
    label matters: with ``h`` classes strictly above it, ``n`` non-labels in it and
    ``r = k - h`` free slots, the query is a hit if ``r > 0`` (optimistic), ``r > n``
    (pessimistic), or with probability ``1 - C(n, r) / C(n + p, r)`` (average).
    """
    _check_ties(ties)
    k = _check_k(k)
    s, t = _check_inputs(scores, targets)
    higher, equal, pos_eq = _tie_stats(s, t)
    labelled = t.any(axis=1)
    # the best tie group holding a label: the label with the fewest strictly-higher classes
    h_best = np.where(t, higher, np.iinfo(np.int64).max).min(axis=1)
    j = np.where(t, higher, np.iinfo(np.int64).max).argmin(axis=1)
    rows = np.arange(s.shape[0])
    n_tied, n_neg = equal[rows, j], equal[rows, j] - pos_eq[rows, j]
    if ties == "optimistic":
        hits = (h_best < k).astype(np.float64)
    elif ties == "pessimistic":
        hits = (h_best + n_neg < k).astype(np.float64)
    else:
        hits = (h_best < k).astype(np.float64)
        slots = k - h_best
        for i in np.flatnonzero(labelled & (slots > 0) & (slots < n_tied)):
            hits[i] = _hit_probability(int(n_neg[i]), int(n_tied[i]), int(slots[i]))
    return np.where(labelled, hits, np.nan)


def top_k_accuracy(scores: np.ndarray, targets: np.ndarray, k: int, ties: str = "average") -> float:
    """Mean of :func:`top_k_hits` over the queries with a true label (NaN if there are none)."""
    return _nanmean(top_k_hits(scores, targets, k, ties))


def label_recall_per_query(
    scores: np.ndarray, targets: np.ndarray, k: int, ties: str = "average"
) -> np.ndarray:
    """``[Q]`` share of each query's true labels in its top ``k``; NaN for unlabelled queries."""
    _check_ties(ties)
    k = _check_k(k)
    s, t = _check_inputs(scores, targets)
    found = _labels_in_top_k(s, t, k, ties).sum(axis=1)
    n_true = t.sum(axis=1)
    return np.where(n_true > 0, found / np.maximum(n_true, 1), np.nan)


def label_recall_at_k(scores: np.ndarray, targets: np.ndarray, k: int, ties: str = "average") -> float:
    """Recall@k: mean of :func:`label_recall_per_query` over labelled queries (NaN if none)."""
    return _nanmean(label_recall_per_query(scores, targets, k, ties))


def _nanmean(x: np.ndarray) -> float:
    """Mean over the non-NaN entries; NaN (without a warning) if there are none."""
    x = np.asarray(x, dtype=np.float64)
    ok = ~np.isnan(x)
    return float(x[ok].mean()) if ok.any() else float("nan")


# ------------------------------------------------------------------------- violence


def violence_scores_from_classes(scores: np.ndarray, violent_classes: np.ndarray) -> np.ndarray:
    """``[Q]`` violence score of each query: its maximum score over the violent classes."""
    s = _as_scores(scores)
    v = _as_bool(violent_classes, "violent_classes", (s.shape[1],))
    if not v.any():
        raise ValueError("violent_classes marks no class as violent: no violence score")
    return s[:, v].max(axis=1)


def violent_queries(targets: np.ndarray, violent_classes: np.ndarray) -> np.ndarray:
    """``[Q]`` bool: a query is truly violent if any of its true labels is violent."""
    t = np.asarray(targets)
    if t.ndim != 2:
        raise ValueError(f"targets must be 2-D [Q, C], got shape {t.shape}")
    t = _as_bool(t, "targets", t.shape)
    v = _as_bool(violent_classes, "violent_classes", (t.shape[1],))
    return (t & v).any(axis=1)


def _binary_counts(pred: np.ndarray, truth: np.ndarray) -> dict[str, int]:
    return {
        "TP": int((pred & truth).sum()),
        "FP": int((pred & ~truth).sum()),
        "FN": int((~pred & truth).sum()),
        "TN": int((~pred & ~truth).sum()),
    }


def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


def _decision_metrics(counts: Mapping[str, int], threshold: float) -> dict[str, float | int]:
    """VDR, FPR, precision and F1 from the confusion counts (NaN where a denominator is 0)."""
    tp, fp, fn, tn = counts["TP"], counts["FP"], counts["FN"], counts["TN"]
    return {
        "VDR": _ratio(tp, tp + fn),
        "FPR": _ratio(fp, fp + tn),
        "precision": _ratio(tp, tp + fp),
        "F1": _ratio(2 * tp, 2 * tp + fp + fn) if tp + fn else float("nan"),
        "threshold": float(threshold),
        **counts,
    }


def _check_binary(scores: np.ndarray, is_violent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = _as_scores(scores, "violence scores", ndim=1)
    return s, _as_bool(is_violent, "is_violent", s.shape)


def vdr_fpr_at_threshold(
    scores: np.ndarray, is_violent: np.ndarray, threshold: float
) -> dict[str, float | int]:
    """VDR/FPR of the decision ``scores >= threshold`` (a threshold chosen elsewhere).

    ``scores [N]`` are violence scores, ``is_violent [N]`` the ground truth. Returns
    ``VDR``, ``FPR``, ``precision``, ``F1``, ``threshold`` and the counts ``TP``, ``FP``,
    ``FN``, ``TN``. VDR (and F1) are NaN without violent queries, FPR is NaN without
    non-violent ones, precision is NaN when nothing is flagged.
    """
    s, y = _check_binary(scores, is_violent)
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold}")
    return _decision_metrics(_binary_counts(s >= threshold, y), threshold)


def best_f1_threshold(scores: np.ndarray, is_violent: np.ndarray) -> float:
    """The threshold ``t`` maximising the F1 of ``scores >= t``; NaN without violent queries.

    Candidates are the distinct score values. Ties in F1 go to the highest threshold,
    i.e. the fewest alarms. F1 is ``2 TP / (P + flagged)``; equal fractions of integers
    give bit-identical doubles, so F1 ties are compared exactly.
    """
    s, y = _check_binary(scores, is_violent)
    n_pos = int(y.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    ends = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), s.size - 1]  # thresholds, decreasing
    tp = np.cumsum(y_sorted)[ends]
    flagged = ends + 1
    f1 = 2.0 * tp / (n_pos + flagged)
    best = int(np.flatnonzero(f1 == f1.max())[0])  # first = highest threshold
    return float(s_sorted[ends[best]])


def vdr_fpr_best_f1(scores: np.ndarray, is_violent: np.ndarray) -> dict[str, float | int]:
    """VDR/FPR at the F1-maximising threshold of :func:`best_f1_threshold`.

    Same keys as :func:`vdr_fpr_at_threshold`. Degenerate episodes do not raise:

    * no violent query: the threshold is undefined, so ``threshold``, ``VDR``, ``FPR``,
      ``F1`` and ``precision`` are all NaN (the counts are still returned, with
      ``TP = FP = FN = 0`` and ``TN`` the number of queries).
    * no non-violent query: the lowest score wins (F1 = 1), ``VDR = 1`` and ``FPR`` is NaN.
    """
    s, y = _check_binary(scores, is_violent)
    t = best_f1_threshold(s, y)
    if np.isnan(t):
        counts = {"TP": 0, "FP": 0, "FN": 0, "TN": int(s.size)}
        nan = float("nan")
        return {"VDR": nan, "FPR": nan, "precision": nan, "F1": nan, "threshold": nan, **counts}
    return _decision_metrics(_binary_counts(s >= t, y), t)


def threshold_for_fpr(scores_nonviolent: np.ndarray, target_fpr: float) -> float:
    """The lowest threshold whose FPR on these non-violent scores is ``<= target_fpr``.

    Decisions are ``score >= threshold``. The result is the smallest non-violent score
    value ``v`` with ``mean(scores >= v) <= target_fpr``; if even the maximum is flagged
    too often (e.g. ``target_fpr = 0``), it is the next float above the maximum, which
    flags none of them. ``target_fpr`` must lie in ``[0, 1]``.
    """
    s = _as_scores(scores_nonviolent, "scores_nonviolent", ndim=1)
    if not 0.0 <= target_fpr <= 1.0:
        raise ValueError(f"target_fpr must be in [0, 1], got {target_fpr}")
    allowed = math.floor(target_fpr * s.size + 1e-9)  # most false alarms allowed
    values = np.unique(s)  # increasing
    flagged = s.size - np.searchsorted(np.sort(s), values, side="left")  # count(s >= v)
    ok = np.flatnonzero(flagged <= allowed)
    if ok.size:
        return float(values[ok[0]])
    return float(np.nextafter(values[-1], np.inf))


# -------------------------------------------------------------------------- episode


def classification_metrics(
    scores: np.ndarray,
    targets: np.ndarray,
    violent_classes: np.ndarray,
    ks: Sequence[int] = DEFAULT_KS,
    ties: str = "average",
    violence_scores: np.ndarray | None = None,
    decimals: int | None = 10,
) -> dict[str, float | int]:
    """All metrics of one episode, as fractions in ``[0, 1]``.

    Keys: ``mAP``, ``top{k}`` and ``recall{k}`` for each ``k`` in ``ks``, ``VDR``,
    ``FPR``, ``threshold`` and ``F1`` of the best-F1 violence decision,
    ``n_queries`` (all queries), ``n_labelled`` (queries with a true label, the ones
    top-k and recall@k average over) and ``n_classes_scored`` (classes in the mAP).

    ``violence_scores [Q]`` replaces the default violence score (the max score over the
    violent classes); the ground truth stays "any true label is violent". The violence
    decision is evaluated on all queries, labelled or not (an unlabelled query is not
    violent). ``scores`` (and ``violence_scores``) are rounded to ``decimals`` first
    (``None``: no rounding).
    """
    _check_ties(ties)
    s, t = _check_inputs(scores, targets)
    v = _as_bool(violent_classes, "violent_classes", (s.shape[1],))
    if decimals is not None:
        s = np.round(s, decimals)
    if violence_scores is None:
        # an episode without violent classes has no violence decision: VDR/FPR are NaN
        vs = violence_scores_from_classes(s, v) if v.any() else None
    else:
        vs = _as_scores(violence_scores, "violence_scores", ndim=1)
        if vs.shape != (s.shape[0],):
            raise ValueError(f"violence_scores shape {vs.shape} does not match {s.shape[0]} queries")
        if decimals is not None:
            vs = np.round(vs, decimals)
    mean_ap, n_scored = mean_average_precision(s, t)
    out: dict[str, float | int] = {"mAP": mean_ap}
    for k in ks:
        out[f"top{k}"] = top_k_accuracy(s, t, k, ties)
    for k in ks:
        out[f"recall{k}"] = label_recall_at_k(s, t, k, ties)
    violence = vdr_fpr_best_f1(vs, violent_queries(t, v)) if vs is not None else {}
    for key in ("VDR", "FPR", "threshold", "F1"):
        out[key] = violence.get(key, float("nan"))
    out["n_queries"] = int(s.shape[0])
    out["n_labelled"] = int(t.any(axis=1).sum())
    out["n_classes_scored"] = n_scored
    return out


# ------------------------------------------------------------------------ episodes


def aggregate(results: Iterable[Mapping[str, object]]) -> dict[str, float | int]:
    """Mean and population std (``ddof=0``) of every numeric metric over episodes.

    For each key ``m`` with numeric values (bools and strings are skipped) the result
    holds ``m`` (the mean), ``m_std`` and ``n_m``, the number of episodes that had a
    non-NaN value for ``m``; NaN values (and missing keys) are ignored. A metric that is
    NaN everywhere gets mean and std NaN and ``n_m = 0``. Also ``n_episodes``.
    """
    results = list(results)
    keys: list[str] = []
    for r in results:
        keys += [k for k, val in r.items() if k not in keys and _is_number(val)]
    out: dict[str, float | int] = {"n_episodes": len(results)}
    for k in keys:
        vals = np.array([float(r[k]) for r in results if k in r and _is_number(r[k])])
        vals = vals[~np.isnan(vals)]
        out[k] = float(vals.mean()) if vals.size else float("nan")
        out[f"{k}_std"] = float(vals.std(ddof=0)) if vals.size else float("nan")
        out[f"n_{k}"] = int(vals.size)
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def format_mean_std(mean: float, std: float | None, digits: int = 3) -> str:
    """The paper's cell format: ``format_mean_std(0.785, 0.011) == "0.785 ± .011"``.

    The std loses its leading zero; a NaN/None std leaves the mean alone, a NaN mean
    gives ``"n/a"``.
    """
    if mean is None or np.isnan(mean):
        return "n/a"
    m = f"{mean:.{digits}f}"
    if std is None or np.isnan(std):
        return m
    sd = f"{std:.{digits}f}"
    if sd.startswith("0."):
        sd = sd[1:]
    return f"{m} ± {sd}"


def format_aggregate(
    aggregated: Mapping[str, float | int], keys: Sequence[str] = METRIC_KEYS, digits: int = 3
) -> dict[str, str]:
    """``{key: "mean ± .std"}`` for the given metrics of an :func:`aggregate` result."""
    return {
        k: format_mean_std(float(aggregated[k]), float(aggregated.get(f"{k}_std", np.nan)), digits)
        for k in keys
    }
