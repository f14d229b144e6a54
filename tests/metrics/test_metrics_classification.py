"""Classification and violence metrics on hand-computed episodes."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score

from motionvigil.metrics.classification import (
    aggregate,
    average_precision,
    best_f1_threshold,
    classification_metrics,
    format_aggregate,
    format_mean_std,
    label_recall_at_k,
    label_recall_per_query,
    mean_average_precision,
    per_class_average_precision,
    threshold_for_fpr,
    top_k_accuracy,
    top_k_hits,
    vdr_fpr_at_threshold,
    vdr_fpr_best_f1,
    violence_scores_from_classes,
    violent_queries,
)

NAN = float("nan")

# 3 queries x 4 classes. True labels: q0 {2}, q1 {1, 2}, q2 {0}; class 3 has no positive.
SCORES = np.array(
    [
        [0.9, 0.1, 0.4, 0.3],
        [0.2, 0.8, 0.6, 0.1],
        [0.7, 0.3, 0.5, 0.2],
    ]
)
TARGETS = np.array(
    [
        [False, False, True, False],
        [False, True, True, False],
        [True, False, False, False],
    ]
)


# ------------------------------------------------------------------------------ mAP


def test_average_precision_by_hand():
    # class 0: column [.9, .2, .7], positive q2. Order q0 (neg), q2 (pos), q1.
    #   precision at q2 = 1/2 -> AP = 1/2
    # class 1: column [.1, .8, .3], positive q1, ranked first: precision 1/1 -> AP = 1
    # class 2: column [.4, .6, .5], positives q0, q1. Order q1 (pos), q2 (neg), q0 (pos).
    #   precision at q1 = 1/1, at q0 = 2/3 -> AP = (1 + 2/3) / 2 = 5/6
    # class 3: no positive -> skipped
    ap = per_class_average_precision(SCORES, TARGETS)
    np.testing.assert_allclose(ap[:3], [1 / 2, 1.0, 5 / 6])
    assert np.isnan(ap[3])
    m, n = mean_average_precision(SCORES, TARGETS)
    assert n == 3
    assert m == pytest.approx((1 / 2 + 1 + 5 / 6) / 3) == pytest.approx(7 / 9)


def test_class_absent_from_queries_is_skipped():
    # adding columns with no positive changes neither the mAP nor its class count
    wide_s = np.hstack([SCORES, np.full((3, 2), 0.95)])
    wide_t = np.hstack([TARGETS, np.zeros((3, 2), dtype=bool)])
    assert mean_average_precision(wide_s, wide_t) == pytest.approx(mean_average_precision(SCORES, TARGETS))
    assert mean_average_precision(wide_s, wide_t)[1] == 3
    assert classification_metrics(wide_s, wide_t, [0, 1, 1, 0, 0, 0])["n_classes_scored"] == 3


def test_no_positive_anywhere_gives_nan_map():
    m, n = mean_average_precision(SCORES, np.zeros((3, 4), dtype=bool))
    assert np.isnan(m) and n == 0


def test_ap_with_ties_is_one_threshold_like_sklearn():
    s = np.array([0.5, 0.5, 0.5, 0.5])
    t = np.array([1, 1, 0, 0], dtype=bool)
    # one threshold, recall 0 -> 1 at precision 2/4. Optimistic order would give 1,
    # pessimistic order (1/3 + 2/4) / 2 = 5/12: the tie is neither.
    assert average_precision(s, t) == 0.5
    assert average_precision_score(t, s) == 0.5
    # a tie below a strict winner: scores [.9, .4, .4, .1], positives q0 and q2
    # thresholds .9: TP 1 / 1 -> P = 1, recall 1/2; .4: TP 2 / 3 -> P = 2/3, recall 1
    # AP = 1/2 * 1 + 1/2 * 2/3 = 5/6 (an optimistic ordering would give 1)
    s2, t2 = np.array([0.9, 0.4, 0.4, 0.1]), np.array([1, 0, 1, 0], dtype=bool)
    assert average_precision(s2, t2) == pytest.approx(5 / 6)
    assert average_precision_score(t2, s2) == pytest.approx(5 / 6)


def test_ap_is_invariant_to_row_order_within_ties():
    s = np.array([0.3, 0.7, 0.7, 0.7, 0.1])
    t = np.array([1, 0, 1, 0, 1], dtype=bool)
    perm = np.array([4, 3, 2, 1, 0])
    assert average_precision(s, t) == average_precision(s[perm], t[perm])


@st.composite
def _multilabel(draw):
    q = draw(st.integers(2, 8))
    c = draw(st.integers(1, 6))
    # coarse scores so that ties are frequent
    scores = draw(st.lists(st.integers(0, 4), min_size=q * c, max_size=q * c))
    bits = draw(st.lists(st.booleans(), min_size=q * c, max_size=q * c))
    return np.array(scores, dtype=float).reshape(q, c) / 4, np.array(bits).reshape(q, c)


@settings(deadline=None, max_examples=200)
@given(_multilabel())
def test_map_matches_sklearn_macro_on_classes_with_positives(data):
    scores, targets = data
    keep = targets.any(axis=0)
    m, n = mean_average_precision(scores, targets)
    assert n == int(keep.sum())
    if n == 0:
        assert np.isnan(m)
        return
    want = average_precision_score(targets[:, keep], scores[:, keep], average="macro")
    assert m == pytest.approx(want, abs=1e-12)


# -------------------------------------------------------------------- top-k, recall


def test_top_k_and_recall_by_hand():
    # top-1: q0 -> class 0 (label {2}): miss; q1 -> class 1: hit; q2 -> class 0: hit
    assert top_k_accuracy(SCORES, TARGETS, 1) == pytest.approx(2 / 3)
    # top-2: q0 -> {0, 2}: hit; every query hits
    assert top_k_accuracy(SCORES, TARGETS, 2) == 1.0
    # recall@1: q0 0/1, q1 1/2, q2 1/1 -> 1.5 / 3
    np.testing.assert_allclose(label_recall_per_query(SCORES, TARGETS, 1), [0, 0.5, 1])
    assert label_recall_at_k(SCORES, TARGETS, 1) == pytest.approx(0.5)
    # recall@2: q1's top two are {1, 2}: both labels found
    assert label_recall_at_k(SCORES, TARGETS, 2) == 1.0


def test_fewer_classes_than_k_is_always_a_hit():
    # C = 4 < 5: top-5 = recall@5 = 1 for every labelled query, whatever the tie rule
    for ties in ("average", "optimistic", "pessimistic"):
        assert top_k_accuracy(SCORES, TARGETS, 5, ties) == 1.0
        assert label_recall_at_k(SCORES, TARGETS, 5, ties) == 1.0
        assert top_k_accuracy(np.zeros((3, 4)), TARGETS, 5, ties) == 1.0


def test_multilabel_hit_rule_and_recall_fractions():
    scores = np.tile(np.linspace(0.9, 0.2, 8), (3, 1))  # class 0 best, class 7 worst
    targets = np.zeros((3, 8), dtype=bool)
    targets[0, [0, 3, 6]] = True  # 3 labels: 0 and 3 in the top 5, 6 not
    targets[1, 5] = True  # one label, ranked 6th
    # query 2 has no label: it is left out of top-k and recall@k
    np.testing.assert_allclose(top_k_hits(scores, targets, 5), [1, 0, NAN])
    np.testing.assert_allclose(label_recall_per_query(scores, targets, 5), [2 / 3, 0, NAN])
    np.testing.assert_allclose(label_recall_per_query(scores, targets, 1), [1 / 3, 0, NAN])
    assert top_k_accuracy(scores, targets, 5) == 0.5
    assert top_k_accuracy(scores, targets, 1) == 0.5  # query 0's label 0 is first
    assert label_recall_at_k(scores, targets, 5) == pytest.approx((2 / 3 + 0) / 2)
    assert label_recall_at_k(scores, targets, 1) == pytest.approx((1 / 3 + 0) / 2)
    assert np.isnan(top_k_accuracy(scores, np.zeros_like(targets), 1))  # no labelled query


def test_top1_with_a_tie():
    scores = np.array([[0.5, 0.5, 0.1]])
    one = np.array([[True, False, False]])
    # the label shares first place with a non-label
    assert top_k_accuracy(scores, one, 1, "optimistic") == 1.0  # 0 classes strictly higher
    assert top_k_accuracy(scores, one, 1, "pessimistic") == 0.0  # the non-label goes first
    assert top_k_accuracy(scores, one, 1, "average") == 0.5  # 1 - C(1,1)/C(2,1)
    assert top_k_accuracy(scores, one, 1) == 0.5  # default: average
    assert label_recall_at_k(scores, one, 1, "average") == 0.5
    # both tied classes are labels: a hit under every rule
    both = np.array([[True, True, False]])
    for ties in ("average", "optimistic", "pessimistic"):
        assert top_k_accuracy(scores, both, 1, ties) == 1.0
        assert label_recall_at_k(scores, both, 1, ties) == 0.5  # one of the two labels fits


def test_three_way_tie_with_multilabel_query():
    # classes 0, 1, 2 tied first; labels {0, 3}; class 3 is last
    scores = np.array([[0.5, 0.5, 0.5, 0.1]])
    targets = np.array([[True, False, False, True]])
    # k = 1: hit if label 0 drawn first of 3 -> 1/3; k = 2: 1 - C(2,2)/C(3,2) = 2/3
    assert top_k_accuracy(scores, targets, 1, "average") == pytest.approx(1 / 3)
    assert top_k_accuracy(scores, targets, 2, "average") == pytest.approx(2 / 3)
    assert top_k_accuracy(scores, targets, 2, "optimistic") == 1.0
    assert top_k_accuracy(scores, targets, 2, "pessimistic") == 0.0  # 2 non-labels fill the top 2
    assert top_k_accuracy(scores, targets, 3, "pessimistic") == 1.0
    # recall@2: label 0 is in the top 2 with chance 2/3, label 3 never -> 1/3
    assert label_recall_at_k(scores, targets, 2, "average") == pytest.approx(1 / 3)
    assert label_recall_at_k(scores, targets, 2, "optimistic") == 0.5
    assert label_recall_at_k(scores, targets, 2, "pessimistic") == 0.0
    # a constant scorer gets chance level on average: 2 labels among 4 tied classes, k = 1 -> 1/2
    chance = 1 - math.comb(2, 1) / math.comb(4, 1)
    assert top_k_accuracy(np.zeros((1, 4)), targets, 1, "average") == pytest.approx(chance)


def _brute_force(row: np.ndarray, labels: np.ndarray, k: int) -> tuple[list[float], list[float]]:
    """Hit and recall at ``k`` for every ordering of the tied classes (all permutations
    used as a secondary sort key)."""
    hits, recalls = [], []
    for perm in itertools.permutations(range(row.size)):
        order = np.lexsort((np.array(perm), -row))  # by score, ties by perm
        top = order[:k]
        found = labels[top].sum()
        hits.append(float(found > 0))
        recalls.append(found / labels.sum())
    return hits, recalls


@settings(deadline=None, max_examples=100)
@given(
    st.integers(1, 5).flatmap(
        lambda c: st.tuples(
            st.lists(st.integers(0, 2), min_size=c, max_size=c),
            st.lists(st.booleans(), min_size=c, max_size=c).filter(any),
            st.integers(1, c + 1),
        )
    )
)
def test_tie_rules_match_enumeration_of_orderings(case):
    row, labels, k = np.array(case[0], dtype=float), np.array(case[1]), case[2]
    hits, recalls = _brute_force(row, labels, k)
    s, t = row[None, :], labels[None, :]
    for ties, reduce in (("average", np.mean), ("optimistic", max), ("pessimistic", min)):
        assert top_k_hits(s, t, k, ties)[0] == pytest.approx(reduce(hits))
        assert label_recall_per_query(s, t, k, ties)[0] == pytest.approx(reduce(recalls))


def test_rules_agree_without_ties():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(40, 12))
    targets = rng.random((40, 12)) < 0.2
    rules = ("average", "optimistic", "pessimistic")
    for k in (1, 5):
        assert len({top_k_accuracy(scores, targets, k, ties) for ties in rules}) == 1
        assert len({label_recall_at_k(scores, targets, k, ties) for ties in rules}) == 1


# ------------------------------------------------------------------------- violence


def test_vdr_fpr_best_f1_by_hand():
    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.2])
    violent = np.array([1, 1, 0, 1, 0, 0, 1, 0], dtype=bool)  # P = 4, N = 4
    # F1 = 2 TP / (P + flagged) at each threshold (score >= t):
    #   .95: TP 1, flagged 1 -> 2/5  = .400
    #   .90: TP 2, flagged 2 -> 4/6  = .667
    #   .80: TP 2, flagged 3 -> 4/7  = .571
    #   .70: TP 3, flagged 4 -> 6/8  = .750  <- best
    #   .60: TP 3, flagged 5 -> 6/9  = .667
    #   .50: TP 3, flagged 6 -> 6/10 = .600
    #   .30: TP 4, flagged 7 -> 8/11 = .727
    #   .20: TP 4, flagged 8 -> 8/12 = .667
    r = vdr_fpr_best_f1(scores, violent)
    assert r["threshold"] == 0.7
    assert (r["TP"], r["FP"], r["FN"], r["TN"]) == (3, 1, 1, 3)
    assert r["VDR"] == 0.75 and r["FPR"] == 0.25
    assert r["precision"] == 0.75 and r["F1"] == 0.75


def test_f1_tie_goes_to_the_highest_threshold():
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    violent = np.array([1, 0, 0, 1], dtype=bool)  # P = 2
    # .9: 2/3; .8: 2/4; .7: 2/5; .6: TP 2, flagged 4 -> 4/6 = 2/3: tie with .9
    assert best_f1_threshold(scores, violent) == 0.9
    r = vdr_fpr_best_f1(scores, violent)
    assert r["VDR"] == 0.5 and r["FPR"] == 0.0 and r["F1"] == pytest.approx(2 / 3)


def test_tied_violence_scores_are_one_threshold():
    scores = np.array([0.5, 0.5, 0.2])
    violent = np.array([True, False, False])
    # .5 flags both tied queries: TP 1, flagged 2 -> 2/3; .2: 2/4
    r = vdr_fpr_best_f1(scores, violent)
    assert r["threshold"] == 0.5 and r["VDR"] == 1.0 and r["FPR"] == 0.5


def test_vdr_fpr_nan_cases():
    scores = np.array([0.3, 0.6, 0.9])
    none = vdr_fpr_best_f1(scores, np.zeros(3, dtype=bool))
    for key in ("VDR", "FPR", "threshold", "F1", "precision"):
        assert np.isnan(none[key]), key
    everyone = vdr_fpr_best_f1(scores, np.ones(3, dtype=bool))
    assert everyone["threshold"] == 0.3  # F1 = 1 only when all are flagged
    assert everyone["VDR"] == 1.0 and np.isnan(everyone["FPR"])
    # through classification_metrics: no violent query in the episode
    m = classification_metrics(SCORES, TARGETS, [True, False, False, False])
    assert m["mAP"] == pytest.approx(7 / 9)  # the rest is still computed
    m = classification_metrics(SCORES, TARGETS, [False, False, False, True])
    assert np.isnan(m["VDR"]) and np.isnan(m["FPR"]) and np.isnan(m["threshold"])


def test_vdr_fpr_at_fixed_threshold():
    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.2])
    violent = np.array([1, 1, 0, 1, 0, 0, 1, 0], dtype=bool)
    r = vdr_fpr_at_threshold(scores, violent, 0.55)  # flags the top 5: TP 3, FP 2
    assert (r["TP"], r["FP"], r["FN"], r["TN"]) == (3, 2, 1, 2)
    assert r["VDR"] == 0.75 and r["FPR"] == 0.5 and r["precision"] == 0.6
    assert vdr_fpr_at_threshold(scores, violent, 0.7)["TP"] == 3  # >= includes the threshold
    r = vdr_fpr_at_threshold(scores, violent, 2.0)
    assert r["VDR"] == 0.0 and r["FPR"] == 0.0 and np.isnan(r["precision"])


def test_threshold_for_fpr():
    nonviolent = np.arange(1, 11) / 10  # .1 .. 1.0
    assert threshold_for_fpr(nonviolent, 0.2) == 0.9  # flags .9 and 1.0: FPR .2
    assert threshold_for_fpr(nonviolent, 0.25) == 0.9  # 3 alarms would be .3 > .25
    assert threshold_for_fpr(nonviolent, 1.0) == 0.1
    t0 = threshold_for_fpr(nonviolent, 0.0)
    assert t0 > 1.0 and t0 == np.nextafter(1.0, 2.0)
    assert vdr_fpr_at_threshold(nonviolent, np.zeros(10, bool), t0)["FPR"] == 0.0
    # ties: three scores at .5 can only be flagged together
    tied = np.array([0.5, 0.5, 0.5, 0.1])
    assert threshold_for_fpr(tied, 0.5) > 0.5
    assert threshold_for_fpr(tied, 0.75) == 0.5
    with pytest.raises(ValueError, match="target_fpr"):
        threshold_for_fpr(nonviolent, 1.5)


def test_violence_scores_and_ground_truth():
    v = np.array([False, True, True, False])
    np.testing.assert_allclose(violence_scores_from_classes(SCORES, v), [0.4, 0.8, 0.5])
    np.testing.assert_array_equal(violent_queries(TARGETS, v), [True, True, False])
    with pytest.raises(ValueError, match="no class"):
        violence_scores_from_classes(SCORES, np.zeros(4, bool))


# -------------------------------------------------------------------------- episode


def test_classification_metrics_end_to_end():
    v = np.array([False, True, True, False])
    m = classification_metrics(SCORES, TARGETS, v)
    assert m["mAP"] == pytest.approx(7 / 9)
    assert m["top1"] == pytest.approx(2 / 3) and m["top5"] == 1.0
    assert m["recall1"] == pytest.approx(0.5) and m["recall5"] == 1.0
    # violence scores [.4, .8, .5], truth [V, V, N]:
    #   .8: TP 1, flagged 1 -> 2/3; .5: TP 1, flagged 2 -> 2/4; .4: TP 2, flagged 3 -> 4/5
    assert m["threshold"] == 0.4 and m["VDR"] == 1.0 and m["FPR"] == 1.0
    assert m["F1"] == pytest.approx(0.8)
    assert (m["n_queries"], m["n_labelled"], m["n_classes_scored"]) == (3, 3, 3)
    # a precomputed violence score replaces the max over violent classes
    m2 = classification_metrics(SCORES, TARGETS, v, violence_scores=[0.9, 0.7, 0.1])
    assert m2["threshold"] == 0.7 and m2["VDR"] == 1.0 and m2["FPR"] == 0.0
    assert m2["mAP"] == m["mAP"]
    # other ks
    m3 = classification_metrics(SCORES, TARGETS, v, ks=(1, 2))
    assert m3["top2"] == 1.0 and "top5" not in m3


def test_rounding_merges_float_noise_ties():
    scores = np.array([[0.3 + 1e-13, 0.3, 0.1]])
    targets = np.array([[False, True, False]])
    v = np.array([True, False, False])
    assert classification_metrics(scores, targets, v)["top1"] == 0.5
    assert classification_metrics(scores, targets, v, decimals=None)["top1"] == 0.0


def test_invalid_inputs():
    with pytest.raises(ValueError, match="shape"):
        classification_metrics(SCORES, TARGETS[:, :3], [1, 0, 0])
    with pytest.raises(ValueError, match="violent_classes"):
        classification_metrics(SCORES, TARGETS, [True, False])
    with pytest.raises(ValueError, match="NaN"):
        classification_metrics(np.where(SCORES > 0.8, np.nan, SCORES), TARGETS, [1, 0, 0, 0])
    with pytest.raises(ValueError, match="boolean"):
        classification_metrics(SCORES, TARGETS * 0.5, [1, 0, 0, 0])
    with pytest.raises(ValueError, match="2-D"):
        classification_metrics(SCORES[0], TARGETS[0], [1, 0, 0, 0])
    with pytest.raises(ValueError, match="empty"):
        classification_metrics(np.zeros((0, 4)), np.zeros((0, 4), bool), [1, 0, 0, 0])
    with pytest.raises(ValueError, match="ties"):
        top_k_accuracy(SCORES, TARGETS, 1, ties="random")
    with pytest.raises(ValueError, match="k must"):
        top_k_accuracy(SCORES, TARGETS, 0)
    with pytest.raises(ValueError, match="violence_scores"):
        classification_metrics(SCORES, TARGETS, [1, 0, 0, 0], violence_scores=[0.1, 0.2])
    # 0/1 integers are accepted as booleans
    assert classification_metrics(SCORES, TARGETS.astype(int), [0, 1, 1, 0])["mAP"] == pytest.approx(7 / 9)


# ------------------------------------------------------------------------ aggregate


def test_aggregate_ignores_nan_episodes():
    results = [
        {"mAP": 0.5, "VDR": NAN, "n_queries": 10, "model": "MAML"},
        {"mAP": 0.7, "VDR": 0.8, "n_queries": 10, "model": "MAML"},
        {"mAP": 0.9, "VDR": 0.6, "n_queries": 12, "model": "MAML"},
    ]
    agg = aggregate(results)
    assert agg["n_episodes"] == 3
    assert agg["mAP"] == pytest.approx(0.7) and agg["n_mAP"] == 3
    # population std: sqrt(((-.2)^2 + 0 + .2^2) / 3) = sqrt(.08 / 3)
    assert agg["mAP_std"] == pytest.approx(math.sqrt(0.08 / 3))
    assert agg["VDR"] == pytest.approx(0.7) and agg["n_VDR"] == 2
    assert agg["VDR_std"] == pytest.approx(0.1)
    assert "model" not in agg
    all_nan = aggregate([{"FPR": NAN}, {"FPR": NAN}])
    assert np.isnan(all_nan["FPR"]) and np.isnan(all_nan["FPR_std"]) and all_nan["n_FPR"] == 0


def test_format_mean_std():
    assert format_mean_std(0.785, 0.011) == "0.785 ± .011"
    assert format_mean_std(0.5, 0.0) == "0.500 ± .000"
    assert format_mean_std(0.683, NAN) == "0.683"
    assert format_mean_std(NAN, 0.1) == "n/a"
    assert format_mean_std(0.47, 0.006, digits=2) == "0.47 ± .01"
    agg = aggregate([{"mAP": 0.774, "top1": 0.8}, {"mAP": 0.796, "top1": 0.8}])
    assert format_aggregate(agg, ["mAP", "top1"]) == {"mAP": "0.785 ± .011", "top1": "0.800 ± .000"}


def test_episodes_end_to_end():
    rng = np.random.default_rng(0)
    results = []
    for _ in range(5):
        targets = rng.random((30, 6)) < 0.25
        scores = targets + rng.normal(scale=0.6, size=targets.shape)  # informative
        results.append(classification_metrics(scores, targets, [1, 1, 0, 0, 0, 0]))
    agg = aggregate(results)
    for key in ("mAP", "top1", "top5", "recall1", "recall5", "VDR", "FPR"):
        assert 0.0 <= agg[key] <= 1.0, key
    assert agg["mAP"] > 0.5  # well above chance (~0.25) for informative scores
    assert agg["top5"] >= agg["top1"] and agg["recall5"] >= agg["recall1"]
