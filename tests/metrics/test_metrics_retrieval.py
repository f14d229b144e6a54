"""Retrieval metrics and TMR's protocols on hand-built similarity matrices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motionvigil.metrics import (
    format_table,
    median_rank,
    protocol_all,
    protocol_small_batches,
    protocol_threshold,
    ranks,
    recall_at_k,
    retrieval_metrics,
    zero_shot_classification,
)
from motionvigil.metrics.retrieval import small_batch_indices, threshold_positives

KEYS = ["R01", "R02", "R03", "R05", "R10", "MedR"]


# ------------------------------------------------------------------ ranks and ties


def test_perfect_diagonal():
    sims = np.eye(5) + 0.01 * np.arange(5)  # off-diagonal all below the diagonal
    np.testing.assert_array_equal(ranks(sims), np.zeros(5))
    m = retrieval_metrics(sims)
    for d in ("t2m", "m2t"):
        for k in ("R01", "R02", "R03", "R05", "R10"):
            assert m[f"{d}/{k}"] == 100.0
        assert m[f"{d}/MedR"] == 1.0
    assert m["t2m/len"] == 5 and m["m2t/len"] == 5


def test_ground_truth_always_last():
    sims = -np.eye(4)  # gt scores -1, the three others 0
    np.testing.assert_array_equal(ranks(sims), [3, 3, 3, 3])
    m = retrieval_metrics(sims)
    assert [m[f"t2m/{k}"] for k in KEYS] == [0.0, 0.0, 0.0, 100.0, 100.0, 4.0]


def test_same_ordering_in_every_row():
    # every text ranks motion 0 first, then 1, 2, 3: query i's gt has rank i
    sims = np.tile(-np.arange(4.0), (4, 1))
    np.testing.assert_array_equal(ranks(sims), [0, 1, 2, 3])
    m = retrieval_metrics(sims)
    assert [m[f"t2m/{k}"] for k in KEYS] == [25.0, 50.0, 75.0, 100.0, 100.0, 2.5]
    # transposed, each motion sees four equal texts: a 4-way tie spanning ranks 0..3
    np.testing.assert_array_equal(ranks(sims.T), [1.5] * 4)
    np.testing.assert_array_equal(ranks(sims.T, ties="optimistic"), [0] * 4)
    np.testing.assert_array_equal(ranks(sims.T, ties="pessimistic"), [3] * 4)
    assert [m[f"m2t/{k}"] for k in KEYS] == [0.0, 100.0, 100.0, 100.0, 100.0, 2.5]


def test_three_way_tie_at_the_top():
    row = np.array([[0.3, 0.3, 0.3, 0.1]])
    pos = np.array([[True, False, False, False]])
    assert ranks(row, pos, ties="average")[0] == 1.0
    assert ranks(row, pos, ties="optimistic")[0] == 0.0
    assert ranks(row, pos, ties="pessimistic")[0] == 2.0


def test_three_way_tie_below_a_better_item():
    row = np.array([[0.5, 0.3, 0.3, 0.3, 0.1]])
    pos = np.array([[False, False, True, False, False]])
    assert ranks(row, pos)[0] == 2.0
    assert ranks(row, pos, ties="optimistic")[0] == 1.0
    assert ranks(row, pos, ties="pessimistic")[0] == 3.0


def test_rounding_turns_float_noise_into_a_tie():
    row = np.array([[0.3000000000001, 0.3, 0.1]])
    pos = np.array([[False, True, False]])
    assert ranks(row, pos)[0] == 0.5  # tied with item 0 after rounding to 10 decimals
    assert ranks(row, pos, decimals=None)[0] == 1.0  # strictly below without rounding
    assert ranks(row, pos, decimals=14)[0] == 1.0


def test_best_positive_wins():
    sims = np.array([[0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.4]])
    pos = np.array([[False, True, True, False], [True, False, False, True]])
    np.testing.assert_array_equal(ranks(sims, pos), [1, 0])
    m = retrieval_metrics(sims, pos)
    assert m["t2m/R01"] == 50.0 and m["t2m/R02"] == 100.0 and m["t2m/MedR"] == 1.5
    # m2t: motion 0 sees texts [0.9, 0.1], positive text 1 -> rank 1;
    # motion 1 [0.8, 0.2] positive text 0 -> 0; motion 2 [0.7, 0.3] text 0 -> 0; motion 3 [0.1, 0.4] text 1 -> 0
    np.testing.assert_array_equal(ranks(sims.T, pos.T), [1, 0, 0, 0])
    assert m["m2t/R01"] == 75.0 and m["m2t/MedR"] == 1.0
    assert m["t2m/len"] == 2 and m["m2t/len"] == 4


def test_m2t_is_t2m_of_the_transpose():
    rng = np.random.default_rng(0)
    sims = rng.normal(size=(7, 7))
    a, b = retrieval_metrics(sims), retrieval_metrics(sims.T)
    for k in KEYS:
        assert a[f"m2t/{k}"] == b[f"t2m/{k}"]
        assert a[f"t2m/{k}"] == b[f"m2t/{k}"]


def test_recall_and_median_rank():
    r = np.array([0, 0.5, 1, 4, 9, 20])
    assert recall_at_k(r, ks=(1, 2, 5, 10)) == pytest.approx(
        {"R01": 200 / 6, "R02": 300 / 6, "R05": 400 / 6, "R10": 500 / 6}
    )
    assert median_rank(r) == 3.5  # median(1, 4) = 2.5, 1-based


def test_invalid_inputs():
    with pytest.raises(ValueError, match="non-square"):
        ranks(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="without any positive"):
        ranks(np.zeros((2, 2)), np.array([[True, False], [False, False]]))
    with pytest.raises(ValueError, match="ties"):
        ranks(np.eye(2), ties="random")
    with pytest.raises(ValueError, match="NaN"):
        ranks(np.array([[np.nan, 0.0], [0.0, 1.0]]))


# ----------------------------------------------------------------------- protocols


def _two_confused_pairs() -> tuple[np.ndarray, np.ndarray]:
    """Texts 0 and 1 each prefer the other's motion; texts 2 and 3 are retrieved exactly."""
    motion = np.eye(4)
    text = np.array([[0.6, 0.8, 0, 0], [0.8, 0.6, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 2.0]])
    return text, motion


