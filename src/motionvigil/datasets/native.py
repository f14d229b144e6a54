"""A clip's own (native) skeleton, kept beside its SMPL-22 retargeting.

Retargeting to SMPL-22 mixes and drops joints (Kinect hands, the ASF fingers and
thumbs, Bandai's floor-projected ``joint_Root``). Cross-skeleton models (motion patches
from each skeleton's own kinematic chains, Motion Patches [docs/papers.md]) need the joints as recorded, so
loaders keep them in ``clip.meta``:

- ``meta["native_joints"]``: float32 ``[T, J, 3]``, the file's joints resampled to the
  clip's 20 Hz, in metres, moved into the SAME canonical frame as ``clip.joints``: one
  rigid transform (floor shift, XZ origin, turn to face +Z) is computed from the SMPL-22
  joints exactly as :func:`motionvigil.skeleton.canonical.canonicalize` does, and applied
  to both skeletons. Frame ``t`` of one is frame ``t`` of the other.
- ``meta["native_layout"]``: ``{"name", "joint_names", "parents"}`` (JSON-safe), the
  layout the joints follow (``"kinect_msr"``, ``"kinect_sdk"``, ``"bandai_bvh"``,
  ``"cmu_asf"``, ...).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from motionvigil.datasets.clip import Clip
from motionvigil.io.layouts import SMPL22
from motionvigil.io.motion import Layout, Motion
from motionvigil.skeleton.canonical import canonicalize
from motionvigil.skeleton.resample import resample_joints
from motionvigil.skeleton.retarget import TARGET_FPS, to_smpl22

NATIVE_JOINTS = "native_joints"
NATIVE_LAYOUT = "native_layout"


def layout_meta(layout: Layout) -> dict[str, Any]:
    """A JSON-safe description of ``layout`` (what ``meta["native_layout"]`` holds)."""
    return {"name": layout.name, "joint_names": list(layout.joint_names), "parents": list(layout.parents)}


def layout_from_meta(meta: dict[str, Any]) -> Layout:
    """The :class:`Layout` described by :func:`layout_meta`'s dictionary."""
    return Layout(str(meta["name"]), tuple(meta["joint_names"]), tuple(int(p) for p in meta["parents"]))


def to_smpl22_native(motion: Motion, fps: float = TARGET_FPS) -> tuple[Motion, np.ndarray]:
    """``to_smpl22(motion, fps)`` and the native joints ``[T, J, 3]`` in the same frame.

    The native joints are resampled like the SMPL-22 ones (both mappings are linear, so
    resampling commutes with retargeting) and the two skeletons are canonicalised
    together: the transform comes from the SMPL-22 part alone (its pelvis, hips,
    shoulders and lowest joint), so the SMPL-22 joints equal ``to_smpl22(motion, fps)``'s.
    """
    smpl = to_smpl22(motion, fps=fps, canonical=False)
    native = resample_joints(motion.joints, motion.fps, fps)
    n = SMPL22.num_joints
    # canonicalize() reads only the first 22 joints for the origin and the facing turn;
    # its floor shift uses every joint, so the SMPL-22 floor is restored afterwards.
    both = canonicalize(np.concatenate([smpl.joints, native], axis=1))
    both[..., 1] -= both[:, :n, 1].min()
    native_joints = np.ascontiguousarray(both[:, n:], dtype=np.float32)
    return smpl.with_joints(both[:, :n].astype(np.float32)), native_joints


def has_native(clip: Clip) -> bool:
    return NATIVE_JOINTS in clip.meta and NATIVE_LAYOUT in clip.meta


def native_skeleton(clip: Clip) -> tuple[np.ndarray, Layout]:
    """``(joints [T, J, 3], layout)`` of the clip's own skeleton.

    Raises:
        ValueError: the clip holds no native joints (e.g. synthetic or HumanML3D clips,
            or a window cut from a clip), or they do not match its frame count.
    """
    if not has_native(clip):
        raise ValueError(
            f"clip {clip.clip_id!r} ({clip.dataset}) has no native skeleton in its meta; "
            "load it with a dataset loader that keeps native joints (bandai2, hdm05, msr_action3d, sbu_kinect, utd_mhad, utkinect)"
        )
    joints = np.asarray(clip.meta[NATIVE_JOINTS])
    if len(joints) != clip.num_frames:
        raise ValueError(
            f"clip {clip.clip_id!r}: native joints have {len(joints)} frames "
            f"but the clip has {clip.num_frames}"
        )
    return joints, layout_from_meta(clip.meta[NATIVE_LAYOUT])


def with_native(clip: Clip, joints: np.ndarray, layout: Layout) -> Clip:
    """``clip`` with native joints (same frames) and layout recorded in its meta (in place)."""
    if len(joints) != clip.num_frames or joints.shape[1:] != (layout.num_joints, 3):
        raise ValueError(f"native joints {joints.shape} do not fit clip {clip.clip_id!r} "
                         f"/ layout {layout.name!r}")
    clip.meta[NATIVE_JOINTS] = np.asarray(joints, dtype=np.float32)
    clip.meta[NATIVE_LAYOUT] = layout_meta(layout)
    return clip
