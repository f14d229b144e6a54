"""Motion patches (Yu et al., CVPR 2024): a skeleton sequence as a 3-channel image.

The body is split into five kinematic chains (torso+head, left arm, right arm, left
leg, right leg), each ordered outward from the torso. Every chain is resampled to 16
points by linear interpolation along its length (arc length, so chains with different
joint counts in different skeletons land on comparable body points). Stacking the 5 x 16
points of every frame gives an image ``[3, T, 80]`` (xyz as colour channels); each
16-frame window of one chain is a 16 x 16 patch, so 224 frames give 14 x 5 = 70 patches.
Points are z-scored with per-point statistics computed over a training set.

Chains per skeleton layout (:data:`CHAINS`; each starts at the torso end, and each joint
is a descendant of the one before it in the skeleton's hierarchy, which
:func:`chain_problems` checks against a layout's parents):

========== ================================= ======================================
family     torso+head                        arms / legs (left shown; right alike)
========== ================================= ======================================
smpl22     pelvis .. head (6 joints)         spine3-collar-shoulder-elbow-wrist;
                                             pelvis-hip-knee-ankle-foot
kinect     hip_centre-spine-shoulder_centre  shoulder_centre-shoulder-elbow-wrist-
           -head (Kinect v1, MSR and SDK     hand; hip_centre-hip-knee-ankle-foot
           orders)
bandai_bvh Hips-Spine-Chest-Neck-Head        Chest-Shoulder_L-UpperArm_L-LowerArm_L-
           (joint_Root, the floor            Hand_L; Hips-UpperLeg_L-LowerLeg_L-
           projection, is left out)          Foot_L-Toes_L
cmu_asf    root-lowerback-upperback-thorax-  thorax-lclavicle-lhumerus-lradius-lwrist
           lowerneck-upperneck-head (joints  (hand, fingers, thumb left out);
           are bone ENDS)                    root-lhipjoint-lfemur-ltibia-lfoot-ltoes
========== ================================= ======================================

The chains differ in joint count and in where they end (the Kinect arm ends at the
hand, SMPL's at the wrist); arc-length resampling gives every skeleton 16 points per
chain, which is what makes the patches of different skeletons comparable (Motion Patches [docs/papers.md],
Section 5.1). :func:`chain_points` works on any layout of these families, so motion
patches can be built from a clip's own (native) skeleton, not only after retargeting.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from motionvigil.features.normalize import Normalizer
from motionvigil.io.motion import Layout

POINTS_PER_CHAIN = 16
PATCH_FRAMES = 16
PART_NAMES = ("torso", "left_arm", "right_arm", "left_leg", "right_leg")

# Chains by joint name, per layout family; each starts at the torso end.
CHAINS: dict[str, tuple[tuple[str, ...], ...]] = {
    "smpl22": (
        ("pelvis", "spine1", "spine2", "spine3", "neck", "head"),
        ("spine3", "left_collar", "left_shoulder", "left_elbow", "left_wrist"),
        ("spine3", "right_collar", "right_shoulder", "right_elbow", "right_wrist"),
        ("pelvis", "left_hip", "left_knee", "left_ankle", "left_foot"),
        ("pelvis", "right_hip", "right_knee", "right_ankle", "right_foot"),
    ),
    "kinect": (
        ("hip_centre", "spine", "shoulder_centre", "head"),
        ("shoulder_centre", "left_shoulder", "left_elbow", "left_wrist", "left_hand"),
        ("shoulder_centre", "right_shoulder", "right_elbow", "right_wrist", "right_hand"),
        ("hip_centre", "left_hip", "left_knee", "left_ankle", "left_foot"),
        ("hip_centre", "right_hip", "right_knee", "right_ankle", "right_foot"),
    ),
    "kinect_sbu15": (
        ("torso", "neck", "head"),
        ("neck", "left_shoulder", "left_elbow", "left_hand"),
        ("neck", "right_shoulder", "right_elbow", "right_hand"),
        ("torso", "left_hip", "left_knee", "left_foot"),
        ("torso", "right_hip", "right_knee", "right_foot"),
    ),
    "bandai_bvh": (
        ("Hips", "Spine", "Chest", "Neck", "Head"),
        ("Chest", "Shoulder_L", "UpperArm_L", "LowerArm_L", "Hand_L"),
        ("Chest", "Shoulder_R", "UpperArm_R", "LowerArm_R", "Hand_R"),
        ("Hips", "UpperLeg_L", "LowerLeg_L", "Foot_L", "Toes_L"),
        ("Hips", "UpperLeg_R", "LowerLeg_R", "Foot_R", "Toes_R"),
    ),
    "cmu_asf": (
        ("root", "lowerback", "upperback", "thorax", "lowerneck", "upperneck", "head"),
        ("thorax", "lclavicle", "lhumerus", "lradius", "lwrist"),
        ("thorax", "rclavicle", "rhumerus", "rradius", "rwrist"),
        ("root", "lhipjoint", "lfemur", "ltibia", "lfoot", "ltoes"),
        ("root", "rhipjoint", "rfemur", "rtibia", "rfoot", "rtoes"),
    ),
}
_FAMILY = {"smpl22": "smpl22", "kinect_msr": "kinect", "kinect_sdk": "kinect", "kinect_utd": "kinect",
           "kinect_sbu15": "kinect_sbu15", "bandai_bvh": "bandai_bvh", "cmu_asf": "cmu_asf"}  # fmt: skip


def chain_indices(layout: Layout) -> list[list[int]]:
    """Joint indices of the five body chains of ``layout``.

    Raises:
        KeyError: no chain definition is known for the layout.
    """
    family = _FAMILY.get(layout.name)
    if family is None:
        raise KeyError(f"no body-chain definition for skeleton layout {layout.name!r}")
    return [[layout.index(name) for name in chain] for chain in CHAINS[family]]


def _is_ancestor(parents: tuple[int, ...], ancestor: int, joint: int) -> bool:
    j = parents[joint]
    while j >= 0:
        if j == ancestor:
            return True
        j = parents[j]
    return False


def chain_problems(layout: Layout) -> list[str]:
    """What is wrong with the chain definition of ``layout`` (empty when all is well).

    Checks that every chain joint exists, that each joint descends from the one before
    it in ``layout.parents``, that the torso chain starts at a root-most joint of the
    body (its first joint is an ancestor of every other chain joint) and that each limb
    chain starts on the torso chain, and that left chains hold left joints only.
    """
    family = _FAMILY.get(layout.name)
    if family is None:
        return [f"no body-chain definition for skeleton layout {layout.name!r}"]
    problems = []
    missing = [n for chain in CHAINS[family] for n in chain if n not in layout.joint_names]
    if missing:
        return [f"layout {layout.name!r} lacks chain joints {missing}"]
    chains = chain_indices(layout)
    names = layout.joint_names
    for part, chain in zip(PART_NAMES, chains):
        for a, b in zip(chain[:-1], chain[1:]):
            if not _is_ancestor(layout.parents, a, b):
                problems.append(f"{part}: {names[a]!r} is not an ancestor of {names[b]!r}")
        if part != "torso" and chain[0] not in chains[0]:
            problems.append(f"{part}: starts at {names[chain[0]]!r}, not on the torso chain")
        side = part.split("_")[0] if "_" in part else None
        if side is not None and any(_side_of(names[j]) not in (None, side) for j in chain):
            problems.append(f"{part}: holds joints of the other side: {[names[j] for j in chain]}")
    root = chains[0][0]
    others = [j for chain in chains for j in chain if j != root]
    if not all(_is_ancestor(layout.parents, root, j) for j in others):
        problems.append(f"torso: {names[root]!r} is not an ancestor of every chain joint")
    return problems


def _side_of(name: str) -> str | None:
    """``"left"``/``"right"`` from a joint name's side marker (``left_``, ``_L``, CMU ``l...``)."""
    low = name.lower()
    if low.startswith("left") or name.endswith("_L"):
        return "left"
    if low.startswith("right") or name.endswith("_R"):
        return "right"
    if low in _CMU_SIDED:
        return "left" if low[0] == "l" else "right"
    return None