def test_protocol_all_normalises_and_ranks():
    text, motion = _two_confused_pairs()
    m = protocol_all(3.0 * text, motion)  # scaling does not matter: cosine similarity
    assert m["protocol"] == "all"
    assert m["t2m/R01"] == 50.0 and m["t2m/R02"] == 100.0 and m["t2m/MedR"] == 1.5
    assert m["m2t/R01"] == 50.0 and m["m2t/MedR"] == 1.5


def test_protocol_threshold_near_duplicate_captions():
    text, motion = _two_confused_pairs()
    c = 0.99  # captions 0 and 1: cosine 0.99 -> (0.99 + 1) / 2 = 0.995 > 0.95
    sent = np.array([[1, 0, 0], [c, np.sqrt(1 - c**2), 0], [0, 0, 1], [0, 1, 0]]) * 5.0
    m = protocol_threshold(text, motion, sent)
    assert m["protocol"] == "threshold" and m["threshold"] == 0.95
    # text 0's positives are motions {0, 1}; its best one (motion 1) is first: rank 0. Same for text 1.
    assert m["t2m/R01"] == 100.0 and m["t2m/MedR"] == 1.0
    assert m["m2t/R01"] == 100.0 and m["m2t/MedR"] == 1.0
    # captions far apart: identical to protocol "all"
    far = protocol_threshold(text, motion, np.eye(4))
    ref = protocol_all(text, motion)
    assert all(far[k] == ref[k] for k in ref if k != "protocol")


