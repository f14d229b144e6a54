"""Pre-training: determinism, resume, checkpoints, and that learning happens."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from motionvigil.datasets.clip import Clip
from motionvigil.errors import MotionFileError
from motionvigil.models import preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.checkpoint import CONFIG, read_config, weights_path
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.pretrain import PretrainRun, TrainSettings
from motionvigil.datasets.captions import clip_captions, readable_label
from motionvigil.training.runtime import Runtime

from toy_motion import ACTIONS, toy_clip


@pytest.fixture(scope="module")
def clips():
    rng = np.random.default_rng(0)
    return [toy_clip(i, rng) for i in range(30)]


@pytest.fixture(scope="module")
def text_cache(tmp_path_factory):
    return TextEmbeddingCache(tmp_path_factory.mktemp("text"))


def run(out, clips, text_cache, epochs, encoder="tmr", seed=0, resume=True):
    settings = TrainSettings(epochs=epochs, batch_size=8, lr=3e-4, seed=seed, progress=False)
    return PretrainRun(out, preset("tiny", encoder), settings, Runtime(torch.device("cpu")), text_cache).fit(
        clips[:24], clips[24:], resume=resume
    )


def weights(bundle: MotionTextBundle) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in bundle.model.parameters()])


def test_same_seed_same_weights_and_resume_matches(tmp_path, clips, text_cache):
    straight = run(tmp_path / "a", clips, text_cache, epochs=4)
    again = run(tmp_path / "b", clips, text_cache, epochs=4)
    assert torch.equal(weights(straight), weights(again))
    # stop after 2 epochs, then resume to 4: same best model and same last weights
    run(tmp_path / "c", clips, text_cache, epochs=2)
    resumed = run(tmp_path / "c", clips, text_cache, epochs=4)
    assert torch.equal(weights(resumed), weights(straight))
    last_a = MotionTextBundle.load(tmp_path / "a" / "last")
    last_c = MotionTextBundle.load(tmp_path / "c" / "last")
    assert torch.equal(weights(last_a), weights(last_c))
    log = [json.loads(line) for line in (tmp_path / "c" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2, 3, 4]


def test_training_aligns_text_and_motion(tmp_path, clips, text_cache):
    bundle = run(tmp_path / "fit", clips, text_cache, epochs=25)
    motion = bundle.embed_clips(clips)
    text = bundle.embed_texts(ACTIONS, text_cache)
    motion /= np.linalg.norm(motion, axis=1, keepdims=True)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    predicted = (motion @ text.T).argmax(1)
    truth = np.arange(len(clips)) % len(ACTIONS)
    assert (predicted == truth).mean() > 0.6  # chance is 1/3


def test_vit_variant_trains_and_reloads(tmp_path, clips, text_cache):
    bundle = run(tmp_path / "vit", clips, text_cache, epochs=2, encoder="vit")
    again = MotionTextBundle.load(tmp_path / "vit" / "best")
    np.testing.assert_allclose(bundle.embed_clips(clips[:4]), again.embed_clips(clips[:4]), atol=1e-6)


def test_corrupt_or_mismatched_checkpoint_is_refused(tmp_path, clips, text_cache):
    run(tmp_path / "r", clips, text_cache, epochs=1)
    best = tmp_path / "r" / "best"
    weights = weights_path(best, read_config(best))
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(MotionFileError, match="SHA-256"):
        MotionTextBundle.load(best)
    last = tmp_path / "r" / "last"
    config = json.loads((last / CONFIG).read_text())
    config["model"]["transformer"]["num_layers"] = 3
    (last / CONFIG).write_text(json.dumps(config))
    with pytest.raises(MotionFileError, match="does not match the architecture"):
        MotionTextBundle.load(last)
    (last / CONFIG).write_text("{not json")
    with pytest.raises(MotionFileError, match="corrupt"):
        MotionTextBundle.load(last)


def test_resume_refuses_a_different_model(tmp_path, clips, text_cache):
    run(tmp_path / "m", clips, text_cache, epochs=1)
    settings = TrainSettings(epochs=2, batch_size=8, progress=False)
    other = PretrainRun(tmp_path / "m", preset("paper"), settings, Runtime(torch.device("cpu")), text_cache)
    with pytest.raises(MotionFileError, match="different model configuration"):
        other.fit(clips[:24], clips[24:])


def test_label_captions():
    assert readable_label("kickLFront1Reps") == "kick left front"
    assert readable_label("side boxing") == "side boxing"
    clip = Clip("x", np.zeros((3, 22, 3), np.float32), ("forward kick",), True, "msr")
    assert clip_captions(clip) == ("a person forward kick",)


def test_checkpoint_survives_a_kill_between_weights_and_config(tmp_path):
    """A crash after the new weights are written but before config.json is replaced
    leaves the previous checkpoint loadable (content-named weights files)."""
    from motionvigil.models.checkpoint import load_checkpoint, save_checkpoint

    save_checkpoint(tmp_path, {"w": torch.zeros(3)}, {"step": 1})
    old_config = (tmp_path / CONFIG).read_text()
    save_checkpoint(tmp_path, {"w": torch.ones(3)}, {"step": 2})
    # simulate the kill: the new weights exist, but config.json is still the old one,
    # and the old weights file was not yet removed (restore it from the first save)
    save_checkpoint(tmp_path / "again", {"w": torch.zeros(3)}, {"step": 1})
    old_weights = weights_path(tmp_path / "again", read_config(tmp_path / "again"))
    (tmp_path / old_weights.name).write_bytes(old_weights.read_bytes())
    (tmp_path / CONFIG).write_text(old_config)
    tensors, config = load_checkpoint(tmp_path)
    assert config["step"] == 1 and torch.equal(tensors["w"], torch.zeros(3))
    assert len(list(tmp_path.glob("weights-*.safetensors"))) == 2
    save_checkpoint(tmp_path, {"w": torch.ones(3)}, {"step": 3})  # the next save cleans up
    assert len(list(tmp_path.glob("weights-*.safetensors"))) == 1
