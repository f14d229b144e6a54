"""Motion patches: chain sampling, z-scoring and patch tiling."""

from __future__ import annotations

import numpy as np
import pytest

from motionvigil.features.patches import (
    PART_NAMES,
    chain_indices,
    chain_points,
    fit_point_stats,
    image_to_patches,
    motion_image,
    resample_chain,
)
from motionvigil.io.layouts import KINECT_MSR, KINECT_SDK, SMPL22
from motionvigil.io.motion import Layout


def test_resample_chain_is_even_in_arc_length():
    # an L-shaped chain: 1 m along x then 2 m along y, 3 m in all
    chain = np.array([[[0.0, 0, 0], [1, 0, 0], [1, 2, 0]]])
    pts = resample_chain(chain, n=7)  # spacing 0.5 m
    expected = np.array([[0, 0, 0], [0.5, 0, 0], [1, 0, 0], [1, 0.5, 0], [1, 1, 0], [1, 1.5, 0], [1, 2, 0]])
    np.testing.assert_allclose(pts[0], expected, atol=1e-12)


def test_resample_chain_degenerate_falls_back_to_index_spacing():
    chain = np.zeros((2, 4, 3))
    pts = resample_chain(chain)
    assert pts.shape == (2, 16, 3) and np.isfinite(pts).all()


def test_chain_endpoints_are_the_chain_joints(data_path):
    joints = np.load(data_path("humanml3d/new_joints/012314.npy"))
    pts = chain_points(joints, SMPL22)
    chains = chain_indices(SMPL22)
    assert pts.shape == (len(joints), 80, 3)
    for part, chain in enumerate(chains):
        np.testing.assert_allclose(pts[:, part * 16], joints[:, chain[0]], atol=1e-6)
        np.testing.assert_allclose(pts[:, part * 16 + 15], joints[:, chain[-1]], atol=1e-6)
    # the torso chain ends at the head, the legs at the feet: the head is the highest point
    assert (pts[:, 15, 1] > pts[:, 3 * 16 + 15, 1]).all()


def test_image_shape_and_z_scoring(data_path):
    joints = np.load(data_path("humanml3d/new_joints/012314.npy"))
    stats = fit_point_stats([chain_points(joints, SMPL22)])
    image = motion_image(joints, SMPL22, stats)
    assert image.shape == (3, len(joints), 80) and image.dtype == np.float32
    # per point and axis, z-scored over the clip it was fitted on: mean 0, std 1
    per_point = image.transpose(1, 2, 0).reshape(len(joints), -1)
    moving = stats.std > 1e-6
    np.testing.assert_allclose(per_point.mean(0)[moving], 0.0, atol=1e-4)
    np.testing.assert_allclose(per_point.std(0, ddof=1)[moving], 1.0, atol=1e-3)


def test_224_frames_give_70_patches():
    image = np.random.default_rng(0).normal(size=(3, 224, 80)).astype(np.float32)
    patches = image_to_patches(image)
    assert patches.shape == (70, 3, 16, 16)
    # patch (row 2, part 3) holds frames 32..47 of points 48..63
    np.testing.assert_array_equal(patches[2 * 5 + 3], image[:, 32:48, 48:64])


def test_short_clip_is_padded_with_last_frame():
    image = np.arange(3 * 20 * 80, dtype=np.float32).reshape(3, 20, 80)
    patches = image_to_patches(image)
    assert patches.shape == (10, 3, 16, 16)
    np.testing.assert_array_equal(patches[5][:, -1], image[:, -1, :16])


@pytest.mark.parametrize("layout", [SMPL22, KINECT_MSR, KINECT_SDK])
def test_every_layout_has_five_chains_from_the_torso(layout):
    chains = chain_indices(layout)
    assert len(chains) == len(PART_NAMES) == 5
    for chain in chains:
        for parent, child in zip(chain[:-1], chain[1:]):
            assert layout.parents[child] == parent, (layout.name, chain)


def test_unknown_layout_is_a_clear_error():
    with pytest.raises(KeyError, match="no body-chain definition"):
        chain_indices(Layout("mystery", ("a", "b"), (-1, 0)))
