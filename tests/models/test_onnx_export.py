"""``motionvigil export DET --onnx``: ONNX Runtime gives PyTorch's embeddings and scores (< 1e-4)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("onnx", reason="ONNX export needs the onnx package (dev extra)")
ort = pytest.importorskip("onnxruntime", reason="the parity test needs onnxruntime (dev extra)")

from motionvigil.cli import main  # noqa: E402
from motionvigil.datasets.labelled import LabelledSet  # noqa: E402
from motionvigil.datasets.synthetic import generate_corpus  # noqa: E402
from motionvigil.detect import Detector  # noqa: E402
from motionvigil.detect.windows import window_clip  # noqa: E402
from motionvigil.models import MotionTextModel, preset  # noqa: E402
from motionvigil.models.bundle import MotionTextBundle  # noqa: E402
from motionvigil.models.inputs import MotionInputs  # noqa: E402

CLASSES = ("kick", "punch", "walk", "wave", "clap")


def test_export_cli_and_onnxruntime_parity(tmp_path, capsys):
    corpus = generate_corpus(3, seed=0, num_sequences=0, classes=CLASSES)
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))
    det = Detector.build(bundle, LabelledSet.build(corpus.clips, CLASSES))
    det.save(tmp_path / "det")
    assert main(["export", str(tmp_path / "det"), "--onnx", str(tmp_path / "det.onnx")]) == 0
    assert "scores [B, 5]" in capsys.readouterr().out
    session = ort.InferenceSession(str(tmp_path / "det.onnx"), providers=["CPUExecutionProvider"])
    clips = [window_clip(c.joints[:n]) for c, n in zip(corpus.clips[:9], (64, 30, 12, 64, 50, 3, 64, 41, 20))]
    seqs = [bundle.inputs.crop(bundle.inputs.sequence(c), None) for c in clips]
    x, mask = bundle.inputs.collate(seqs)  # a padded batch of different lengths
    mu, scores = session.run(["mu", "scores"], {"motion": x.numpy(), "mask": mask.numpy()})
    want = bundle.embed_clips(clips)
    assert np.abs(mu - want).max() < 1e-4
    assert np.abs(scores - det.scores(want)).max() < 1e-4


def test_export_refuses_non_tmr_detector(tmp_path):
    from motionvigil.models.onnx_export import export_encoder

    vit = MotionTextModel(preset("tiny", "vit")).motion_encoder
    with pytest.raises(ValueError, match="TMR"):
        export_encoder(vit, tmp_path / "x.onnx")
