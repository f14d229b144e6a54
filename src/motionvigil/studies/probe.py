"""Transfer evaluation of a pre-trained motion encoder (T-MOR [docs/papers.md], Tables I-IV).

``motionvigil probe RUN --data NAME --mode linear|finetune [--task classify|detect] [--scratch]``

* Splits: the dataset's own train/test split (cross-subject for ``msr_action3d``,
  ``hdm05``, ``utkinect``); validation clips (or sequences) are carved at random from
  the training split and choose every hyper-parameter / early-stopping epoch. The test
  split is only scored.
* ``--scratch``: the run's architecture with random initial weights and input statistics
  fitted on the downstream training split (the "trained from scratch" baseline; in
  linear mode: a frozen random encoder).
* Classification (``task="classify"``): ``linear`` = frozen encoder, embeddings (the
  encoder output, centred crops) standardised, multinomial logistic regression with C
  chosen on validation accuracy; ``finetune`` = encoder + a linear layer trained end to
  end (AdamW, cross-entropy, random crops), the epoch with the best validation accuracy
  kept (early stopping). Reports test Top-1 / Top-5 / mAP (percent). Pre-trained runs
  probed in linear mode also get zero-shot Top-1 / Top-5 from the prompts ``"a person {label}"`` (T-MOR runs
  through their projection heads and the frozen sentence model; other runs through
  their text encoder).
* Detection (``task="detect"``): long sequences with frame-level segments (``utkinect``
  is loaded with ``mode="sequences"``); a per-frame classifier (classes + background)
  on spatially pooled per-frame features of the encoder (UNIK only), frame
  probabilities smoothed by a centred moving average of ``smooth`` frames, events and
  event-level mAP at IoU 0.1 / 0.3 / 0.5 as in :mod:`motionvigil.metrics.temporal_detection`.
  Both detection classifiers weight frame classes by inverse training frequency
  (background covers most frames; unweighted fine-tuning can settle on "all background").
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from motionvigil.datasets.captions import label_caption
from motionvigil.datasets.clip import Clip, Dataset
from motionvigil.metrics.classification import mean_average_precision, top_k_accuracy
from motionvigil.metrics.retrieval import zero_shot_classification
from motionvigil.metrics.temporal_detection import IOU_THRESHOLDS, Event, detection_report
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.inputs import MotionInputs
from motionvigil.models.motion_text import MotionTextModel
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.training.run import RunLoop, module_checkpoint

MODES = ("linear", "finetune")
TASKS = ("classify", "detect")


@dataclass(frozen=True)
class ProbeSettings:
    mode: str = "linear"
    task: str = "classify"
    epochs: int | None = None  # fine-tuning epochs (default 30 for classify, 40 for detect)
    lr: float = 1e-3
    batch_size: int = 32
    val_fraction: float = 0.15
    seed: int = 0
    patience: int = 10
    c_grid: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0)
    smooth: int = 9
    zero_shot: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.smooth < 1 or self.smooth % 2 == 0:
            raise ValueError(f"smooth must be a positive odd number of frames, got {self.smooth}")

    @property
    def finetune_epochs(self) -> int:
        return self.epochs if self.epochs is not None else (30 if self.task == "classify" else 40)


# ---- the encoder under test ------------------------------------------------------------------
def model_folder(run: str | Path) -> Path:
    folder = Path(run)
    return folder / "best" if (folder / "best" / "config.json").is_file() else folder


def load_encoder(run: str | Path, scratch: bool, train_clips: Sequence[Clip], seed: int,
                 device: str | torch.device = "cpu") -> tuple[MotionTextBundle, nn.ModuleDict | None]:
    """The run's bundle (and T-MOR projection heads, if any), or for ``scratch`` the same
    architecture freshly initialised with inputs fitted on ``train_clips``."""
    from motionvigil.pretrain.tmor_objective import load_heads

    folder = model_folder(run)
    bundle = MotionTextBundle.load(folder, device=device)
    if not scratch:
        return bundle, load_heads(folder)
    torch.manual_seed(seed)
    cfg = bundle.config
    inputs = MotionInputs.fit(bundle.inputs.kind, train_clips, bundle.inputs.max_frames)
    return MotionTextBundle(MotionTextModel(cfg).to(device), inputs, {"scratch": True}), None


# ---- data -------------------------------------------------------------------------------------
def _load(spec: str, task: str, skip_bad: bool) -> Dataset:
    from motionvigil.datasets.registry import get_spec, load_dataset
    from motionvigil.datasets.select import parse_data_spec

    name, root = parse_data_spec(spec)
    params = inspect.signature(get_spec(name).loader).parameters
    options = {"skip_bad": skip_bad} if "skip_bad" in params else {}
    if task == "detect" and "mode" in params:
        options["mode"] = "sequences"
    return load_dataset(name, root, **options)


def _split(dataset: Dataset, s: ProbeSettings, keep) -> tuple[list[Clip], list[Clip], list[Clip]]:
    from motionvigil.datasets.select import split_train_val_test

    clean = Dataset(dataset.name, [c for c in dataset.clips if keep(c)], dataset.classes)
    train, val, test = split_train_val_test([clean], s.val_fraction, s.seed)
    if not train or not val or not test:
        raise ValueError(f"{dataset.name}: need train, validation and test clips; "
                         f"got {len(train)}, {len(val)}, {len(test)}")
    return train, val, test


# ---- classification -----------------------------------------------------------------------------
def _metrics(scores: np.ndarray, y: np.ndarray, n_classes: int) -> dict[str, float]:
    targets = np.zeros((len(y), n_classes), dtype=bool)
    targets[np.arange(len(y)), y] = True
    return {"top1": 100.0 * top_k_accuracy(scores, targets, 1), "top5": 100.0 * top_k_accuracy(scores, targets, 5),
            "mAP": 100.0 * mean_average_precision(scores, targets)[0]}


def _logistic(f_train: np.ndarray, y_train: np.ndarray, f_val: np.ndarray, y_val: np.ndarray, n_classes: int,
              c_grid: Sequence[float], score_val=None, class_weight: str | None = None):
    """Standardise, fit a logistic regression per C, keep the best on validation
    (``score_val(prob_fn) -> float``, default accuracy). Returns ``(predict_proba, C, val score)``."""
    from sklearn.linear_model import LogisticRegression

    mean, std = f_train.mean(0), f_train.std(0) + 1e-6
    best = None
    for c in c_grid:
        clf = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight).fit((f_train - mean) / std, y_train)

        def proba(f, clf=clf):
            out = np.zeros((len(f), n_classes))
            out[:, clf.classes_] = clf.predict_proba((f - mean) / std)
            return out

        score = score_val(proba) if score_val is not None else float((proba(f_val).argmax(1) == y_val).mean())
        if best is None or score > best[2]:
            best = (proba, float(c), score)
    return best


def _embed(model: MotionTextModel, inputs: MotionInputs, seqs: Sequence[np.ndarray], device, batch: int = 64) -> torch.Tensor:
    out = []
    for start in range(0, len(seqs), batch):
        x, mask = inputs.collate([inputs.crop(q, None) for q in seqs[start : start + batch]])
        out.append(model.encode_motion(x.to(device), mask.to(device)))
    return torch.cat(out)


def _fine_tune(model: MotionTextModel, head: nn.Module, step, batches, validate, s: ProbeSettings,
               work_dir: Path | None, on_epoch: Callable[[int], None] | None) -> tuple[int, float]:
    """Encoder and ``head`` trained end to end (AdamW) on the run loop: ``batches(epoch, rng)``
    yields what ``step`` takes, ``validate()`` scores an epoch (higher is better). The best
    epoch's weights are restored; returns it and its score. ``work_dir``: checkpoints and
    log there (and resume from them); ``None``: in memory only."""
    optimizer = torch.optim.AdamW(list(model.motion_encoder.parameters()) + list(head.parameters()), lr=s.lr,
                                  weight_decay=0.01)
    rng = np.random.default_rng(s.seed)

    def epoch_batches(epoch: int):
        model.train()
        head.train()
        yield from batches(epoch, rng)

    def score() -> dict[str, float]:
        model.eval()
        head.eval()
        with torch.no_grad():
            return {"score": validate()}

    modules = {"encoder": model.motion_encoder, "head": head}
    loop = RunLoop(step=step, optimizer=optimizer, source=epoch_batches, rounds=s.finetune_epochs,
                   checkpoint=module_checkpoint(modules, {"probe": asdict(s)}), out=work_dir, validate=score,
                   metric="score", mode="max", patience=s.patience, keep_best=tuple(modules.values()),
                   generators=(rng,), on_round=on_epoch)
    progress = loop.run(resume=work_dir is not None)
    loop.restore_best()
    return progress["best_epoch"], progress["best_val"]


def _finetune_classifier(bundle: MotionTextBundle, seqs: dict[str, list[np.ndarray]], y: dict[str, np.ndarray],
                         n_classes: int, s: ProbeSettings, work_dir: Path | None = None,
                         on_epoch: Callable[[int], None] | None = None) -> tuple[np.ndarray, dict]:
    """Encoder + linear layer trained end to end; returns test scores of the best validation epoch."""
    model, inputs, device = bundle.model, bundle.inputs, bundle.device
    torch.manual_seed(s.seed)
    head = nn.Linear(model.cfg.embed_dim, n_classes).to(device)
    y_train = torch.as_tensor(y["train"], dtype=torch.long, device=device)

    def batches(epoch: int, rng: np.random.Generator):
        order = rng.permutation(len(seqs["train"]))
        for start in range(0, len(order), s.batch_size):
            idx = order[start : start + s.batch_size]
            if len(idx) >= 2:
                yield idx, inputs.collate([inputs.crop(seqs["train"][i], rng) for i in idx])

    def step(batch) -> dict[str, torch.Tensor]:
        idx, (x, mask) = batch
        return {"loss": F.cross_entropy(head(model.encode_motion(x.to(device), mask.to(device))), y_train[idx])}

    def accuracy() -> float:
        return float((head(_embed(model, inputs, seqs["val"], device)).argmax(1).cpu().numpy() == y["val"]).mean())

    best_epoch, best = _fine_tune(model, head, step, batches, accuracy, s, work_dir, on_epoch)
    with torch.no_grad():
        scores = torch.softmax(head(_embed(model, inputs, seqs["test"], device)), 1).cpu().numpy()
    return scores, {"best_epoch": best_epoch, "val_top1": 100.0 * best}


@torch.no_grad()
def zero_shot(bundle: MotionTextBundle, heads: nn.ModuleDict | None, clips: Sequence[Clip], classes: Sequence[str],
              y: np.ndarray, cache: TextEmbeddingCache) -> dict:
    """Top-1/Top-5 against the prompts ``"a person {label}"`` (Table III style)."""
    prompts = [label_caption(c) for c in classes]
    motion = bundle.embed_clips(list(clips))
    if heads is not None:  # T-MOR: projection heads over the encoder and the frozen sentence model
        cache.ensure(prompts)
        sentences = torch.from_numpy(np.stack([cache.sentence(p) for p in prompts]))
        text = heads["text"](sentences).numpy()
        motion = heads["motion"](torch.from_numpy(motion)).numpy()
        via = "tmor projection heads + frozen sentence model"
    else:
        text = bundle.embed_texts(prompts, cache)
        via = "model text encoder"
    out = zero_shot_classification(motion, [{int(k)} for k in y], text)
    return {**out, "prompt_template": "a person {label}", "text_side": via}


def probe_classification(bundle: MotionTextBundle, heads: nn.ModuleDict | None, splits, classes: Sequence[str],
                         s: ProbeSettings, cache: TextEmbeddingCache | None, scratch: bool,
                         work_dir: Path | None = None, on_epoch: Callable[[int], None] | None = None) -> dict:
    index = {c: i for i, c in enumerate(classes)}
    y = {k: np.array([index[next(lab for lab in c.labels if lab in index)] for c in v]) for k, v in splits.items()}
    seqs = {k: [bundle.inputs.sequence(c) for c in v] for k, v in splits.items()}
    report: dict = {"n_train": len(y["train"]), "n_val": len(y["val"]), "n_test": len(y["test"]),
                    "classes": len(classes)}
    if s.mode == "linear":
        bundle.model.eval()
        with torch.no_grad():
            feats = {k: _embed(bundle.model, bundle.inputs, v, bundle.device).cpu().numpy() for k, v in seqs.items()}
        proba, c, val_acc = _logistic(feats["train"], y["train"], feats["val"], y["val"], len(classes), s.c_grid)
        scores = proba(feats["test"])
        report.update(C=c, val_top1=100.0 * val_acc)
    else:
        scores, info = _finetune_classifier(bundle, seqs, y, len(classes), s, work_dir, on_epoch)
        report.update(info)
    report.update(_metrics(scores, y["test"], len(classes)))
    if s.zero_shot and not scratch and cache is not None and s.mode == "linear":
        report["zero_shot"] = zero_shot(bundle, heads, splits["test"], classes, y["test"], cache)
    return report


# ---- frame-wise detection -----------------------------------------------------------------------
def frame_targets(clip: Clip, classes: Sequence[str]) -> np.ndarray:
    """Per-frame class index (0 = background, ``k + 1`` = ``classes[k]``)."""
    out = np.zeros(clip.num_frames, dtype=np.int64)
    index = {c: i + 1 for i, c in enumerate(classes)}
    for seg in clip.segments:
        if seg.label in index:
            out[seg.start : min(seg.end, clip.num_frames)] = index[seg.label]
    return out


def true_events(clips: Sequence[Clip], classes: Sequence[str]) -> list[Event]:
    index = {c: i + 1 for i, c in enumerate(classes)}
    return [Event(c.clip_id, index[g.label], g.start, g.end) for c in clips for g in c.segments if g.label in index]


def smooth_probs(probs: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average over frames (edges averaged over the frames available)."""
    if window <= 1:
        return probs
    kernel = np.ones(window)
    num = np.stack([np.convolve(probs[:, k], kernel, mode="same") for k in range(probs.shape[1])], 1)
    den = np.convolve(np.ones(len(probs)), kernel, mode="same")[:, None]
    return num / den


