"""Bring any supported motion to the SMPL-22 layout at 20 Hz, in HumanML3D's frame."""

from __future__ import annotations

import numpy as np

from motionvigil.errors import MotionFileError
from motionvigil.io.layouts import SMPL22
from motionvigil.io.motion import Motion
from motionvigil.skeleton.auto_map import AutoMapping, MappingError, auto_map
from motionvigil.skeleton.canonical import canonicalize
from motionvigil.skeleton.mappings import MAPPINGS, mapping_matrix
from motionvigil.skeleton.resample import resample_joints

TARGET_FPS = 20.0


def smpl22_mapping(motion: Motion) -> AutoMapping:
    """The SMPL-22 mapping used for ``motion``: the fixed map of its layout (see
    ``skeleton.mappings``) unless ``motion.meta["joint_map"]`` is set; otherwise the
    automatic one from joint names and the tree (see ``skeleton.auto_map``).

    Raises:
        MotionFileError: no mapping (the message lists the unmatched SMPL-22 joints and
            the file's joint names), or one that fails the geometric checks.
    """
    layout = motion.layout
    joint_map = motion.meta.get("joint_map")
    if not joint_map and layout.name in MAPPINGS:
        matrix = mapping_matrix(layout)
        mapping = {
            smpl: {layout.joint_names[j]: float(matrix[row, j]) for j in np.flatnonzero(matrix[row])}
            for row, smpl in enumerate(SMPL22.joint_names)
        }
        return AutoMapping(mapping, [f"fixed map of layout {layout.name!r}"])
    try:
        return auto_map(layout.joint_names, layout.parents, motion.bodies[0], fixed=joint_map, layout_name=layout.name,
                        rest=_rest_pose(motion))
    except MappingError as exc:
        raise MotionFileError(motion.source, str(exc)) from None


def _rest_pose(motion: Motion) -> np.ndarray | None:
    """Rest-pose joint positions ``[J, 3]`` from ``meta["offsets"]`` (BVH), else None."""
    offsets = motion.meta.get("offsets")
    if offsets is None or np.shape(offsets) != (motion.num_joints, 3):
        return None
    offsets = np.asarray(offsets, dtype=np.float64)
    rest = np.full_like(offsets, np.nan)
    for _ in range(motion.num_joints):  # one pass when parents come first (BVH); more otherwise
        for j, parent in enumerate(motion.layout.parents):
            rest[j] = offsets[j] + (rest[parent] if parent >= 0 else 0.0)
        if np.isfinite(rest).all():
            break
    return rest if np.isfinite(rest).all() else None


def to_smpl22(motion: Motion, fps: float = TARGET_FPS, canonical: bool = True) -> Motion:
    """Retarget ``motion`` to SMPL-22 joints, resampled to ``fps``.

    Args:
        motion: any motion with a fixed mapping (see ``skeleton.mappings``) or one that
            :func:`smpl22_mapping` finds from its joint names (``meta["joint_map"]``
            settles joints by hand).
        fps: output frame rate (20 Hz, as HumanML3D and TMR expect).
        canonical: put the lowest joint on the floor, start at the XZ origin and face
            +Z in the first frame. Bone lengths are the performer's own; the feature
            step moves them to HumanML3D's reference skeleton.

    A multi-person motion keeps its persons axis: every body is mapped and resampled
    alike, in the shared frame (``canonical`` then moves each body into its own
    canonical frame, so use ``canonical=False`` to keep the distances between people);
    ``present`` is resampled too (an output frame is present when the raw frames around
    it are).

    Raises:
        MotionFileError: the layout has no mapping, or resampling leaves < 2 frames.
    """
    matrix = smpl22_mapping(motion).matrix(motion.layout.joint_names)
    bodies = []
    for body in motion.bodies:
        joints = np.einsum("sj,tjc->tsc", matrix, body.astype(np.float64))
        joints = resample_joints(joints, motion.fps, fps)
        if len(joints) < 2:
            raise MotionFileError(
                motion.source, f"motion of {motion.duration:.3f} s is too short for {fps:g} Hz (needs 2 frames)"
            )
        bodies.append(canonicalize(joints) if canonical else joints)
    present = None
    if motion.present is not None:
        mask = resample_joints(motion.present.T.astype(np.float32)[:, :, None], motion.fps, fps)[:, :, 0].T
        present = mask > 1.0 - 1e-4
    meta = dict(motion.meta, source_layout=motion.layout.name, source_fps=motion.fps)
    joints = bodies[0] if motion.num_persons == 1 else np.stack(bodies)
    return Motion(joints=joints, fps=fps, layout=SMPL22, source=motion.source, meta=meta,
                  person_ids=motion.person_ids, present=present)


def mapping_info(motion: Motion) -> dict:
    """What ``motionvigil info`` reports about units and the SMPL-22 mapping of ``motion``:
    ``units`` and ``scale_to_metres`` (when the reader knows them), ``mapping`` (SMPL-22
    joint -> file joint or ``{joint: weight}``) and ``mapping_notes``, or ``mapping_error``."""
    info: dict = {k: motion.meta[k] for k in ("units", "scale_to_metres") if k in motion.meta}
    try:
        mapping = smpl22_mapping(motion)
    except MotionFileError as exc:
        info["mapping_error"] = exc.problem
        return info
    info["mapping"] = mapping.describe()
    if mapping.notes:
        info["mapping_notes"] = mapping.notes
    return info
