"""``motionvigil detect`` on a file of several persons (an npz with ``person_ids`` and
``present``): alerts name the person or pair, ``--json`` has tracks, pairs and alerts
with persons, and a body with a NaN where it is seen is refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scenes import three_persons, tiny_detector, with_threshold

from motionvigil.cli import main
from motionvigil.io import Motion, load_motion
from motionvigil.io.arrays import save_npz


@pytest.fixture(scope="module")
def det_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("det") / "always"
    with_threshold(tiny_detector(), -2.0).save(folder)  # every window alerts
    return folder


@pytest.fixture(scope="module")
def bodies():
    return three_persons(20.0)


def test_detect_names_persons(det_dir, bodies, tmp_path, capsys):
    joints, layout, ids, present = bodies
    raw = np.where(present[..., None, None], joints, 0.0)  # where a person is not seen: all zeros
    np.savez(tmp_path / "three.npz", joints=raw, fps=20.0, person_ids=np.array(ids), layout="smpl22")
    loaded = load_motion(tmp_path / "three.npz")
    assert loaded.person_ids == ids and (loaded.presence == (present & (joints != 0).any((2, 3)))).all()
    assert main(["detect", str(det_dir), str(tmp_path / "three.npz"), "--plot-dir", str(tmp_path / "plots")]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith(f"{tmp_path / 'three.npz'}: 13.8 s, 3 persons, ")
    assert {"person 4", "person 1", "person 9"} <= {line.split(" s  ")[1].split("  ")[0]
                                                    for line in text.splitlines()[1:] if " s  " in line}
    assert (tmp_path / "plots" / "three.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["detect", str(det_dir), str(tmp_path / "three.npz"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in doc["tracks"]] == [4, 1, 9] and doc["pairs"] == []  # a saved detector has no pair model
    assert {tuple(a["persons"]) for a in doc["alerts"]} == {(4,), (1,), (9,)}
    assert doc["tracks"][2]["start"] == pytest.approx((raw.shape[1] // 3 + 1) / 20)


def test_detect_refuses_nan_in_a_seen_body(det_dir, bodies, tmp_path, capsys):
    joints, layout, ids, present = bodies
    motion = Motion.from_bodies(joints, 20.0, layout, person_ids=ids, present=present)
    save_npz(tmp_path / "ok.npz", motion)
    again = load_motion(tmp_path / "ok.npz")
    assert again.person_ids == ids and (again.presence == motion.presence).all()
    bad = joints.astype(np.float32).copy()
    bad[1, 30, 7] = np.nan  # one joint of a seen body; all-NaN frames would be absent instead
    bad[2, :5] = np.nan
    np.savez(tmp_path / "bad.npz", joints=bad, fps=20.0, person_ids=np.array(ids))
    assert main(["detect", str(det_dir), str(tmp_path / "bad.npz")]) == 3
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "bad.npz" in err and "person 1, frame 30: joint 7 is NaN" in err
