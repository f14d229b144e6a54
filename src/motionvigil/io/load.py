"""Pick the right reader for a motion file."""

from __future__ import annotations

import math
import re
from pathlib import Path

from motionvigil.errors import MotionFileError
from motionvigil.io.motion import Motion
from motionvigil.io.video import VIDEO_EXTENSIONS  # light: the video backend is imported on use

_FORMATS = {
    ".bvh": "BVH (any hierarchy and channel order)",
    ".amc": "ASF/AMC (the .asf skeleton is found next to the .amc, or passed as asf=)",
    ".txt": "Kinect v1 skeletons: MSR Action3D *_skeleton3D.txt or UTKinect joints_*.txt; "
            "SBU Kinect Interaction skeleton_pos.txt (two persons, CSV); "
            "DeepMimic humanoid clips (JSON, e.g. pybullet_data's humanoid3d_*.txt)",
    ".mat": "UTD-MHAD *_skeleton.mat (MATLAB v5, d_skel 20 x 3 x frames, 30 fps)",
    ".npy": "HumanML3D new_joints/*.npy (frames x 22 x 3, 20 fps)",
    ".npz": "generic npz with 'joints' [T, J, 3] (or [P, T, J, 3] with 'person_ids', 'present') in metres, "
            "'fps', optional 'joint_names', 'parents'",
    **{
        ext: "video: 3D pose of the person in it by MediaPipe Pose, 33 landmarks "
             "(needs the video extra: pip install 'motionvigil[video]')"
        for ext in VIDEO_EXTENSIONS
    },
}


def supported_formats() -> dict[str, str]:
    """Extension -> description of every format ``load_motion`` reads."""
    return dict(_FORMATS)


def _sniff_kinect_txt(path: Path) -> str:
    """Tell MSR Action3D (4 values per line) from UTKinect (1 + 60 values per line) and
    SBU (1 + 90 comma-separated values per line)."""
    name = path.name
    if name == "skeleton_pos.txt":
        return "sbu"
    if name.endswith("_skeleton3D.txt") or name.endswith("_skeleton.txt"):
        return "msr"
    if re.match(r"joints_.*\.txt$", name):
        return "utkinect"
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            first = fh.readline().split()
    except OSError as exc:
        raise MotionFileError(path, f"cannot read file ({exc.strerror})") from None
    if len(first) == 1 and first[0].count(",") == 90:
        return "sbu"
    if len(first) == 4:
        return "msr"
    if len(first) == 61:
        return "utkinect"
    raise MotionFileError(
        path, f"unrecognised text skeleton format: first line has {len(first)} values "
              "(expected 4, 61, or 91 separated by commas)"
    )


def load_motion(path: str | Path, *, joint_map=None, scale: float | None = None, **kwargs) -> Motion:
    """Read any supported motion file into a :class:`Motion` (metres, Y up).

    Keyword arguments are passed to the format's reader (e.g. ``asf=`` for AMC files).

    Args:
        joint_map: SMPL-22 joint -> file joint (a dict, or the path of a JSON file; see
            ``io.joint_map.read_joint_map``), kept in ``meta["joint_map"]`` for the
            retargeting to SMPL-22.
        scale: factor from the file's length unit to metres. BVH files use it instead of
            inferring their unit; other formats (already in metres) are multiplied by it.

    Raises:
        MotionFileError: the file is missing, of an unknown format, or unusable.
    """
    if joint_map is not None:
        from motionvigil.io.joint_map import check_joint_map, read_joint_map

        joint_map = check_joint_map(joint_map) if isinstance(joint_map, dict) else read_joint_map(joint_map)
    path = Path(path)
    if scale is not None and path.suffix.lower() == ".bvh":
        kwargs["scale"] = scale
        scale = None
    motion = _read(path, **kwargs)
    if scale is not None:
        if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
            raise MotionFileError(path, f"scale must be a positive finite number, got {scale!r}")
        motion.joints = (motion.joints * scale).astype(motion.joints.dtype)
        motion.meta["scale_to_metres"] = float(scale) * float(motion.meta.get("scale_to_metres", 1.0))
    if joint_map:
        motion.meta["joint_map"] = joint_map
    return motion


def _read(path: Path, **kwargs) -> Motion:
    if not path.is_file():
        raise MotionFileError(path, "no such file")
    ext = path.suffix.lower()
    if ext == ".bvh":
        from motionvigil.io.bvh import read_bvh

        return read_bvh(path, **kwargs)
    if ext == ".amc":
        from motionvigil.io.asf_amc import read_amc

        return read_amc(path, **kwargs)
    if ext == ".txt":
        from motionvigil.io.deepmimic import is_deepmimic, read_deepmimic
        from motionvigil.io.kinect import read_msr_action3d, read_utkinect
        from motionvigil.io.sbu import read_sbu

        if is_deepmimic(path):
            return read_deepmimic(path, **kwargs)

        reader = {"msr": read_msr_action3d, "utkinect": read_utkinect, "sbu": read_sbu}[_sniff_kinect_txt(path)]
        return reader(path, **kwargs)
    if ext == ".mat":
        from motionvigil.io.utd_mhad import read_utd_mhad

        return read_utd_mhad(path, **kwargs)
    if ext == ".npy":
        from motionvigil.io.arrays import read_humanml3d_joints

        return read_humanml3d_joints(path, **kwargs)
    if ext == ".npz":
        from motionvigil.io.arrays import read_npz

        return read_npz(path, **kwargs)
    if ext in VIDEO_EXTENSIONS:
        from motionvigil.io.video import read_video  # raises MotionFileError naming the extra if absent

        return read_video(path, **kwargs)
    known = ", ".join(sorted(_FORMATS))
    raise MotionFileError(path, f"unknown motion format {ext or '(no extension)'!r}; supported: {known}")
