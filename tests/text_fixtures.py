"""Fixtures shared by the text-dataset tests and the BABEL study test: synthetic
HumanML3D features and BABEL annotation records (the BABEL JSON schema)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motionvigil.features.humanml3d import joints_to_features
from motionvigil.skeleton.smpl22 import forward_kinematics, reference_offsets


def synthetic_features(frames: int, phase: float = 0.0) -> np.ndarray:
    """HumanML3D features ``[frames, 263]`` of a rest-pose body walking forward, waving an arm."""
    n = frames + 1
    quats = np.zeros((n, 22, 4))
    quats[..., 0] = 1.0
    root = np.stack([np.zeros(n), np.full(n, 0.95), 0.05 * np.arange(n)], axis=-1)
    joints = forward_kinematics(quats, root, reference_offsets())
    joints[:, 20, 1] += 0.1 * np.sin(np.arange(n) / 3.0 + phase)
    return joints_to_features(joints)


def write_npy(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, array)
    return path


def _label(seg: str, cats: list[str] | None, start: float | None = None, end: float | None = None) -> dict:
    label = {
        "raw_label": " ".join(cats or ["?"]),
        "proc_label": " ".join(cats or ["?"]),
        "seg_id": seg,
        "act_cat": cats,
    }
    if start is not None:
        label.update(start_t=start, end_t=end)
    return label


def _ann(labels: list[dict], lid: str) -> dict:
    return {"babel_lid": lid, "anntr_id": "annotator-1", "mul_act": len(labels) > 1, "labels": labels}


def _sequence(
    sid: int, feat_p: str, dur: float, seq_labels: list[dict], frame_labels: list[dict] | None
) -> dict:
    return {
        "babel_sid": sid,
        "url": f"https://babel-renders.s3.eu-central-1.amazonaws.com/{sid:06d}.mp4",
        "feat_p": feat_p,
        "dur": dur,
        "seq_ann": _ann(seq_labels, f"seq-{sid}"),
        "frame_ann": None if frame_labels is None else _ann(frame_labels, f"frame-{sid}"),
    }
