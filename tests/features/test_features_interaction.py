"""Two-person descriptors and staged two-person scenes: a punch that lands and shoves the
receiver back is told from a hug and a handshake by the quantities named for it; the
descriptors ignore units, heading and place; staging puts a hand within the asked gap."""

from __future__ import annotations

import numpy as np
import pytest

from motionvigil.datasets.clip import Clip
from motionvigil.datasets.synthetic.pairs import pair_scenes, stage
from motionvigil.features.interaction import INTERACTION_NAMES, interaction_features, torso_gap
from motionvigil.features.kinematics import STRIKE_NAMES, strike_features

REST = np.array([
    [0, .95, 0], [.06, .9, 0], [-.06, .9, 0], [0, 1.05, 0], [.08, .5, 0], [-.08, .5, 0], [0, 1.2, 0],
    [.08, .08, 0], [-.08, .08, 0], [0, 1.3, 0], [.08, 0, .12], [-.08, 0, .12], [0, 1.5, 0], [.08, 1.42, 0],
    [-.08, 1.42, 0], [0, 1.65, 0], [.18, 1.42, 0], [-.18, 1.42, 0], [.2, 1.15, 0], [-.2, 1.15, 0],
    [.21, .9, 0], [-.21, .9, 0]])  # fmt: skip  SMPL-22 standing, facing +Z
F = dict(zip(INTERACTION_NAMES, range(len(INTERACTION_NAMES))))
T = 40


def facing_pair(distance: float) -> tuple[np.ndarray, np.ndarray]:
    """A at the origin facing +Z, B ``distance`` m ahead facing A."""
    a = np.tile(REST, (T, 1, 1)).astype(np.float64)
    b = np.tile(REST * np.array([-1.0, 1.0, -1.0]) + [0.0, 0.0, distance], (T, 1, 1))
    return a, b


def punch() -> tuple[np.ndarray, np.ndarray]:
    a, b = facing_pair(0.75)
    a[18:22, 21] += np.array([0.0, 0.2, 0.7, 1.0])[:, None] * ([0.0, 1.3, 0.72] - REST[21])  # right fist to B's chest
    a[22:, 21] = a[21, 21]
    b[22:, :, 2] += np.minimum(np.arange(T - 22), 6)[:, None] * 0.05  # B is shoved back 30 cm
    return a, b


def hug() -> tuple[np.ndarray, np.ndarray]:
    a, b = facing_pair(0.35)
    for j, k in ((20, 21), (18, 19)):  # both arms around B, slowly
        a[:, [j, k], 2] += np.linspace(0.0, 0.3, T)[:, None]
    return a, b


def handshake() -> tuple[np.ndarray, np.ndarray]:
    a, b = facing_pair(1.0)
    a[:, 21] = a[:, 21] + np.linspace(0, 1, T)[:, None] * ([-0.1, 1.0, 0.45] - REST[21])
    b[:, 20] = b[:, 20] + np.linspace(0, 1, T)[:, None] * ([-0.1, 1.0, 0.5] - b[0, 20])  # B's left hand meets it
    return a, b


def test_a_landed_punch_is_fast_close_and_shoves_the_receiver():
    p, h, s = (interaction_features(*x) for x in (punch(), hug(), handshake()))
    assert p[F["strike_dist_min"]] < 0.1 and p[F["strike_speed_near_max"]] > 3 * h[F["strike_speed_near_max"]]
    assert p[F["recoil_max"]] > 0.5 and h[F["recoil_max"]] < 0.05 and s[F["recoil_max"]] < 0.05
    assert h[F["torso_near_frac"]] == 1.0 and p[F["torso_near_frac"]] == 0.0
    assert s[F["hand_hand_dist_min"]] < 0.1 and p[F["hand_hand_dist_min"]] > 0.3
    assert p[F["facing"]] > 0.99  # A faces B


def test_interaction_features_ignore_units_heading_and_place():
    a, b = punch()
    base = interaction_features(a, b)
    np.testing.assert_allclose(interaction_features(a * 100, b * 100), base, rtol=1e-4, atol=1e-4)
    c, s = np.cos(0.7), np.sin(0.7)
    turn = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    moved = [x @ turn.T + [2.0, 0.0, -5.0] for x in (a, b)]
    np.testing.assert_allclose(interaction_features(*moved), base, rtol=1e-4, atol=1e-4)


def test_interaction_features_refuse_bad_windows():
    a, b = punch()
    with pytest.raises(ValueError, match="two"):
        interaction_features(a, b[:-1])
    b[3, 4, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        interaction_features(a, b)


def test_torso_gap_is_the_closest_chest_distance_in_metres():
    a, b = facing_pair(1.5)
    assert torso_gap(a, b) == pytest.approx(1.5)


def test_strike_features_see_a_straight_forward_punch_and_ignore_units():
    a, _ = punch()
    f = dict(zip(STRIKE_NAMES, strike_features(a)))
    assert f["arm_path_straightness"] > 0.95 and f["arm_forward_at_peak"] > 0.4 and f["arm_peaks"] == 1
    np.testing.assert_allclose(strike_features(a * 100), strike_features(a), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(strike_features(a * [-1, 1, 1]), strike_features(a), rtol=1e-4, atol=1e-4)


def test_stage_puts_the_closest_hand_or_foot_at_the_asked_gap():
    a, _ = punch()
    rng = np.random.default_rng(0)
    for gap in (0.05, 1.0):
        scene = stage(a, np.tile(REST, (T, 1, 1)), gap, rng)
        assert scene.shape == (2, T, 22, 3)
        d = interaction_features(scene[0], scene[1])[F["strike_dist_min"]]
        leg = 0.82  # REST's hip-knee-ankle length
        assert d * leg == pytest.approx(gap, abs=0.01)


def test_pair_scenes_label_only_reachable_violent_actors_violent():
    a, _ = punch()
    strike = Clip("p", a.astype(np.float32), ("punch",), True, "toy", subject="s1")
    calm = Clip("c", np.tile(REST, (T, 1, 1)).astype(np.float32), ("stand",), False, "toy", subject="s2")
    scenes = pair_scenes([strike, calm], [calm], seed=1, per_actor=2)
    assert [s.violent for s in scenes] == [True, False, False, False]
    assert all(s.joints.shape == (2, T, 22, 3) and s.source == "toy" for s in scenes)
    with pytest.raises(ValueError, match="calm"):
        pair_scenes([strike], [strike])