_CMU_SIDED = {f"{s}{n}" for s in "lr" for n in ("hipjoint", "femur", "tibia", "foot", "toes", "clavicle",
                                                 "humerus", "radius", "wrist", "hand", "fingers", "thumb")}


def resample_chain(points: np.ndarray, n: int = POINTS_PER_CHAIN) -> np.ndarray:
    """``n`` points ``[T, n, 3]`` evenly spaced by arc length along polylines ``[T, k, 3]``.

    Frames whose chain has (near) zero length fall back to even spacing by joint index.
    """
    seg = np.linalg.norm(np.diff(points, axis=1), axis=-1)  # [T, k-1]
    cum = np.concatenate([np.zeros((len(points), 1)), np.cumsum(seg, axis=1)], axis=1)  # [T, k]
    total = cum[:, -1:]
    k = points.shape[1]
    by_index = np.broadcast_to(np.linspace(0.0, 1.0, k), cum.shape)
    s = np.where(total > 1e-9, cum / np.maximum(total, 1e-9), by_index)  # [T, k] in [0, 1]
    targets = np.linspace(0.0, 1.0, n)
    # segment index of each target (vectorised searchsorted over frames)
    idx = np.clip((s[:, None, :] <= targets[None, :, None]).sum(-1) - 1, 0, k - 2)  # [T, n]
    s0 = np.take_along_axis(s, idx, axis=1)
    s1 = np.take_along_axis(s, idx + 1, axis=1)
    w = np.clip((targets[None] - s0) / np.maximum(s1 - s0, 1e-12), 0.0, 1.0)[..., None]
    p0 = np.take_along_axis(points, idx[..., None], axis=1)
    p1 = np.take_along_axis(points, (idx + 1)[..., None], axis=1)
    return p0 + w * (p1 - p0)


