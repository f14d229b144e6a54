"""``motionvigil convert`` on every real format, and its behaviour on bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from motionvigil.cli import main
from motionvigil.features.humanml3d import FEATURE_DIM

REAL_INPUTS = [
    "bandai2/data/dataset-2_run_active_001.bvh",
    "hdm05/test/6/HDM_mm_kickLFront1Reps_019_120.amc",
    "msr_action3d/skeletons/a05_s08_e01_skeleton3D.txt",
    "utkinect/joints/joints_s02_e01.txt",
    "humanml3d/new_joints/012314.npy",
]


@pytest.mark.parametrize("rel", REAL_INPUTS)
def test_convert_real_file(rel, data_path, tmp_path, capsys):
    src = data_path(rel)
    out = tmp_path / "clip.npz"
    assert main(["convert", str(src), "-o", str(out)]) == 0
    with np.load(out, allow_pickle=False) as z:
        joints, feats = z["joints"], z["features"]
        assert joints.dtype == feats.dtype == np.float32
        assert joints.ndim == 3 and joints.shape[1:] == (22, 3)
        assert feats.shape == (len(joints) - 1, FEATURE_DIM)
        assert float(z["fps"]) == 20.0
        assert str(z["source"]) == str(src)
        assert np.isfinite(feats).all()
    assert "20 Hz" in capsys.readouterr().out


@pytest.mark.slow
def test_bad_input_leaves_no_output_and_one_line_error(tmp_path):
    bad = tmp_path / "broken.bvh"
    bad.write_text("HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 6 Xposition")
    out = tmp_path / "out.npz"
    proc = subprocess.run(
        [sys.executable, "-m", "motionvigil.cli", "convert", str(bad), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 3  # a bad input file
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]  # no temp file left behind either
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and "broken.bvh" in err and "Traceback" not in err


def test_unknown_format_and_missing_file(tmp_path, capsys):
    odd = tmp_path / "motion.xyz"
    odd.write_text("1 2 3")
    assert main(["convert", str(odd), "-o", str(tmp_path / "o.npz")]) == 3
    assert "unknown motion format" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "nope.bvh"), "-o", str(tmp_path / "o.npz")]) == 3
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "o.npz").exists()
