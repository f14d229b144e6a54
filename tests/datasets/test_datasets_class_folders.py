"""Class folders (one subfolder per class, files in any format) as a dataset and on the
command line: ``--support mydata/`` / ``--data mydata/`` with no Python written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from motionvigil.cli import main
from motionvigil.datasets import load_dataset
from motionvigil.datasets.select import load_specs, parse_data_spec
from motionvigil.datasets.synthetic import generate_corpus
from motionvigil.datasets.synthetic.sensors import as_kinect_sdk
from motionvigil.detect import Detector
from motionvigil.errors import MotionFileError
from motionvigil.io import SMPL22, Motion, load_motion
from motionvigil.io.arrays import save_npz
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bvh"
CMU_UNIT = 0.0254 / 0.45  # metres per ASF length unit with ":units length 0.45"

# CMU-named bones: (name, parent, direction, length in metres); the right side mirrors X.
_LEFT_BONES = [
    ("lhipjoint", "root", (1, -1, 0), 0.10), ("lfemur", "lhipjoint", (0, -1, 0), 0.40),
    ("ltibia", "lfemur", (0, -1, 0), 0.42), ("lfoot", "ltibia", (0, -0.3, 1), 0.12),
    ("ltoes", "lfoot", (0, 0, 1), 0.05),
    ("lclavicle", "thorax", (1, 0.2, 0), 0.15), ("lhumerus", "lclavicle", (1, 0, 0), 0.28),
    ("lradius", "lhumerus", (1, 0, 0), 0.25), ("lwrist", "lradius", (1, 0, 0), 0.05),
    ("lhand", "lwrist", (1, 0, 0), 0.05), ("lfingers", "lhand", (1, 0, 0), 0.03),
    ("lthumb", "lwrist", (1, 0, 1), 0.03),
]  # fmt: skip
_TRUNK = [("lowerback", "root", (0, 1, 0), 0.10), ("upperback", "lowerback", (0, 1, 0), 0.12),
          ("thorax", "upperback", (0, 1, 0), 0.12), ("lowerneck", "thorax", (0, 1, 0), 0.10),
          ("upperneck", "lowerneck", (0, 1, 0), 0.08), ("head", "upperneck", (0, 1, 0), 0.10)]


def _bones():
    right = [("r" + n[1:], "r" + p[1:] if p.startswith("l") else p, (-d[0], d[1], d[2]), length)
             for n, p, d, length in _LEFT_BONES]
    return _LEFT_BONES + right + _TRUNK


def write_asf_amc(folder: Path, stem: str, frames: int = 40) -> Path:
    """A CMU-named ASF skeleton and an AMC walking forward with swinging legs."""
    lines = [":version 1.10", f":name {stem}", ":units", "  mass 1.0", "  length 0.45", "  angle deg",
             ":root", "  order TX TY TZ RX RY RZ", "  axis XYZ", "  position 0 0 0", "  orientation 0 0 0",
             ":bonedata"]
    for k, (name, _, direction, length) in enumerate(_bones(), start=1):
        d = np.asarray(direction, float)
        d /= np.linalg.norm(d)
        lines += ["  begin", f"    id {k}", f"    name {name}", f"    direction {d[0]:.6f} {d[1]:.6f} {d[2]:.6f}",
                  f"    length {length / CMU_UNIT:.6f}", "    axis 0 0 0 XYZ", "    dof rx ry rz",
                  "    limits (-180.0 180.0)", "           (-180.0 180.0)", "           (-180.0 180.0)", "  end"]
    children: dict[str, list[str]] = {}
    for name, parent, _, _ in _bones():
        children.setdefault(parent, []).append(name)
    lines += [":hierarchy", "  begin", *(f"    {p} {' '.join(c)}" for p, c in children.items()), "  end"]
    (folder / f"{stem}.asf").write_text("\n".join(lines) + "\n")
    out = [":FULLY-SPECIFIED", ":DEGREES"]
    for f in range(frames):
        swing = 25.0 * np.sin(f / 6.0)
        out += [str(f + 1), f"root 0 {0.97 / CMU_UNIT:.4f} {0.02 * f / CMU_UNIT:.4f} 0 0 0"]
        for name, _, _, _ in _bones():
            angle = swing if name == "lfemur" else -swing if name == "rfemur" else 0.0
            out.append(f"{name} {angle:.3f} 0 0")
    path = folder / f"{stem}.amc"
    path.write_text("\n".join(out) + "\n")
    return path


def write_utkinect(path: Path, joints_smpl: np.ndarray) -> None:
    kinect = as_kinect_sdk(joints_smpl)
    rows = [" ".join([str(4 * f + 1)] + [f"{v:.5f}" for v in frame.reshape(-1)]) for f, frame in enumerate(kinect)]
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(2, seed=0, num_sequences=0, classes=("kick", "punch", "walk"))


@pytest.fixture(scope="module")
def mydata(tmp_path_factory, corpus) -> Path:
    """punch: 2 BVH + npz; kick: AMC+ASF + npz; walk: Kinect txt + BVH + npz + a broken BVH."""
    root = tmp_path_factory.mktemp("mydata")
    by_label = {lab: [c for c in corpus.clips if c.labels == (lab,)] for lab in ("kick", "punch", "walk")}
    for label, clips in by_label.items():
        (root / label).mkdir()
        save_npz(root / label / f"{label}_synth.npz", Motion(clips[0].joints, 20.0, SMPL22))
    shutil.copy(FIXTURES / "mixamo.bvh", root / "punch" / "mixamo_take.bvh")
    shutil.copy(FIXTURES / "unreal.bvh", root / "punch" / "unreal_take.bvh")
    write_asf_amc(root / "kick", "cmu_kick")
    shutil.copy(FIXTURES / "rokoko.bvh", root / "walk" / "rokoko_take.bvh")
    write_utkinect(root / "walk" / "joints_s01_e01.txt", by_label["walk"][1].joints)
    (root / "walk" / "broken.bvh").write_text("HIERARCHY\nROOT Hips\n{\n")
    (root / "subjects.csv").write_text("file,subject\npunch/mixamo_take.bvh,alice\nunreal_take.bvh,bob\n")
    return root


def test_class_folders_load_every_format_and_list_bad_files(mydata):
    ds = load_dataset("folder", mydata)
    assert ds.classes == ("kick", "punch", "walk") and set(ds.violent_classes) == {"kick", "punch"}
    ids = {c.clip_id: c for c in ds.clips}
    assert set(ids) == {"kick/cmu_kick", "kick/kick_synth", "punch/mixamo_take", "punch/unreal_take",
                        "punch/punch_synth", "walk/rokoko_take", "walk/joints_s01_e01", "walk/walk_synth"}
    assert ids["punch/mixamo_take"].subject == "alice" and ids["punch/unreal_take"].subject == "bob"
    assert ids["walk/rokoko_take"].subject == "walk/rokoko_take"  # no subjects.csv line: its own subject
    assert ids["kick/cmu_kick"].violent and not ids["walk/rokoko_take"].violent
    assert all(c.joints.shape[1:] == (22, 3) and c.split is None for c in ds.clips)
    assert [Path(f).name for f, _ in ds.bad_files] == ["broken.bvh"]
    with pytest.raises(MotionFileError, match="broken.bvh"):
        load_dataset("folder", mydata, skip_bad=False)


def test_folder_paths_are_data_specs(mydata, monkeypatch):
    assert parse_data_spec(f"{mydata}/") == ("folder", f"{mydata}/")
    assert parse_data_spec("folder:x") == ("folder", "x") and parse_data_spec("synthetic") == ("synthetic", None)
    monkeypatch.chdir(mydata.parent)
    assert parse_data_spec(mydata.name) == ("folder", mydata.name)
    (ds,) = load_specs([f"{mydata}/"])
    assert len(ds) == 8


def test_no_class_folders_is_a_clear_error(tmp_path):
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(MotionFileError, match="no annotations.json.*no class subfolders"):
        load_dataset("folder", tmp_path)


def test_bad_subjects_csv(tmp_path):
    (tmp_path / "walk").mkdir()
    shutil.copy(FIXTURES / "lafan1.bvh", tmp_path / "walk" / "a.bvh")
    (tmp_path / "subjects.csv").write_text("a.bvh\n")
    with pytest.raises(MotionFileError, match="subjects.csv.*line 1"):
        load_dataset("folder", tmp_path)


def test_build_detector_and_detect_from_a_class_folder(mydata, corpus, tmp_path, capsys, caplog):
    torch.manual_seed(0)
    MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64)).save(
        tmp_path / "run" / "best")
    det = tmp_path / "det"
    assert main(["build-detector", str(tmp_path / "run"), "--support", f"{mydata}/", "--shots", "2",
                 "-o", str(det)]) == 0
    capsys.readouterr()
    assert "skipped" in caplog.text and "broken.bvh" in caplog.text  # listed (a warning on stderr), then skipped
    detector = Detector.load(det)
    assert detector.classes == ("kick", "punch", "walk")
    assert [c for c, v in zip(detector.classes, detector.violent) if v] == ["kick", "punch"]
    assert main(["detect", str(det), str(mydata / "punch" / "mixamo_take.bvh"), str(mydata / "kick" / "cmu_kick.amc"),
                 "--json"]) == 0
    docs = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert len(docs) == 2 and all(d["timeline"] for d in docs)
    # --alert picks the alerting classes; --strict stops at the broken file
    assert main(["build-detector", str(tmp_path / "run"), "--support", f"{mydata}/", "--shots", "2",
                 "--alert", "walk", "-o", str(tmp_path / "det2")]) == 0
    detector = Detector.load(tmp_path / "det2")
    assert [c for c, v in zip(detector.classes, detector.violent) if v] == ["walk"]
    capsys.readouterr()
    assert main(["build-detector", str(tmp_path / "run"), "--support", f"{mydata}/", "--strict",
                 "-o", str(tmp_path / "det3")]) == 3
    err = capsys.readouterr().err
    assert "broken.bvh" in err and len(err.strip().splitlines()) == 1


def test_data_info_on_a_class_folder(mydata, capsys):
    assert main(["data", "info", f"{mydata}/", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["clips"] == 8 and info["classes"] == 3 and info["violent_classes"] == 2 and info["subjects"] == 8
    assert info["skipped_files"] == 1


def test_joint_map_json_in_the_folder(tmp_path):
    (tmp_path / "punch").mkdir()
    text = (FIXTURES / "lafan1.bvh").read_text().replace("JOINT LeftUpLeg\n", "JOINT J1\n")
    (tmp_path / "punch" / "odd.bvh").write_text(text)
    with pytest.raises(MotionFileError, match="could not match left_hip"):
        load_dataset("folder", tmp_path, skip_bad=False)
    (tmp_path / "joint_map.json").write_text(json.dumps({"left_hip": "J1"}))
    assert len(load_dataset("folder", tmp_path, skip_bad=False)) == 1
    motion = load_motion(tmp_path / "punch" / "odd.bvh", joint_map=tmp_path / "joint_map.json")
    assert motion.meta["joint_map"] == {"left_hip": "J1"}