def test_threshold_maps_cosine_to_unit_interval():
    def pair(cos: float) -> np.ndarray:
        return np.array([[1.0, 0.0], [cos, np.sqrt(1 - cos**2)]])

    # 0.95 on the (cos + 1) / 2 scale is cosine 0.9
    assert threshold_positives(pair(0.91))[0, 1]
    assert not threshold_positives(pair(0.89))[0, 1]
    # cosine 0.85 -> 0.925: below 0.95, above 0.9 (a raw-cosine rule would say no at 0.9)
    assert not threshold_positives(pair(0.85), 0.95)[0, 1]
    assert threshold_positives(pair(0.85), 0.9)[0, 1]
    # opposite captions: score 0; the diagonal is always positive
    p = threshold_positives(pair(-1.0), 0.0, strict=False)
    assert p.all()
    p = threshold_positives(pair(-1.0), 0.0, strict=True)
    np.testing.assert_array_equal(p, np.eye(2, dtype=bool))


def _random_pairs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    text = rng.normal(size=(n, 8))
    motion = text + 1.5 * rng.normal(size=(n, 8))  # noisy but informative
    return text, motion


def _mean_of(metrics: list[dict]) -> dict:
    keys = [k for k in metrics[0] if k.startswith(("t2m/R", "m2t/R", "t2m/M", "m2t/M"))]
    return {k: float(np.mean([m[k] for m in metrics])) for k in keys}


def test_small_batches_consecutive_is_mean_of_two_halves():
    text, motion = _random_pairs(64, 1)
    got = protocol_small_batches(text, motion, shuffle=False)
    want = _mean_of([protocol_all(text[:32], motion[:32]), protocol_all(text[32:], motion[32:])])
    assert got["protocol"] == "small_batches" and got["n_batches"] == 2
    assert got["t2m/len"] == 32 and got["m2t/len"] == 32
    for k, v in want.items():
        assert got[k] == pytest.approx(v)


def test_small_batches_shuffle_matches_tmr_seeding():
    idx = np.arange(64)
    np.random.seed(0)  # what TMR's retrieval.py does
    np.random.shuffle(idx)
    batches = small_batch_indices(64, 32, seed=0)
    np.testing.assert_array_equal(np.concatenate(batches), idx)

    text, motion = _random_pairs(64, 2)
    got = protocol_small_batches(text, motion)
    want = _mean_of([protocol_all(text[b], motion[b]) for b in (idx[:32], idx[32:])])
    for k, v in want.items():
        assert got[k] == pytest.approx(v)


def test_small_batches_drop_the_incomplete_tail():
    text, motion = _random_pairs(70, 3)
    got = protocol_small_batches(text, motion, shuffle=False)
    assert got["n_batches"] == 2
    text2, motion2 = text.copy(), motion.copy()
    text2[64:], motion2[64:] = _random_pairs(6, 4)  # the 6 leftover pairs are never used
    assert protocol_small_batches(text2, motion2, shuffle=False) == got
    ref = protocol_small_batches(text[:64], motion[:64], shuffle=False)
    assert ref == got
    # shuffled: exactly 2 * 32 of the 70 indices are used, all distinct
    used = np.concatenate(small_batch_indices(70, 32, seed=0))
    assert used.size == 64 and np.unique(used).size == 64
    with pytest.raises(ValueError, match="fewer than one batch"):
        protocol_small_batches(text[:31], motion[:31])


# ----------------------------------------------------------------------- zero-shot


def test_zero_shot_multi_label_hits_and_chance():
    classes = np.eye(4)
    motion = np.array(
        [
            [1.0, 0.5, 0.2, 0.1],  # order 0, 1, 2, 3; label {0}: rank 0
            [0.2, 1.0, 0.5, 0.0],  # order 1, 2, 0, 3; labels {2, 3}: best is 2, rank 1
            [0.3, 0.1, 0.2, 1.0],  # order 3, 0, 2, 1; label {1}: rank 3
        ]
    )
    out = zero_shot_classification(motion, [{0}, {2, 3}, {1}], classes, ks=(1, 2))
    assert out["top1"] == pytest.approx(100 / 3)
    assert out["top2"] == pytest.approx(200 / 3)
    # chance: single label k/C; two labels 1 - C(2, k)/C(4, k) = 1/2 (k=1), 5/6 (k=2)
    assert out["chance_top1"] == pytest.approx(100 * (0.25 + 0.5 + 0.25) / 3)
    assert out["chance_top2"] == pytest.approx(100 * (0.5 + 5 / 6 + 0.5) / 3)
    assert out["n"] == 3 and out["n_classes"] == 4


