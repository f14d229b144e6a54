"""Small output promises of the command line (issue 30): ``detect`` names each file's peak
violence score and where it was, even when nothing alerted; ``detect --json`` on many
files writes (and flushes) one line per file as each finishes; a closed output pipe
ends a command quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from motionvigil.cli import main
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.synthetic import generate_corpus, generate_sequence
from motionvigil.detect import Detector
from motionvigil.io import SMPL22, Motion
from motionvigil.io.arrays import save_npz
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs

CLASSES = ("kick", "punch", "walk")
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def quiet_detector(tmp_path_factory) -> Path:
    """A tiny random detector whose threshold no window reaches, saved to a folder."""
    corpus = generate_corpus(3, seed=0, num_sequences=0, classes=CLASSES)
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))
    det = Detector.build(bundle, LabelledSet.build(corpus.clips, CLASSES))
    det.threshold = 1e6
    folder = tmp_path_factory.mktemp("det") / "never"
    det.save(folder)
    return folder


@pytest.fixture(scope="module")
def motion_files(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("motions")
    out = []
    for i, actions in enumerate((["walk", "punch"], ["walk"], ["kick", "walk"])):
        path = folder / f"seq{i}.npz"
        save_npz(path, Motion(joints=generate_sequence(np.random.default_rng(i), actions=actions).joints,
                              fps=20.0, layout=SMPL22))
        out.append(path)
    return out


def test_detect_prints_peak_even_without_alert(quiet_detector, motion_files, capsys):
    assert main(["detect", str(quiet_detector), str(motion_files[0]), "--json"]) == 0
    timeline = json.loads(capsys.readouterr().out)["timeline"]
    best = max(timeline, key=lambda w: w["violence"])
    assert main(["detect", str(quiet_detector), str(motion_files[0])]) == 0
    out = capsys.readouterr().out
    assert "0 alert(s)" in out
    assert f"peak violence {best['violence']:.4f} at {best['start']:.2f}-{best['end']:.2f} s" in out, out


class _Recorder:
    """A stdout that remembers what had been flushed when (text written, then flush())."""

    def __init__(self):
        self.pending, self.flushed = "", ""

    def write(self, text: str) -> int:
        self.pending += text
        return len(text)

    def flush(self) -> None:
        self.flushed += self.pending
        self.pending = ""

    def lines(self) -> list[str]:
        return self.flushed.splitlines()


def test_detect_json_streams_one_line_per_finished_file(quiet_detector, motion_files, monkeypatch):
    import motionvigil.detect as detect_pkg

    out = _Recorder()
    seen: list[int] = []  # lines already flushed when each file's detection starts
    real = detect_pkg.detect_motion

    def spy(detector, motion, *a, **k):
        seen.append(len(out.lines()))
        return real(detector, motion, *a, **k)

    monkeypatch.setattr(detect_pkg, "detect_motion", spy)
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["detect", str(quiet_detector), *map(str, motion_files), "--json"]) == 0
    assert seen == [0, 1, 2]  # file k's line was out before file k+1 started
    rows = [json.loads(line) for line in out.lines()]
    assert [r["file"] for r in rows] == [str(p) for p in motion_files]


def _run_into_closed_pipe(args: list[str]) -> subprocess.CompletedProcess:
    """Run the CLI with stdout a pipe whose reading end is already closed."""
    read, write = os.pipe()
    os.close(read)
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    try:
        return subprocess.run([sys.executable, "-m", "motionvigil.cli", *args], stdout=write,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=300)
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [["models", "--json"], ["--help"]])
def test_closed_pipe_ends_quietly(args):
    done = _run_into_closed_pipe(args)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.stderr.strip() == ""
    assert done.returncode in (0, 141)  # --help may exit before its text is flushed


def test_closed_pipe_status_is_141():
    assert _run_into_closed_pipe(["models", "--json"]).returncode == 141
