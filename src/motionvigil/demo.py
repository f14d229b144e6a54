"""``motionvigil demo``: the most complete pipeline that exists so far.

Today that is the data front end: one real file of every supported format is read,
retargeted to SMPL-22 at 20 Hz, turned into HumanML3D features and motion patches, and
summarised (frames, standing height, femur length, feature round-trip error). The
few-shot detector joins this job when it lands; nothing here is simulated.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from motionvigil.atomic import write_text_atomic
from motionvigil.data_root import ENV_VAR, default_data_root
from motionvigil.errors import MotionFileError
from motionvigil.features.convert import convert_motion, save_converted
from motionvigil.features.humanml3d import features_to_joints
from motionvigil.features.patches import image_to_patches, motion_image
from motionvigil.io import SMPL22, load_motion

DEMO_FILES = {
    "bvh (Bandai Namco)": "bandai2/data/dataset-2_wave-left-hand_elderly_001.bvh",
    "asf/amc (HDM05)": "hdm05/train/6/HDM_bd_kickLFront1Reps_001_120.amc",
    "kinect (MSR Action3D)": "msr_action3d/skeletons/a14_s01_e01_skeleton3D.txt",
    "kinect (UTKinect)": "utkinect/joints/joints_s01_e01.txt",
    "humanml3d npy": "humanml3d/new_joints/012314.npy",
}


def summarise(name: str, path: Path, out_dir: Path) -> dict:
    """Convert one file and measure what came out."""
    start = time.perf_counter()
    motion = load_motion(path)
    converted = convert_motion(motion)
    seconds = time.perf_counter() - start
    save_converted(out_dir / f"{path.stem}.npz", converted)
    joints = converted.joints
    recovered = features_to_joints(converted.features)
    patches = image_to_patches(motion_image(joints, SMPL22))
    left_femur = np.linalg.norm(joints[:, 4] - joints[:, 1], axis=-1)
    return {
        "format": name,
        "file": str(path),
        "source_layout": motion.layout.name,
        "source_joints": motion.num_joints,
        "source_fps": motion.fps,
        "frames_20hz": int(len(joints)),
        "duration_s": round(len(joints) / converted.fps, 2),
        "head_minus_floor_m_frame0": round(float(joints[0, 15, 1] - joints[0, :, 1].min()), 3),
        "left_femur_m_median": round(float(np.median(left_femur)), 3),
        "features_shape": list(converted.features.shape),
        "recovered_joints_shape": list(recovered.shape),
        "motion_patches": int(len(patches)),
        "convert_seconds": round(seconds, 3),
    }


def run_demo(out_dir: Path, data_root: Path | None = None) -> list[dict]:
    root = data_root or default_data_root()
    if not root.is_dir():
        raise MotionFileError(root, f"data folder not found (pass --data or set {ENV_VAR})")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, rel in tqdm(DEMO_FILES.items(), desc="converting", unit="file"):
        path = root / rel
        if not path.is_file():
            tqdm.write(f"skipping {name}: {path} not present")
            continue
        rows.append(summarise(name, path, out_dir))
    write_text_atomic(out_dir / "summary.json", json.dumps(rows, indent=2))
    print(f"\n{'format':24s} {'layout':11s} {'J':>3s} {'fps':>5s} {'frames@20Hz':>11s} "
          f"{'height m':>8s} {'femur m':>7s} {'patches':>7s}")
    for r in rows:
        print(f"{r['format']:24s} {r['source_layout']:11s} {r['source_joints']:3d} {r['source_fps']:5.0f} "
              f"{r['frames_20hz']:11d} {r['head_minus_floor_m_frame0']:8.3f} {r['left_femur_m_median']:7.3f} "
              f"{r['motion_patches']:7d}")
    print(f"\nconverted clips (.npz) and summary.json are in {out_dir}")
    print("the few-shot violence detector is not built yet; this demo covers the data front end")
    return rows
