"""The folder dataset format, ``motionvigil data synth`` and ``motionvigil data info``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motionvigil.cli import main
from motionvigil.datasets import load_dataset
from motionvigil.errors import MotionFileError


def test_data_synth_round_trips_through_the_folder_loader(tmp_path, capsys):
    out = tmp_path / "syn"
    assert main(["data", "synth", "-o", str(out), "--clips", "2", "--sequences", "2", "--seed", "3"]) == 0
    assert "synthetic corpus" in capsys.readouterr().out
    doc = json.loads((out / "annotations.json").read_text())
    again = load_dataset("folder", out)
    from motionvigil.datasets.synthetic import generate_corpus

    original = generate_corpus(2, seed=3, num_sequences=2)
    assert len(again) == len(original) == len(doc["clips"])
    assert again.classes == original.classes
    by_id = {c.clip_id: c for c in again}
    for clip in original:
        loaded = by_id[clip.clip_id]
        assert loaded.labels == clip.labels and loaded.split == clip.split and loaded.violent == clip.violent
        assert loaded.segments == clip.segments and loaded.captions == clip.captions
        # re-canonicalised on load: already canonical, so (almost) unchanged
        np.testing.assert_allclose(loaded.joints, clip.joints, atol=1e-4)
    assert set(again.violent_classes) == {"kick", "punch", "hit", "martial art", "evade", "grab person"}


def test_folder_errors_name_the_file(tmp_path):
    with pytest.raises(MotionFileError, match="no annotations.json"):
        load_dataset("folder", tmp_path)
    (tmp_path / "annotations.json").write_text('{"clips": {"a": {"labels": ["x"]}}, "classes": ["x"]}')
    with pytest.raises(MotionFileError, match="a.npz.*no such file"):
        load_dataset("folder", tmp_path)
    skipped = load_dataset("folder", tmp_path, skip_bad=True)
    assert len(skipped) == 0 and len(skipped.bad_files) == 1


def test_data_info_msr_counts(shared_data, capsys):
    assert main(["data", "info", "msr_action3d", "--root", str(shared_data / "msr_action3d"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["clips"], info["classes"], info["violent_classes"], info["subjects"]) == (567, 20, 4, 10)
    assert sum(info["splits"].values()) == 567


def test_data_info_takes_name_colon_root_and_rejects_unknown_names(shared_data, capsys):
    from motionvigil.cli import main as cli

    assert cli(["data", "info", f"msr_action3d:{shared_data / 'msr_action3d'}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clips"] == 567
    assert cli(["data", "info", "no_such_set"]) == 3  # unknown dataset: bad input
    err = capsys.readouterr().err
    assert "unknown dataset 'no_such_set'" in err and "msr_action3d" in err and "Traceback" not in err
