"""``info`` and ``convert`` on multi-person files (SBU Kinect) and UTD-MHAD ``.mat`` files."""

from __future__ import annotations

import json

import numpy as np

from motionvigil.cli import main
from motionvigil.features.humanml3d import FEATURE_DIM
from motionvigil.io import load_motion

SBU = "sbu_kinect/s01s02/03/001/skeleton_pos.txt"  # kicking, 17 frames at 15 fps
UTD = "utd_mhad/skeleton/a13_s1_t1_skeleton.mat"
MSR = "msr_action3d/skeletons/a05_s08_e01_skeleton3D.txt"


def _info(path, capsys) -> dict:
    assert main(["info", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)["files"][0]


def test_info_reports_persons_of_an_sbu_file(data_path, capsys):
    info = _info(data_path(SBU), capsys)
    assert info["persons"] == 2 and info["person_ids"] == [0, 1]
    assert (info["layout"], info["joints"], info["frames"], info["fps"]) == ("kinect_sbu15", 15, 17, 15.0)
    assert "mapping" in info and "mapping_error" not in info


def test_info_of_one_person_files_has_no_persons_keys(data_path, capsys):
    for rel in (MSR, UTD):
        info = _info(data_path(rel), capsys)
        assert "persons" not in info and "person_ids" not in info and "present_frames" not in info
    assert info["layout"] == "kinect_utd" and info["frames"] == 80 and info["fps"] == 30.0


def test_convert_multi_person_keeps_the_persons_axis(data_path, tmp_path, capsys):
    out = tmp_path / "pair.npz"
    assert main(["convert", str(data_path(SBU)), "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["persons"] == 2 and summary["features"] is None and summary["frames"] == 22
    with np.load(out, allow_pickle=False) as z:
        assert z["joints"].shape == (2, 22, 22, 3) and z["person_ids"].tolist() == [0, 1]
        assert "features" not in z.files
    back = load_motion(out)
    assert back.num_persons == 2 and back.person_ids == (0, 1) and back.layout.name == "smpl22"
    # shared frame: the two bodies stand apart as recorded, not both at the origin
    gap = np.linalg.norm(back.joints[0, 0, 0] - back.joints[1, 0, 0])
    assert 0.5 < gap < 2.5


def test_convert_one_person_of_a_pair_gives_features(data_path, tmp_path, capsys):
    out = tmp_path / "p1.npz"
    assert main(["convert", str(data_path(SBU)), "-o", str(out), "--person", "1"]) == 0
    with np.load(out, allow_pickle=False) as z:
        assert z["joints"].shape == (22, 22, 3) and z["features"].shape == (21, FEATURE_DIM)
        assert z["person_ids"].tolist() == [1]
    capsys.readouterr()
    assert main(["convert", str(data_path(SBU)), "-o", str(tmp_path / "x.npz"), "--person", "5"]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no person with id 5" in err and "[0, 1]" in err
    assert not (tmp_path / "x.npz").exists()


def test_convert_utd_mhad_and_single_person_unchanged(data_path, tmp_path):
    out = tmp_path / "utd.npz"
    assert main(["convert", str(data_path(UTD)), "-o", str(out)]) == 0
    with np.load(out, allow_pickle=False) as z:
        assert set(z.files) == {"joints", "features", "fps", "source"}  # exactly as before persons
        assert z["joints"].shape == (53, 22, 3) and z["features"].shape == (52, FEATURE_DIM)


def test_feature_conversion_refuses_a_pair_in_one_line(data_path):
    from motionvigil.errors import MotionFileError
    from motionvigil.features.convert import convert_motion

    try:
        convert_motion(load_motion(data_path(SBU)))
    except MotionFileError as exc:
        assert "holds 2 persons" in str(exc) and "--person ID" in str(exc) and "\n" not in str(exc)
    else:
        raise AssertionError("a two-person motion was converted to one body's features")
