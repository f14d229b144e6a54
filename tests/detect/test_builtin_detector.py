"""The built-in detector: shipped files match their recorded hashes and the card's
figures match the detection study; an edited or corrupt file is a one-line error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.synthetic import generate_corpus
from motionvigil.detect import Detector
from motionvigil.detect.builtin import ZOO, builtin_models, load_builtin_detector, verify
from motionvigil.errors import MotionFileError
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.checkpoint import sha256_file
from motionvigil.models.inputs import MotionInputs

RESULTS = Path(__file__).resolve().parents[2] / "results" / "detection" / "detection.json"
shipped = pytest.mark.skipif(not (ZOO / "manifest.json").is_file(), reason="no built-in model built (make model)")


@pytest.fixture
def tiny_zoo(tmp_path) -> Path:
    classes = ("kick", "punch", "walk", "stand")
    corpus = generate_corpus(3, seed=0, num_sequences=0, classes=classes)
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))
    det = Detector.build(bundle, LabelledSet.build(corpus.clips, classes))
    det.save(tmp_path / "violence_detector")
    files = {f"violence_detector/{p.name}": sha256_file(p) for p in (tmp_path / "violence_detector").iterdir()}
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 1, "models": {"violence_detector": {
        "files": files}}}))
    return tmp_path


def test_a_verified_zoo_loads(tiny_zoo):
    det = load_builtin_detector(zoo=tiny_zoo)
    assert det.classes == ("kick", "punch", "walk", "stand")


@pytest.mark.parametrize("victim", ["config.json", "weights"])
def test_an_edited_or_corrupt_file_is_a_one_line_error_naming_it(tiny_zoo, victim):
    folder = tiny_zoo / "violence_detector"
    path = folder / "config.json" if victim == "config.json" else next(folder.glob("weights*.safetensors"))
    if victim == "config.json":
        cfg = json.loads(path.read_text())
        cfg["detector"]["threshold"] = 0.0
        path.write_text(json.dumps(cfg))
    else:
        data = bytearray(path.read_bytes())
        data[-1] ^= 0xFF
        path.write_bytes(bytes(data))
    with pytest.raises(MotionFileError, match="SHA-256") as err:
        verify(zoo=tiny_zoo)
    assert path.name in str(err.value) and "\n" not in str(err.value)


def test_missing_manifest_names_make_model(tmp_path):
    with pytest.raises(MotionFileError, match="make model"):
        builtin_models(tmp_path)


@shipped
def test_shipped_files_match_their_recorded_hashes_and_size():
    verify()
    total = sum(p.stat().st_size for p in ZOO.rglob("*") if p.is_file() and ".build" not in p.parts)
    assert total < 10 * 2**20


@shipped
def test_card_figures_are_the_detection_study_figures():
    card = builtin_models()["violence_detector"]
    study = json.loads(RESULTS.read_text())
    for name, row in card["figures"]["protocols"].items():
        for key, value in row.items():
            if name == "calm_sources":
                assert all(study["protocols"][name]["sources"][key][k] == v for k, v in value.items())
            else:
                assert study["protocols"][name][key] == value, (name, key)
    det = load_builtin_detector()
    assert det.head.kind == "model" and np.isclose(det.threshold, card["threshold"])


def test_head_defaults_are_the_detection_studys_validation_choice():
    from collections import Counter

    from motionvigil.detect.head_fit import DEFAULT_AUGMENT, DEFAULT_HEAD_C
    from motionvigil.detect.windows import DEFAULT_WINDOW

    study = json.loads(RESULTS.read_text())
    head = study["protocols"]["kinematic_head"]["protocols"]["in_domain"]
    chosen = [s["chosen"] for s in head["selection_per_seed"]]
    assert Counter(c["window"] for c in chosen).most_common(1)[0][0] == DEFAULT_WINDOW
    assert Counter(c["c"] for c in chosen).most_common(1)[0][0] == DEFAULT_HEAD_C
    assert Counter(c["augment"] for c in chosen).most_common(1)[0][0] == DEFAULT_AUGMENT


def test_docs_detection_tables_match_the_results_json():
    from motionvigil.report.blocks import main as render

    root = RESULTS.parents[2]
    docs = [str(root / "docs" / "detection.md"), str(root / "README.md")]
    assert render([*docs, "--root", str(root), "--check"]) == 0


@shipped
def test_model_card_is_rendered_from_the_manifest():
    from motionvigil.detect.builtin import read_manifest
    from motionvigil.report.model_card import render_card

    card = (RESULTS.parents[2] / "docs" / "model_card.md").read_text()
    assert card == render_card(read_manifest())
    assert "non-commercial research use only" in card and "CC BY-NC 4.0" in card and "## Misuse" in card


@shipped
@pytest.mark.slow
def test_builtin_model_matches_the_study_on_in_domain_test_clips(shared_data):
    """The shipped model scores the study's in_domain test clips (mocap_violence and
    UTD-MHAD test splits) as the study's in_domain detector does: its clip AUROC lies
    inside the study's 95% CI."""
    from motionvigil.datasets.registry import load_dataset
    from motionvigil.detect.head_fit import clip_windows
    from motionvigil.metrics.detection import auroc

    det = load_builtin_detector()
    test = [c for name in ("mocap_violence", "utd_mhad")
            for c in load_dataset(name, shared_data if name == "mocap_violence" else shared_data / name,
                                  skip_bad=True).clips if c.split == "test" and len(c.labels) == 1]
    scores = [det.head.score_windows(clip_windows(c.joints, det.window, det.stride)).max() for c in test]
    value = auroc(np.array(scores), np.array([c.violent for c in test]))
    lo, hi = json.loads(RESULTS.read_text())["protocols"]["in_domain"]["auroc_ci"]
    assert lo <= value <= hi, (value, lo, hi)