def _frame_features(model: MotionTextModel, inputs: MotionInputs, seq: np.ndarray, device) -> torch.Tensor:
    encoder = model.motion_encoder
    if not hasattr(encoder, "frame_features"):
        raise ValueError(f"frame-wise detection needs per-frame features; the {model.cfg.motion_encoder!r} "
                         "encoder has none (use --encoder unik)")
    x, mask = inputs.collate([seq])
    return encoder.frame_features(x.to(device), mask.to(device))[0]


def probe_detection(bundle: MotionTextBundle, splits, classes: Sequence[str], s: ProbeSettings,
                    work_dir: Path | None = None, on_epoch: Callable[[int], None] | None = None) -> dict:
    model, inputs, device = bundle.model, bundle.inputs, bundle.device
    k = len(classes) + 1
    seqs = {name: [inputs.sequence(c) for c in v] for name, v in splits.items()}
    targets = {name: [frame_targets(c, classes) for c in v] for name, v in splits.items()}
    truth = {name: true_events(v, classes) for name, v in splits.items()}
    report: dict = {name_key: len(v) for name_key, v in (("n_train", splits["train"]), ("n_val", splits["val"]),
                                                          ("n_test", splits["test"]))}
    report.update(classes=len(classes), smooth=s.smooth)

    def det(name: str, prob_fn) -> dict:
        probs = {c.clip_id: smooth_probs(prob_fn(i), s.smooth) for i, c in enumerate(splits[name])}
        return detection_report(probs, truth[name])

    def mean_map(r: dict) -> float:
        return float(np.mean([r[f"mAP@{t:g}"] for t in IOU_THRESHOLDS]))

    if s.mode == "linear":
        model.eval()
        with torch.no_grad():
            feats = {n: [_frame_features(model, inputs, q, device).cpu().numpy() for q in v] for n, v in seqs.items()}
        f_train, y_train = np.concatenate(feats["train"]), np.concatenate(targets["train"])
        proba, c, val_score = _logistic(
            f_train, y_train, None, None, k, s.c_grid,
            score_val=lambda pf: mean_map(det("val", lambda i: pf(feats["val"][i]))), class_weight="balanced")
        report.update(C=c, val_mean_mAP=100.0 * val_score)
        result = det("test", lambda i: proba(feats["test"][i]))
        frame_pred = [proba(f).argmax(1) for f in feats["test"]]
    else:
        torch.manual_seed(s.seed)
        head = nn.Linear(model.motion_encoder.feature_dim, k).to(device)
        counts = np.bincount(np.concatenate(targets["train"]), minlength=k).astype(np.float64)
        weight = torch.as_tensor(counts.sum() / (k * np.maximum(counts, 1.0)), dtype=torch.float32, device=device)

        def logits(name: str, i: int) -> torch.Tensor:
            return head(_frame_features(model, inputs, seqs[name][i], device))

        def step(i: int) -> dict[str, torch.Tensor]:
            y = torch.as_tensor(targets["train"][i], device=device)
            return {"loss": F.cross_entropy(logits("train", i), y, weight=weight)}

        def val_score() -> float:
            val_probs = [torch.softmax(logits("val", i), 1).cpu().numpy() for i in range(len(seqs["val"]))]
            return mean_map(det("val", lambda i: val_probs[i]))

        best_epoch, best = _fine_tune(model, head, step, lambda epoch, rng: rng.permutation(len(seqs["train"])),
                                      val_score, s, work_dir, on_epoch)
        model.eval()
        head.eval()
        with torch.no_grad():
            test_probs = [torch.softmax(logits("test", i), 1).cpu().numpy() for i in range(len(seqs["test"]))]
        result = det("test", lambda i: test_probs[i])
        frame_pred = [p.argmax(1) for p in test_probs]
        report.update(best_epoch=best_epoch, val_mean_mAP=100.0 * best)
    report.update({key: (100.0 * v if key.startswith("mAP@") else v) for key, v in result.items()})
    report["frame_acc"] = 100.0 * float(np.mean(np.concatenate(frame_pred) == np.concatenate(targets["test"])))
    return report


