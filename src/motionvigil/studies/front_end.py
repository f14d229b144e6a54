"""The data front end on real sample files (one per supported format): read, retarget to
SMPL-22 at 20 Hz, HumanML3D features, motion patches; a row of measurements per file."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from motionvigil.io import SMPL22

DEMO_FILES = {
    "bvh (Bandai Namco)": "bandai2/data/dataset-2_wave-left-hand_elderly_001.bvh",
    "asf/amc (HDM05)": "hdm05/train/6/HDM_bd_kickLFront1Reps_001_120.amc",
    "kinect (MSR Action3D)": "msr_action3d/skeletons/a14_s01_e01_skeleton3D.txt",
    "kinect (UTKinect)": "utkinect/joints/joints_s01_e01.txt",
    "humanml3d npy": "humanml3d/new_joints/012314.npy",
}


def summarise(name: str, path: Path) -> dict:
    """Convert one real file to SMPL-22 at 20 Hz and HumanML3D features; measure the result."""
    from motionvigil.features.convert import convert_motion
    from motionvigil.features.humanml3d import features_to_joints
    from motionvigil.features.patches import image_to_patches, motion_image
    from motionvigil.io import load_motion

    start = time.perf_counter()
    motion = load_motion(path)
    converted = convert_motion(motion)
    seconds = time.perf_counter() - start
    joints = converted.joints
    recovered = features_to_joints(converted.features)
    patches = image_to_patches(motion_image(joints, SMPL22))
    left_femur = np.linalg.norm(joints[:, 4] - joints[:, 1], axis=-1)
    return {
        "format": name, "file": path.name, "source_layout": motion.layout.name, "source_joints": motion.num_joints,
        "source_fps": motion.fps, "frames_20hz": int(len(joints)), "duration_s": round(len(joints) / converted.fps, 2),
        "height_m": round(float(joints[0, 15, 1] - joints[0, :, 1].min()), 3),
        "left_femur_m": round(float(np.median(left_femur)), 3),
        "recovered_joints_shape": list(recovered.shape),
        "motion_patches": int(len(patches)), "convert_seconds": round(seconds, 3),
    }  # fmt: skip


def front_end_rows(root: Path) -> list[dict]:
    """One conversion summary per sample file present under ``root`` (none if it is absent)."""
    rows = []
    for name, rel in DEMO_FILES.items():
        path = root / rel
        if path.is_file():
            try:
                rows.append(summarise(name, path))
            except Exception as exc:  # a broken sample file must not sink the demo
                tqdm.write(f"front end: {path.name}: {exc}")
    return rows


def builtin_detector_rows(root: Path) -> tuple[list[dict], str | None]:
    """The built-in detector (no training) on each sample file present under ``root``:
    duration, windows, highest violence score and alert segments per file. Returns the
    rows and, when the detector cannot be loaded, why."""
    from motionvigil.detect import detect_motion
    from motionvigil.detect.builtin import load_builtin_detector
    from motionvigil.errors import MotionFileError
    from motionvigil.io import load_motion

    try:
        detector = load_builtin_detector()
    except MotionFileError as exc:
        return [], str(exc)
    rows = []
    for name, rel in DEMO_FILES.items():
        path = root / rel
        if not path.is_file():
            continue
        start = time.perf_counter()
        try:
            tl = detect_motion(detector, load_motion(path))
        except MotionFileError as exc:
            tqdm.write(f"built-in detector: {exc}")
            continue
        rows.append({
            "format": name, "file": path.name, "duration_s": round(tl.duration_s, 1), "windows": len(tl.windows),
            "max_violence": round(max((w.violence for w in tl.windows), default=0.0), 3),
            "alerts": [f"{a.start_s:.1f}-{a.end_s:.1f} s {a.top_class}" for a in tl.alerts],
            "seconds": round(time.perf_counter() - start, 2),
        })
    return rows, None