def test_zero_shot_single_label_chance_is_k_over_c():
    rng = np.random.default_rng(5)
    out = zero_shot_classification(rng.normal(size=(20, 6)), [{i % 10} for i in range(20)], rng.normal(size=(10, 6)))
    assert out["chance_top1"] == pytest.approx(10.0)
    assert out["chance_top5"] == pytest.approx(50.0)
    few = zero_shot_classification(rng.normal(size=(3, 6)), [{0}, {1}, {2}], rng.normal(size=(3, 6)))
    assert few["chance_top5"] == 100.0 and few["top5"] == 100.0  # k >= C: always a hit
    with pytest.raises(ValueError, match="outside"):
        zero_shot_classification(np.ones((1, 6)), [{3}], np.ones((3, 6)))
    with pytest.raises(ValueError, match="no label"):
        zero_shot_classification(np.ones((1, 6)), [set()], np.ones((3, 6)))


# --------------------------------------------------------------------------- table


def test_format_table():
    rows = [{"name": "tmr", "t2m/R01": 12.345, "t2m/len": 4380}, {"name": "a|b"}]
    table = format_table(rows, ["name", "t2m/R01", "t2m/len"])
    assert table.splitlines() == [
        "| name | t2m/R01 | t2m/len |",
        "| --- | --- | --- |",
        "| tmr | 12.35 | 4380 |",
        "| a\\|b |  |  |",
    ]


# ------------------------------------------------------------------------ property


@st.composite
def sims_and_positives(draw):
    q = draw(st.integers(1, 6))
    g = draw(st.integers(1, 6))
    # few distinct values so that ties are common
    vals = draw(st.lists(st.integers(-2, 2), min_size=q * g, max_size=q * g))
    sims = np.array(vals, dtype=float).reshape(q, g) / 3.0
    bits = draw(st.lists(st.booleans(), min_size=q * g, max_size=q * g))
    pos = np.array(bits).reshape(q, g)
    first = draw(st.lists(st.integers(0, g - 1), min_size=q, max_size=q))
    pos[np.arange(q), first] = True  # at least one positive per text query ...
    cols = draw(st.lists(st.integers(0, q - 1), min_size=g, max_size=g))
    pos[cols, np.arange(g)] = True  # ... and per motion query (m2t)
    seed = draw(st.integers(0, 2**16))
    return sims, pos, seed


@settings(deadline=None, max_examples=150)
@given(sims_and_positives())
def test_metric_properties(data):
    sims, pos, seed = data
    ks = (1, 2, 3, 5, 10)
    g = sims.shape[1]
    r_opt, r_avg, r_pes = (ranks(sims, pos, ties=t) for t in ("optimistic", "average", "pessimistic"))
    assert np.all(r_opt <= r_avg) and np.all(r_avg <= r_pes)
    assert np.all(r_opt >= 0) and np.all(r_pes <= g - 1)

    t2m = recall_at_k(r_avg, ks)
    vals = [t2m[f"R{k:02d}"] for k in ks]
    assert all(0.0 <= v <= 100.0 for v in vals)
    assert vals == sorted(vals)
    assert median_rank(r_avg) >= 1.0

    # permuting the gallery together with the positives changes nothing
    perm = np.random.default_rng(seed).permutation(g)
    np.testing.assert_array_equal(ranks(sims[:, perm], pos[:, perm]), r_avg)
    assert retrieval_metrics(sims[:, perm], pos[:, perm]) == retrieval_metrics(sims, pos)


def test_tied_positives_do_not_push_each_other_down():
    # two identical correct captions and one wrong one, all tied: the first correct item
    # is expected at rank 1/3 under random order (0 optimistic, 1 pessimistic)
    sims = np.array([[0.5, 0.5, 0.5, 0.1]])
    positives = np.array([[True, True, False, False]])
    assert ranks(sims, positives, ties="optimistic")[0] == 0.0
    assert ranks(sims, positives, ties="pessimistic")[0] == 1.0
    assert ranks(sims, positives, ties="average")[0] == pytest.approx(1 / 3)