# ---- entry point ---------------------------------------------------------------------------------
def probe_run(run: str | Path, specs: Sequence[str], settings: ProbeSettings, scratch: bool = False,
              device: str = "cpu", skip_bad: bool = False, output: str | Path | None = None,
              text_cache: TextEmbeddingCache | None = None) -> dict:
    """Probe the encoder of ``run`` (or the same architecture from scratch) on each dataset."""
    from motionvigil.cache_dir import cache_root

    s = settings
    cache = text_cache or TextEmbeddingCache(cache_root() / "text")
    report: dict = {"run": str(model_folder(run)), "init": "scratch" if scratch else "pretrained",
                    "settings": asdict(s), "datasets": {}}
    objective = _objective_of(run)
    if objective:
        report["objective"] = objective
    for spec in specs:
        dataset = _load(spec, s.task, skip_bad)
        classes = dataset.classes
        if s.task == "classify":
            keep = lambda c: any(label in classes for label in c.labels)  # noqa: E731
        else:
            keep = lambda c: bool(c.segments)  # noqa: E731
        splits = dict(zip(("train", "val", "test"), _split(dataset, s, keep)))
        bundle, heads = load_encoder(run, scratch, splits["train"], s.seed, device)
        if s.task == "classify":
            report["datasets"][spec] = probe_classification(bundle, heads, splits, classes, s, cache, scratch)
        else:
            report["datasets"][spec] = probe_detection(bundle, splits, classes, s)
    if output is not None:
        from motionvigil.atomic import write_text_atomic

        write_text_atomic(Path(output), json.dumps(report, indent=2))
    return report