def chain_points(joints: np.ndarray, layout: Layout) -> np.ndarray:
    """The 80 sample points ``[T, 80, 3]`` (5 chains x 16) of joints ``[T, J, 3]``."""
    joints = np.asarray(joints, dtype=np.float64)
    return np.concatenate([resample_chain(joints[:, chain]) for chain in chain_indices(layout)], axis=1)


def fit_point_stats(point_sets: Iterable[np.ndarray]) -> Normalizer:
    """Per-point, per-axis mean/std (240 dims) over ``[T, 80, 3]`` point arrays."""
    return Normalizer.fit(p.reshape(len(p), -1) for p in point_sets)


def motion_image(joints: np.ndarray, layout: Layout, stats: Normalizer | None = None) -> np.ndarray:
    """Motion-patch image ``[3, T, 80]`` (float32): channels xyz, rows frames, columns points.

    With ``stats`` (from :func:`fit_point_stats`) each point is z-scored.
    """
    points = chain_points(joints, layout)
    flat = points.reshape(len(points), -1)
    if stats is not None:
        flat = stats.normalize(flat)
    return np.ascontiguousarray(flat.reshape(len(points), -1, 3).transpose(2, 0, 1), dtype=np.float32)


def image_to_patches(image: np.ndarray, patch: int = PATCH_FRAMES) -> np.ndarray:
    """Split ``[3, T, 80]`` into patches ``[T' / 16 * 5, 3, 16, 16]``, time-major.

    ``T`` is padded to a multiple of ``patch`` by repeating the last frame.
    """
    channels, frames, width = image.shape
    pad = (-frames) % patch
    if pad:
        image = np.concatenate([image, np.repeat(image[:, -1:], pad, axis=1)], axis=1)
    rows, cols = image.shape[1] // patch, width // patch
    tiles = image.reshape(channels, rows, patch, cols, patch).transpose(1, 3, 0, 2, 4)
    return np.ascontiguousarray(tiles.reshape(rows * cols, channels, patch, patch))
