"""The README's "Python API" example runs as written, on small generated data and a random
tiny encoder (the numbers mean nothing; the calls and names are what is tested)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    section = README.read_text().split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_top_level_api_names():
    import motionvigil

    assert set(motionvigil.__all__) >= {"load_motion", "load_dataset", "Detector", "StreamingDetector",
                                        "MotionTextBundle", "save_npz"}
    for name in motionvigil.__all__:
        assert getattr(motionvigil, name) is not None


def test_readme_api_example_runs(tmp_path, monkeypatch, capsys):
    from motionvigil import MotionTextBundle, save_npz
    from motionvigil.datasets.folder import export_dataset
    from motionvigil.datasets.synthetic import generate_corpus, generate_sequence
    from motionvigil.io import SMPL22, Motion
    from motionvigil.models import MotionTextModel, preset
    from motionvigil.models.inputs import MotionInputs

    corpus = generate_corpus(3, seed=0, num_sequences=0, classes=("kick", "punch", "walk"))
    export_dataset(corpus, tmp_path / "my_clips")
    torch.manual_seed(0)
    MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64)).save(
        tmp_path / "encoder")
    joints = generate_sequence(np.random.default_rng(1), actions=["walk", "punch"]).joints
    save_npz(tmp_path / "walk_then_punch.npz", Motion(joints=joints, fps=20.0, layout=SMPL22))

    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_example(), "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert out.startswith("smpl22 ") and "frames at 20.0 Hz" in out
    assert isinstance(namespace["detector"].threshold, float) and (tmp_path / "my_detector" / "config.json").is_file()