def _objective_of(run: str | Path) -> str | None:
    """``"default"`` / ``"tmor"`` from the run's ``train.json``, if there is one."""
    path = Path(run) / "train.json"
    if not path.is_file():
        return None
    try:
        settings = json.loads(path.read_text()).get("settings", {})
    except (OSError, json.JSONDecodeError):
        return None
    objective = settings.get("objective", "default")
    if objective == "tmor":
        terms = settings.get("tmor", {}).get("terms", [])
        return "tmor:" + "+".join(terms)
    return objective


def format_probe(report: dict) -> str:
    lines = [f"{report['init']} encoder of {report['run']} ({report['settings']['task']}, {report['settings']['mode']})"]
    for spec, r in report["datasets"].items():
        if "top1" in r:
            line = f"{spec}: top-1 {r['top1']:.1f}%  top-5 {r['top5']:.1f}%  mAP {r['mAP']:.1f}%  ({r['n_test']} test clips)"
            if "zero_shot" in r:
                z = r["zero_shot"]
                line += f"; zero-shot top-1 {z['top1']:.1f}% (chance {z['chance_top1']:.1f}%)"
        else:
            maps = "  ".join(f"mAP@{t:g} {r[f'mAP@{t:g}']:.1f}%" for t in IOU_THRESHOLDS)
            line = f"{spec}: {maps}  frame acc {r['frame_acc']:.1f}%  ({r['n_test']} test sequences)"
        lines.append(line)
    return "\n".join(lines)
