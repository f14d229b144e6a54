"""Measured evidence for the UTD-MHAD and SBU Kinect readers: joint order, units,
handedness, the shared frame of the two SBU persons, and who is who.

``python -m motionvigil.datasets.reader_evidence -o results/data/readers.json`` reads
every file of both datasets (a few seconds) and writes the numbers that
``docs/data.md`` quotes. Every fraction is over frames, then averaged or summarised over
files (takes).
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from motionvigil.atomic import write_text_atomic
from motionvigil.data_root import default_data_root
from motionvigil.io.layouts import KINECT_SBU15, KINECT_UTD
from motionvigil.io.sbu import read_sbu
from motionvigil.io.utd_mhad import read_utd_mhad

_UP = np.array([0.0, 1.0, 0.0])


def _r(x: float, digits: int = 3) -> float:
    return round(float(x), digits)


def _bone(joints: np.ndarray, layout, child: str, parent: str) -> np.ndarray:
    return np.linalg.norm(joints[:, layout.index(child)] - joints[:, layout.index(parent)], axis=-1)


def _forward(joints: np.ndarray, layout) -> np.ndarray:
    return np.cross(_UP, joints[..., layout.index("right_hip"), :] - joints[..., layout.index("left_hip"), :])


def utd_evidence(root: Path) -> dict[str, Any]:
    """Frames, head-highest, femur, facing-the-sensor and right-is-+X over every file."""
    per_file = defaultdict(list)
    for path in sorted((root / "skeleton").glob("*_skeleton.mat")):
        j = read_utd_mhad(path).joints.astype(np.float64)
        per_file["frames"].append(len(j))
        per_file["head_highest"].append((j[..., 1].argmax(axis=1) == KINECT_UTD.index("head")).mean())
        per_file["femur"].append(np.median(_bone(j, KINECT_UTD, "left_knee", "left_hip")))
        per_file["faces_sensor"].append((_forward(j, KINECT_UTD)[:, 2] < 0).mean())
        right, left = j[:, KINECT_UTD.index("right_shoulder"), 0], j[:, KINECT_UTD.index("left_shoulder"), 0]
        per_file["right_at_larger_x"].append((right > left).mean())
    a = {k: np.array(v) for k, v in per_file.items()}
    return {
        "files": len(a["frames"]),
        "frames": {"min": int(a["frames"].min()), "max": int(a["frames"].max()), "total": int(a["frames"].sum())},
        "head_highest": {"p10": _r(np.percentile(a["head_highest"], 10)), "median": _r(np.median(a["head_highest"]))},
        "femur_m": {"median": _r(np.median(a["femur"])), "p05": _r(np.percentile(a["femur"], 5)),
                    "p95": _r(np.percentile(a["femur"], 95))},
        "faces_sensor": _r(a["faces_sensor"].mean()),
        "right_at_larger_x": _r(a["right_at_larger_x"].mean()),
    }


def _signature(body: np.ndarray) -> np.ndarray:
    bones = [(j, p) for j, p in enumerate(KINECT_SBU15.parents) if p >= 0]
    return np.array([np.median(np.linalg.norm(body[:, j] - body[:, p], axis=-1)) for j, p in bones])


def participant_spread(per_set: dict[str, np.ndarray], order: dict[str, tuple[str, str]]) -> float:
    """Total within-participant variance (m^2) of the body-size signatures ``per_set[s] [2, bones]``
    when set ``s``'s persons are the participants ``order[s]``."""
    by = defaultdict(list)
    for s, (p0, p1) in order.items():
        by[p0].append(per_set[s][0])
        by[p1].append(per_set[s][1])
    return float(sum(((np.array(v) - np.mean(v, 0)) ** 2).sum() for v in by.values()))


