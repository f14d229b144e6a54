"""KineMIC synthesis: diffusion algebra, denoiser masking, guidance, LoRA, mining,
window extraction, generation to a folder dataset, quality and kinematic metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from motionvigil.cli import main
from motionvigil.datasets.clip import Clip
from motionvigil.datasets.folder import load_folder
from motionvigil.errors import MotionFileError
from motionvigil.features.normalize import Normalizer
from motionvigil.kinemic.denoiser import DenoiserConfig, MotionDenoiser, denoiser_preset
from motionvigil.kinemic.diffusion import guided_x0, masked_mse, sample
from motionvigil.kinemic.finetune import class_prototypes, contrastive_term, finetune
from motionvigil.kinemic.generate import generate_clips, write_generated
from motionvigil.kinemic.lora import LoRALinear, add_lora, lora_state
from motionvigil.kinemic.mining import best_window, mine_sources, rank_captions, window_starts
from motionvigil.kinemic.model import SynthesisModel
from motionvigil.kinemic.quality import (
    bone_length_variation,
    diversity,
    fid,
    foot_skating,
    joint_speeds,
    kinematics,
    multimodality,
)
from motionvigil.kinemic.schedule import NoiseSchedule, cosine_betas

TINY = DenoiserConfig(preset="test", width=32, layers=2, heads=4, ff=64, dropout=0.0, diffusion_steps=50,
                      sampling_steps=5, max_frames=24)


# --------------------------------------------------------------------------- schedule


def test_cosine_schedule_is_a_valid_decreasing_schedule():
    betas = cosine_betas(1000)
    assert betas.shape == (1000,)
    assert (betas > 0).all() and (betas <= 0.999).all()
    abar = NoiseSchedule(1000).alpha_bar
    assert (abar[1:] < abar[:-1]).all()
    assert abar[0] > 0.999 and abar[-1] < 1e-4
    # the cosine schedule at the half-way point: cos^2((0.5 + s)/(1 + s) * pi/2) normalised by abar(0)
    s = 0.008
    expect = np.cos((0.5 + s) / (1 + s) * np.pi / 2) ** 2 / np.cos(s / (1 + s) * np.pi / 2) ** 2
    assert float(abar[499]) == pytest.approx(expect, rel=1e-3)
    with pytest.raises(ValueError):
        cosine_betas(0)


def test_q_sample_and_noise_recovery_algebra():
    sched = NoiseSchedule(100)
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(4, 7, 5, generator=g), torch.randn(4, 7, 5, generator=g)
    t = torch.tensor([0, 10, 50, 99])
    x_t = sched.q_sample(x0, t, eps)
    a = sched.alpha_bar[t].float().view(-1, 1, 1)
    torch.testing.assert_close(x_t, a.sqrt() * x0 + (1 - a).sqrt() * eps)
    torch.testing.assert_close(sched.eps_from_x0(x_t, t, x0), eps, atol=1e-4, rtol=1e-4)
    # marginal variance of x_t for unit-variance x0 and eps stays 1
    big = sched.q_sample(torch.randn(20000, generator=g), torch.full((20000,), 60), torch.randn(20000, generator=g))
    assert float(big.var()) == pytest.approx(1.0, abs=0.05)


def test_deterministic_ddim_step_with_the_true_x0_lands_on_q_sample():
    sched = NoiseSchedule(100)
    g = torch.Generator().manual_seed(1)
    x0, eps = torch.randn(3, 6, 4, generator=g), torch.randn(3, 6, 4, generator=g)
    x_t = sched.q_sample(x0, torch.full((3,), 80), eps)
    x_prev = sched.ddim_step(x_t, 80, 40, x0, eta=0.0)
    torch.testing.assert_close(x_prev, sched.q_sample(x0, torch.full((3,), 40), eps), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(sched.ddim_step(x_t, 80, -1, x0), x0)
    steps = sched.timesteps(10)
    assert steps[0] == 99 and steps[-1] == 0 and steps == sorted(steps, reverse=True) and len(steps) == 10


# --------------------------------------------------------------------------- denoiser and guidance


def test_denoiser_ignores_padding_and_zeroes_padded_outputs():
    torch.manual_seed(0)
    den = MotionDenoiser(TINY).eval()
    x = torch.randn(2, 10, 263)
    valid = torch.ones(2, 10, dtype=torch.bool)
    valid[1, 6:] = False
    t, text = torch.tensor([3, 7]), torch.randn(2, 384)
    out = den(x, t, text, valid)
    assert out.shape == (2, 10, 263)
    assert torch.all(out[1, 6:] == 0) and out[1, :6].abs().sum() > 0
    x2 = x.clone()
    x2[1, 6:] = 100.0  # garbage in the padding
    torch.testing.assert_close(den(x2, t, text, valid)[1], out[1])
    longer = torch.cat([x, torch.randn(2, 5, 263)], dim=1)  # more padding appended
    valid_longer = torch.cat([valid, torch.zeros(2, 5, dtype=torch.bool)], dim=1)
    torch.testing.assert_close(den(longer, t, text, valid_longer)[1, :6], out[1, :6], atol=1e-5, rtol=1e-5)


def test_dropped_condition_is_the_null_condition():
    torch.manual_seed(0)
    den = MotionDenoiser(TINY).eval()
    x, valid, t = torch.randn(2, 8, 263), torch.ones(2, 8, dtype=torch.bool), torch.tensor([5, 5])
    text = torch.randn(2, 384)
    dropped = den(x, t, text, valid, torch.tensor([True, False]))
    torch.testing.assert_close(dropped[0], den(x, t, torch.zeros_like(text), valid)[0])
    torch.testing.assert_close(dropped[1], den(x, t, text, valid)[1])
    assert not torch.allclose(dropped[0], dropped[1])


def test_classifier_free_guidance_combination():
    cond_value, uncond_value = 3.0, 1.0

    def fake(x_t, t, text, valid, drop):  # condition -> 3, null -> 1
        return torch.where(drop[:, None, None], torch.full_like(x_t, uncond_value), torch.full_like(x_t, cond_value))

    x, valid = torch.zeros(2, 4, 5), torch.ones(2, 4, dtype=torch.bool)
    t, text = torch.tensor([1, 1]), torch.zeros(2, 384)
    for s, expect in ((0.0, 1.0), (1.0, 3.0), (2.5, 1.0 + 2.5 * 2.0)):
        assert torch.allclose(guided_x0(fake, x, t, text, valid, s), torch.full_like(x, expect))


def test_masked_mse_counts_valid_frames_only():
    pred, target = torch.zeros(1, 4, 2), torch.zeros(1, 4, 2)
    target[0, :2] = 1.0
    target[0, 2:] = 50.0
    valid = torch.tensor([[True, True, False, False]])
    assert float(masked_mse(pred, target, valid)) == pytest.approx(1.0)


def test_sampler_output_is_finite_and_zero_on_padding():
    torch.manual_seed(0)
    den, sched = MotionDenoiser(TINY).eval(), NoiseSchedule(TINY.diffusion_steps)
    valid = torch.tensor([[True] * 6 + [False] * 2, [True] * 8])
    x = sample(den, sched, torch.randn(2, 384), valid, 263, 4, 2.0, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(x).all() and torch.all(x[0, 6:] == 0)


def test_presets_match_mdm_sizes():
    paper = denoiser_preset("paper")
    assert (paper.layers, paper.width, paper.heads, paper.diffusion_steps) == (8, 512, 4, 1000)
    with pytest.raises(ValueError):
        denoiser_preset("huge")


# --------------------------------------------------------------------------- LoRA


def test_lora_starts_as_identity_and_only_adapters_train():
    torch.manual_seed(0)
    base = nn.Linear(6, 5)
    ref = base.weight.detach().clone()
    layer = LoRALinear(base, rank=2, alpha=4.0)
    x = torch.randn(3, 6)
    torch.testing.assert_close(layer(x), base(x))
    opt = torch.optim.SGD([p for p in layer.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        layer(x).pow(2).sum().backward()
        opt.step()
    assert torch.equal(base.weight, ref)  # frozen
    assert layer.lora_b.abs().sum() > 0
    torch.testing.assert_close(layer(x), x @ layer.merged_weight().T + base.bias)


def test_add_lora_wraps_targets_and_freezes_everything_else():
    torch.manual_seed(0)
    den = MotionDenoiser(TINY).eval()
    x, valid, t, text = torch.randn(1, 5, 263), torch.ones(1, 5, dtype=torch.bool), torch.tensor([2]), torch.randn(1, 384)
    before = den(x, t, text, valid)
    wrapped = add_lora(den, ("q", "v"), rank=2)
    assert len(wrapped) == 2 * TINY.layers
    torch.testing.assert_close(den(x, t, text, valid), before)
    trainable = {n for n, p in den.named_parameters() if p.requires_grad}
    assert trainable and all(n.endswith(("lora_a", "lora_b")) for n in trainable)
    assert set(lora_state(den)) == trainable
    with pytest.raises(ValueError):
        add_lora(nn.Sequential(nn.ReLU()), ("q",))


# --------------------------------------------------------------------------- fine-tuning


def _model(seed: int = 0) -> SynthesisModel:
    torch.manual_seed(seed)
    return SynthesisModel(TINY, Normalizer(np.zeros(263), np.ones(263)))


def test_finetune_trains_only_adapters_and_action_offsets_and_round_trips(tmp_path):
    model = _model()
    base = {k: v.clone() for k, v in model.denoiser.state_dict().items()}
    rng = np.random.default_rng(0)
    feats = [rng.normal(size=(n, 263)).astype(np.float32) for n in (12, 20, 9)]
    desc = rng.normal(size=(2, 384)).astype(np.float32)
    from motionvigil.kinemic.finetune import FinetuneSettings

    finetune(model, ["kick", "walk"], desc, feats, [0, 1, 0], feats[:1], [1], None,
             FinetuneSettings(steps=3, batch_size=2, rank=2, lr=1e-2, w_mined=0.5, log_every=1))
    for record in model.info["finetune_log"]:  # the weighted sum of the logged terms
        assert record["loss"] == pytest.approx(record["x0_target"] + 0.5 * record["x0_mined"], rel=1e-5)
    after = model.denoiser.state_dict()
    for k, v in base.items():  # base weights now live under ...base.weight for wrapped layers
        key = k if k in after else k.replace(".weight", ".base.weight").replace(".bias", ".base.bias")
        assert torch.equal(after[key], v), k
    assert any(v.abs().sum() > 0 for k, v in after.items() if k.endswith("lora_b"))
    assert model.actions.offset.abs().sum() > 0
    model.save(tmp_path / "gen")
    loaded = SynthesisModel.load(tmp_path / "gen")
    assert loaded.actions.classes == ("kick", "walk") and loaded.lora == model.lora
    x, valid, t = torch.randn(1, 6, 263), torch.ones(1, 6, dtype=torch.bool), torch.tensor([4])
    cond = model.actions(torch.tensor([1]))
    torch.testing.assert_close(loaded.denoiser(x, t, loaded.actions(torch.tensor([1])), valid),
                               model.denoiser(x, t, cond, valid))


def test_contrastive_term_prefers_the_right_prototype():
    protos = torch.eye(3, 4)
    z = torch.tensor([[5.0, 0.1, 0, 0], [0.1, 5.0, 0, 0]])
    right = contrastive_term(z, torch.tensor([0, 1]), protos, 0.1)
    wrong = contrastive_term(z, torch.tensor([1, 0]), protos, 0.1)
    assert float(right) < 0.01 < 5.0 < float(wrong)
    p = class_prototypes(np.array([[2.0, 0], [0, 3.0], [0, 1.0]]), [0, 1, 1], 3)
    np.testing.assert_allclose(p, [[1, 0], [0, 1], [0, 0]])


def test_loading_a_foreign_checkpoint_names_the_file(tmp_path):
    from motionvigil.models.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "other", {"x": torch.zeros(1)}, {"kind": "something else"})
    with pytest.raises(MotionFileError, match="config.json"):
        SynthesisModel.load(tmp_path / "other")
    with pytest.raises(MotionFileError, match="missing"):
        SynthesisModel.load(tmp_path / "missing")


# --------------------------------------------------------------------------- mining


def test_rank_captions_on_hand_made_embeddings():
    classes = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    captions = np.array([[0.9, 0.1, 0], [0, 0, 1.0], [0.2, 0.8, 0.1], [0.7, 0, 0.7], [-1.0, 0, 0]])
    order, sims = rank_captions(classes, captions, 3)
    assert order.tolist() == [[0, 3, 2], [2, 0, 1]]
    assert np.all(np.diff(sims, axis=1) <= 0)
    assert rank_captions(classes, captions, 99)[0].shape == (2, 5)


def test_mine_sources_with_the_real_sentence_model(tmp_path):
    from motionvigil.models.text import TextEmbeddingCache
    from motionvigil.kinemic.text import class_description, sentence_fn

    try:
        sentences = sentence_fn(TextEmbeddingCache(tmp_path / "text"))
        classes = sentences([class_description("kick"), class_description("wave")])
    except RuntimeError as exc:  # pragma: no cover - the packaged model is a dependency
        pytest.skip(str(exc))
    joints = np.zeros((5, 22, 3), np.float32)
    mk = lambda i, caps: Clip(f"c{i}", joints, (), False, "t", captions=caps)  # noqa: E731
    sources = [mk(0, ("a person walks forward",)), mk(1, ("someone kicks with the right leg",)),
               mk(2, ("a person waves the right hand",)), mk(3, ("a person does a front kick",)),
               mk(4, ("a person sits down",))]
    mined = mine_sources(classes, sources, sentences, k=2)
    assert {i for i, _, _ in mined[0]} == {1, 3}
    assert mined[1][0][0] == 2


def test_window_extraction_finds_the_matching_window():
    assert window_starts(10, 4, 3) == [0, 3, 6]
    assert window_starts(10, 4, 4) == [0, 4, 6]
    assert window_starts(3, 8, 2) == [0]
    feats = np.zeros((40, 263), np.float32)
    feats[22:30, 0] = 1.0  # the "action" happens in frames 22..29

    def embed(windows):  # hand-made motion embedding: mean of two feature channels, plus a bias
        return np.stack([[w[:, 0].mean(), 0.2] for w in windows])

    w = best_window(np.array([1.0, 0.2]), feats, 8, embed, stride=2, source=7)
    assert (w.source, w.start, w.length) == (7, 22, 8)
    assert w.score == pytest.approx(1.0)


# --------------------------------------------------------------------------- generation


def test_generate_writes_a_loadable_folder_dataset(tmp_path):
    model = _model()
    model.set_actions(["kick", "walk"], np.random.default_rng(0).normal(size=(2, 384)))
    clips = generate_clips(model, ["kick", "walk"], 2, {"kick": [10, 14], "walk": [12]}, seed=0)
    assert [c.labels for c in clips] == [("kick",), ("kick",), ("walk",), ("walk",)]
    assert all(c.joints.shape[1:] == (22, 3) and np.isfinite(c.joints).all() for c in clips)
    write_generated(clips, ["kick", "walk"], tmp_path / "gen")
    loaded = load_folder(tmp_path / "gen")
    assert sorted(c.labels[0] for c in loaded.clips) == ["kick", "kick", "walk", "walk"]
    assert loaded.classes == ("kick", "walk") and loaded.violent_classes == ("kick",)
    again = generate_clips(model, ["kick", "walk"], 2, {"kick": [10, 14], "walk": [12]}, seed=0)
    np.testing.assert_array_equal(again[3].joints, clips[3].joints)  # seeded


def test_cli_generate_from_a_saved_generator(tmp_path, capsys):
    model = _model()
    model.set_actions(["punch", "wave"], np.random.default_rng(1).normal(size=(2, 384)))
    model.save(tmp_path / "gen_model")
    assert main(["kinemic-generate", str(tmp_path / "gen_model"), "-o", str(tmp_path / "out"), "--per-class", "3",
                 "--frames", "12", "--class", "punch"]) == 0
    doc = json.loads((tmp_path / "out" / "annotations.json").read_text())
    assert len(doc["clips"]) == 3 and doc["classes"] == ["punch"]
    assert len(load_folder(tmp_path / "out").clips) == 3
    assert main(["kinemic-preview", str(tmp_path / "out"), "-o", str(tmp_path / "p.html"), "--per-class", "1"]) == 0
    page = (tmp_path / "p.html").read_text()
    assert page.count("data:image/gif;base64,") == 1 and "punch" in page
    assert main(["kinemic-generate", str(tmp_path / "nothing"), "-o", str(tmp_path / "o2")]) == 4  # not a model
    assert "nothing" in capsys.readouterr().err


def test_former_synth_command_names_still_work(tmp_path, capsys):
    """``synth-*`` are deprecated names of ``kinemic-*``: same options and behaviour, a note
    on stderr, and left out of ``--help``."""
    model = _model()
    model.set_actions(["punch", "wave"], np.random.default_rng(1).normal(size=(2, 384)))
    model.save(tmp_path / "gen_model")
    for name, out in (("kinemic-generate", "new"), ("synth-generate", "old")):
        assert main([name, str(tmp_path / "gen_model"), "-o", str(tmp_path / out), "--per-class", "2",
                     "--frames", "12", "--class", "wave"]) == 0
    for name in ("new", "old"):
        (tmp_path / name / "annotations.json").write_text(
            (tmp_path / name / "annotations.json").read_text().replace(str(tmp_path / "gen_model"), "M"))
    assert (tmp_path / "new" / "annotations.json").read_text() == (tmp_path / "old" / "annotations.json").read_text()
    assert "synth-generate: deprecated name, use kinemic-generate" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    assert "kinemic-generate" in listing and "synth-" not in listing


def test_train_prior_on_a_small_captioned_corpus(tmp_path):
    from motionvigil.datasets.synthetic.corpus import generate_corpus
    from motionvigil.kinemic.prior import PriorSettings, train_prior

    corpus = generate_corpus(2, seed=0, num_sequences=0, classes=("kick", "walk"))
    rng = np.random.default_rng(0)
    table = {}

    def sentences(caps):  # a stand-in sentence model: a fixed random vector per caption
        return np.stack([table.setdefault(c, rng.normal(size=384)) for c in caps]).astype(np.float32)

    model = train_prior(corpus.clips, TINY, sentences, tmp_path / "prior", PriorSettings(steps=4, batch_size=3,
                                                                                         log_every=2))
    assert np.isfinite(model.info["final_loss"])
    loaded = SynthesisModel.load(tmp_path / "prior")
    assert loaded.actions is None and loaded.lora is None and loaded.cfg == TINY
    np.testing.assert_array_equal(loaded.normalizer.mean, model.normalizer.mean)
    logged = (tmp_path / "prior" / "log.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in logged] == [2, 4]


# --------------------------------------------------------------------------- quality


def _standing(frames: int) -> np.ndarray:
    """A rigid T-pose-ish skeleton (feet on the floor) repeated over frames."""
    from motionvigil.io.layouts import SMPL22_PARENTS

    rng = np.random.default_rng(3)
    offsets = rng.normal(scale=0.1, size=(22, 3))
    offsets[:, 1] = -np.abs(offsets[:, 1])  # children below parents: feet lowest
    pose = np.zeros((22, 3))
    for j, p in enumerate(SMPL22_PARENTS):
        if p >= 0:
            pose[j] = pose[p] + offsets[j]
    pose[:, 1] -= pose[:, 1].min()
    return np.repeat(pose[None], frames, axis=0)


def test_kinematic_metrics_on_hand_made_motions():
    still = _standing(20)
    assert bone_length_variation(still) == pytest.approx(0.0, abs=1e-12)
    assert foot_skating(still) == pytest.approx(0.0, abs=1e-12)
    sliding = still + np.arange(20)[:, None, None] * np.array([0.05, 0.0, 0.0])  # 0.05 m/frame = 1 m/s
    assert foot_skating(sliding) == pytest.approx(1.0)
    assert bone_length_variation(sliding) == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(joint_speeds(sliding), 1.0)
    swing = still.copy()
    swing[:, 8, 1] += 0.3  # the right ankle lifted off the floor ...
    swing[:, 8, 0] += np.arange(20) * 0.1  # ... and swinging at 2 m/s: not skating
    assert foot_skating(swing) == pytest.approx(0.0, abs=1e-12)
    stretched = still.copy()
    stretched[10:, 21] += np.array([0.0, -0.5, 0.0])  # the right forearm grows half-way through
    assert bone_length_variation(stretched) > 0.001
    report = kinematics([still, sliding])
    assert report["clips"] == 2 and report["foot_skate_mps"] == pytest.approx(0.5)


def test_embedding_metrics():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 3))
    assert fid(a, a) == pytest.approx(0.0, abs=1e-6)
    assert fid(a, a + np.array([2.0, 0, 0])) == pytest.approx(4.0, rel=1e-3)
    assert diversity(np.zeros((5, 3))) == 0.0
    assert diversity(np.array([[0.0, 0], [3.0, 4.0]])) == pytest.approx(5.0)
    emb = np.array([[0.0], [1.0], [10.0], [10.0]])
    assert multimodality(emb, [0, 0, 1, 1], pairs=50) == pytest.approx(0.5)


def test_finetune_contrastive_term_flows_through_a_tmr_encoder():
    from motionvigil.datasets.synthetic.corpus import generate_corpus
    from motionvigil.models import preset
    from motionvigil.models.bundle import MotionTextBundle
    from motionvigil.models.inputs import MotionInputs
    from motionvigil.models.motion_text import MotionTextModel
    from motionvigil.kinemic.encoder import embed_features, encode_normalised
    from motionvigil.kinemic.finetune import FinetuneSettings

    corpus = generate_corpus(2, seed=1, num_sequences=0, classes=("kick", "walk"))
    torch.manual_seed(0)
    cfg = preset("tiny")
    bundle = MotionTextBundle(MotionTextModel(cfg).eval(), MotionInputs.fit("tmr", corpus.clips, cfg.max_frames))
    feats = [c.get_features()[:20] for c in corpus.clips]
    model = _model()
    model.normalizer = Normalizer.fit(feats)
    # the differentiable path agrees with the plain embedding of the same features
    x = torch.from_numpy(model.normalizer.normalize(feats[0]))[None]
    z = encode_normalised(bundle, x, torch.ones(1, len(feats[0]), dtype=torch.bool), model.normalizer)
    np.testing.assert_allclose(z.detach().numpy(), embed_features(bundle, feats[:1]), atol=1e-4)
    targets = [0 if c.labels == ("kick",) else 1 for c in corpus.clips]
    finetune(model, ["kick", "walk"], np.random.default_rng(0).normal(size=(2, 384)), feats, targets, [], [],
             bundle, FinetuneSettings(steps=2, batch_size=2, rank=2, log_every=1))
    log = model.info["finetune_log"]
    assert len(log) == 2 and all(np.isfinite(r["contrastive"]) and "x0_mined" not in r for r in log)
    assert not any(p.requires_grad for p in bundle.model.parameters())  # the encoder stays frozen


def test_augmentation_classifier_pieces():
    from motionvigil.studies.kinemic_augment import confusion, head_scores, per_class_top1, score_metrics, train_head

    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    targets = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=bool)
    np.testing.assert_allclose(per_class_top1(scores, targets), [1.0, 0.5, 1.0])
    assert confusion(scores, targets).tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert score_metrics(scores, targets)["top1"] == pytest.approx(0.75)
    rng = np.random.default_rng(0)
    emb = np.concatenate([rng.normal(-2, 0.3, (10, 4)), rng.normal(2, 0.3, (10, 4))]).astype(np.float32)
    head = train_head(emb, [0] * 10 + [1] * 10, 2, seed=0, epochs=60)
    assert (head_scores(head, emb).argmax(1) == np.array([0] * 10 + [1] * 10)).all()


def test_few_shot_sample_is_seeded_single_label_and_drops_empty_classes():
    from motionvigil.kinemic.pipeline import few_shot_sample

    joints = np.zeros((30, 22, 3), np.float32)
    clips = [Clip(f"k{i}", joints, ("kick",), True, "t") for i in range(6)]
    clips += [Clip(f"w{i}", joints[:20], ("walk",), False, "t") for i in range(2)]
    clips += [Clip("both", joints, ("kick", "walk"), True, "t")]
    fs = few_shot_sample(clips, ("kick", "walk", "sit"), 3, seed=4)
    assert fs.classes == ["kick", "walk"] and fs.targets == [0, 0, 0, 1, 1]
    assert all(c.clip_id != "both" for c in fs.clips)
    assert [c.clip_id for c in few_shot_sample(clips, ("kick", "walk"), 3, seed=4).clips] == [c.clip_id for c in fs.clips]
    assert fs.lengths() == {"kick": [29, 29, 29], "walk": [19, 19]}


def test_features_to_clip_on_the_real_humanml3d_sample(data_path):
    """The generation path (features -> joints -> Clip) on real HumanML3D features."""
    from motionvigil.kinemic.generate import features_to_clip

    feats = np.load(data_path("humanml3d/new_joint_vecs/012314.npy"))
    joints = np.load(data_path("humanml3d/new_joints/012314.npy"))
    clip = features_to_clip(feats.astype(np.float32), "walk", "real0", "t")
    assert clip.joints.shape == (170, 22, 3) and clip.labels == ("walk",) and clip.meta["synthetic"]
    np.testing.assert_allclose(clip.joints, joints, atol=2e-3)
    kin = kinematics([clip.joints])
    assert kin["bone_length_cv"] < 0.01  # a real mocap skeleton keeps its bone lengths
    bad = feats.astype(np.float32).copy()
    bad[5, 10] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        features_to_clip(bad, "walk", "bad", "t")


def test_study_resumes_only_with_the_same_settings(tmp_path):
    from dataclasses import asdict

    from motionvigil.studies.kinemic_augment import ExperimentSettings, _previous

    fresh = lambda s: {"settings": asdict(s), "prior": "p", "sources": ["synthetic"], "datasets": {}}  # noqa: E731
    path = tmp_path / "results.json"
    assert _previous(path, fresh(ExperimentSettings()))["datasets"] == {}
    done = fresh(ExperimentSettings(seeds=2))
    done["datasets"] = {"msr_action3d": [{"seed": 0}, {"seed": 1}]}
    path.write_text(json.dumps(done))
    assert _previous(path, fresh(ExperimentSettings(seeds=5)))["datasets"]["msr_action3d"][1] == {"seed": 1}
    with pytest.raises(MotionFileError, match="results.json"):
        _previous(path, fresh(ExperimentSettings(seeds=5, per_class=3)))
    path.write_text("{broken")
    with pytest.raises(MotionFileError, match="results.json"):
        _previous(path, fresh(ExperimentSettings()))