def sbu_evidence(root: Path) -> dict[str, Any]:
    """Geometry of every take, the class checks and the participant order by body size."""
    from motionvigil.datasets.loaders.sbu_kinect import SBU_PERSON_PARTICIPANTS, index_sbu

    take = defaultdict(list)
    by_class = defaultdict(lambda: defaultdict(list))
    signatures = defaultdict(list)
    torso_i = KINECT_SBU15.index("torso")
    for rec in index_sbu(root):
        motion = read_sbu(rec.path)
        j = motion.bodies.astype(np.float64)  # [2, T, 15, 3]
        take["frames"].append(motion.num_frames)
        take["head_highest"].append((j[..., 1].argmax(axis=-1) == KINECT_SBU15.index("head")).mean())
        take["femur"].append(np.median(_bone(j.reshape(-1, 15, 3), KINECT_SBU15, "left_knee", "left_hip")))
        take["shin"].append(np.median(_bone(j.reshape(-1, 15, 3), KINECT_SBU15, "left_foot", "left_knee")))
        hips = (j[:, :, KINECT_SBU15.index("left_hip")] + j[:, :, KINECT_SBU15.index("right_hip")]) / 2
        neck = j[:, :, KINECT_SBU15.index("neck")]
        axis = neck - hips
        take["torso_fraction"].append(np.median(np.sum((j[:, :, torso_i] - hips) * axis, -1) / np.sum(axis**2, -1)))
        torso = j[:, :, torso_i]
        facing = np.sum(_forward(j, KINECT_SBU15) * (torso[::-1] - torso), axis=-1) > 0
        gap = np.linalg.norm(torso[0] - torso[1], axis=-1)
        feet = j[:, :, [KINECT_SBU15.index("left_foot"), KINECT_SBU15.index("right_foot")], 1]
        c = by_class[rec.label]
        c["facing"].append(facing.mean())
        c["gap_start"].append(gap[0])
        c["gap_end"].append(gap[-1])
        c["gap_min"].append(gap.min())
        c["foot_raise"].append((feet - feet.min(axis=1, keepdims=True)).max())
        signatures[rec.set_name].append([_signature(b) for b in j])
    per_set = {s: np.median(np.array(v), axis=0) for s, v in signatures.items()}
    table = participant_spread(per_set, SBU_PERSON_PARTICIPANTS)
    by_name = participant_spread(per_set, {s: (s[:3], s[3:]) for s in per_set})
    alternatives = sorted(
        participant_spread(per_set, {s: (pp[::-1] if f else pp) for (s, pp), f in zip(SBU_PERSON_PARTICIPANTS.items(), flips)})
        for flips in itertools.product([False, True], repeat=len(per_set))
    )
    t = {k: np.array(v) for k, v in take.items()}
    return {
        "takes": len(t["frames"]),
        "frames": {"min": int(t["frames"].min()), "max": int(t["frames"].max()), "total": int(t["frames"].sum())},
        "head_highest": {"p10": _r(np.percentile(t["head_highest"], 10)), "median": _r(np.median(t["head_highest"]))},
        "femur_m": {"median": _r(np.median(t["femur"])), "min": _r(t["femur"].min()), "max": _r(t["femur"].max())},
        "shin_m": {"median": _r(np.median(t["shin"]))},
        "torso_fraction_hips_to_neck": _r(np.median(t["torso_fraction"])),
        "classes": {
            label.replace(" ", "_"): {k: _r(np.mean(v) if k == "facing" else np.median(v)) for k, v in c.items()}
            for label, c in by_class.items()
        },
        "participants": {
            "spread_table_m2": _r(table, 4),
            "spread_by_name_m2": _r(by_name, 4),
            "spread_next_best_m2": _r(alternatives[1], 4),
            "table_is_best": bool(abs(alternatives[0] - table) < 1e-12),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=None, help="shared data root (default: ../shared/data)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    root = args.data_root or default_data_root()
    doc = {"data_root": str(root), "utd_mhad": utd_evidence(root / "utd_mhad"),
           "sbu_kinect": sbu_evidence(root / "sbu_kinect")}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.output, json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
