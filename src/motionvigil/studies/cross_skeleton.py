"""Cross-skeleton transfer study (Motion Patches [docs/papers.md], Section 5.1 / Table 5, extended).

One model is trained on one skeleton FAMILY and evaluated on another:

- ``kinect``: MSR Action3D + UTKinect (Kinect v1, 20 joints);
- ``mocap``: HDM05 (31-joint CMU ASF) + Bandai-2 (22-joint Bandai BVH).

Encoder arms (:data:`ARMS`): ``vit_native`` = ViT over motion patches built from each
clip's OWN skeleton chains (``MotionInputs`` kind ``"vit_native"``); ``vit_smpl`` = the
same ViT over patches of the SMPL-22 retargeting; ``tmr`` = the TMR encoder over the
263-dim HumanML3D features of the retargeting. Every arm is pre-trained from random
initialisation with its motion-text objective on the source family's training split
(captions, or ``"a person <label>"``), the best epoch chosen by validation contrastive
loss on a held-out part of that training split.

Target tasks and settings (test splits are only ever scored, never used to choose):

- classification Top-1 on ``msr_action3d`` (source ``mocap``) and ``hdm05`` (source
  ``kinect``), cross-subject splits as the loaders define them:
  * ``zero-shot``: no target training data. Each target clip is given the class whose
    prompt ``"a person <label>"`` (text encoder trained with the source) is nearest by
    cosine, over the target's FULL vocabulary; the chance level is reported beside it.
  * ``linear probe``: frozen encoder; input statistics and a multinomial logistic
    regression fitted on the target training split (C chosen on a validation part of it).
  * ``fine-tuned``: ``supervised.train_supervised`` (encoder + MLP head, BCE) on the target
    training split, best epoch by validation mAP.
- text->motion retrieval on ``bandai2`` (source ``kinect``): queries are the distinct
  captions of the test clips, a motion is correct when it carries the caption;
  ``zero-shot`` and ``fine-tuned`` (contrastive training continued on bandai2's train split).
- few-shot violence episodes across families: 5-way 5-shot over the classes the two
  families share (:data:`SHARED_CLASSES`), support clips from one family's test split
  and queries from the other's, the encoder trained on the support family; prototypes
  and cosine scores as in ``eval.fewshot_protocols``; VDR/FPR of the violent decision.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from motionvigil.datasets.clip import Clip, Dataset
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.select import split_train_val_test
from motionvigil.datasets.violence import is_violent
from motionvigil.metrics.classification import aggregate, classification_metrics, top_k_accuracy
from motionvigil.studies.fewshot_protocols import text_prototypes
from motionvigil.metrics.retrieval import cosine_sims, l2_normalize, retrieval_metrics, zero_shot_classification
from motionvigil.fewshot.episodes import EpisodeSampler
from motionvigil.losses import class_prototypes
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.config import preset
from motionvigil.models.inputs import MotionInputs
from motionvigil.models.motion_text import MotionTextModel
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.pretrain.batches import PairSource, epoch_batches, make_batch
from motionvigil.pretrain.objective import compute_losses
from motionvigil.pretrain.trainer import SELECTION_METRIC, validation_loss
from motionvigil.supervised.train import SupervisedSettings, train_supervised
from motionvigil.training.run import RunLoop
from motionvigil.training.runtime import seed_everything

FAMILIES: dict[str, tuple[str, ...]] = {"kinect": ("msr_action3d", "utkinect"), "mocap": ("hdm05", "bandai2")}
#: arm -> (model motion encoder, MotionInputs kind)
ARMS: dict[str, tuple[str, str]] = {"vit_native": ("vit", "vit_native"), "vit_smpl": ("vit", "vit"),
                                    "tmr": ("tmr", "tmr")}
#: classification targets -> source family
CLASSIFICATION_TARGETS: dict[str, str] = {"msr_action3d": "mocap", "hdm05": "kinect"}
RETRIEVAL_TARGET, RETRIEVAL_SOURCE = "bandai2", "kinect"

#: coarse class -> the dataset labels it gathers (Kinect and mocap labels alike)
SHARED_CLASSES: dict[str, tuple[str, ...]] = {
    "kick": ("forward kick", "side kick", "kickLFront1Reps"),
    "jog": ("jogging", "jogLeftCircle4StepsRstart", "run"),
    "walk": ("walk", "walk turn left", "walk turn right"),
    "wave": ("high arm wave", "horizontal arm wave", "two hand wave", "wave hands", "wave both hands",
             "wave left hand", "wave right hand"),
    "throw": ("high throw", "throw", "throwBasketball"),
    "bend down": ("bend", "pick up", "depositFloorR"),
}
_COARSE = {label: coarse for coarse, labels in SHARED_CLASSES.items() for label in (coarse, *labels)}


@dataclass(frozen=True)
class StudySettings:
    """``preset``: model size (``tiny`` for a few CPU minutes, ``paper`` for real runs)."""

    preset: str = "tiny"
    arms: tuple[str, ...] = tuple(ARMS)
    pretrain_epochs: int = 8
    finetune_epochs: int = 12
    batch_size: int = 32
    lr: float = 3e-4
    ways: int = 5
    shots: int = 5
    queries: int = 5
    episodes: int = 100
    val_fraction: float = 0.15
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        unknown = set(self.arms) - set(ARMS)
        if unknown or not self.arms:
            raise ValueError(f"unknown arms {sorted(unknown)}; choose from {', '.join(ARMS)}")


PAPER = {"pretrain_epochs": 60, "finetune_epochs": 30, "lr": 1e-4, "episodes": 200}


# --------------------------------------------------------------------------- training


def contrastive_fit(train: Sequence[Clip], val: Sequence[Clip], arm: str, s: StudySettings,
                    cache: TextEmbeddingCache,
                    epochs: int, init: MotionTextBundle | None = None) -> MotionTextBundle:
    """Motion-text training in memory (the pre-training objective of the arm's encoder,
    ``pretrain.objective``), keeping the epoch with the lowest validation contrastive loss.
    ``init``: start from its weights (fine-tuning); input statistics are fitted on ``train``."""
    encoder, kind = ARMS[arm]
    cfg = preset(s.preset, encoder)
    seed_everything(s.seed)
    inputs = MotionInputs.fit(kind, train, cfg.max_frames)
    tr, va = PairSource.build(train, inputs, cache), PairSource.build(val, inputs, cache)
    if len(tr) < 2 or len(va) < 2:
        raise ValueError(f"{arm}: need at least 2 training and 2 validation clips with captions or labels")
    device = torch.device(s.device)
    model = MotionTextModel(cfg)
    if init is not None:
        model.load_state_dict(init.model.state_dict())
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=s.lr, weight_decay=0.01)

    def batches(epoch: int):
        rng = np.random.default_rng([s.seed, epoch])
        model.train()
        for batch in epoch_batches(len(tr), s.batch_size, rng):
            yield make_batch(tr, batch, inputs, cache, rng)

    loop = RunLoop(step=lambda b: compute_losses(model, {k: v.to(device) for k, v in b.items()}, gather=False),
                   optimizer=optimizer, source=batches, rounds=epochs, keep_best=(model,),
                   validate=lambda: validation_loss(model, va, inputs, cache, s.batch_size, device),
                   metric=SELECTION_METRIC)
    progress = loop.run()
    loop.restore_best()
    best_epoch, best = progress["best_epoch"], progress["best_val"]
    info = {"arm": arm, "best_epoch": best_epoch, f"val_{SELECTION_METRIC}": best}
    return MotionTextBundle(model.eval(), inputs, info)


def with_target_inputs(bundle: MotionTextBundle, clips: Sequence[Clip]) -> MotionTextBundle:
    """The same model with input statistics fitted on (target training) ``clips``."""
    inputs = MotionInputs.fit(bundle.inputs.kind, clips, bundle.inputs.max_frames)
    return MotionTextBundle(bundle.model, inputs, dict(bundle.info))


def family_split(datasets: Sequence[Dataset], s: StudySettings) -> tuple[list[Clip], list[Clip], list[Clip]]:
    return split_train_val_test(datasets, val_fraction=s.val_fraction, seed=s.seed)


# --------------------------------------------------------------------------- classification


def _single_labels(clips: Sequence[Clip], classes: Sequence[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[c.labels[0]] for c in clips])


def linear_probe_top1(bundle: MotionTextBundle, train: Sequence[Clip], val: Sequence[Clip],
                      test: Sequence[Clip], classes: Sequence[str]) -> float:
    """Top-1 (%) of a logistic regression on frozen, L2-normalised embeddings; C by validation accuracy."""
    from sklearn.linear_model import LogisticRegression

    parts = {"train": train, "val": val, "test": test}
    z = {name: l2_normalize(bundle.embed_clips(list(part))) for name, part in parts.items()}
    y = {name: _single_labels(part, classes) for name, part in parts.items()}
    best = None
    for c in (0.1, 1.0, 10.0, 100.0):
        clf = LogisticRegression(C=c, max_iter=2000).fit(z["train"], y["train"])
        acc = float(np.mean(clf.predict(z["val"]) == y["val"]))
        if best is None or acc > best[0]:
            best = (acc, clf)
    return 100.0 * float(np.mean(best[1].predict(z["test"]) == y["test"]))


def finetune_top1(bundle: MotionTextBundle, train: Sequence[Clip], val: Sequence[Clip], test: Sequence[Clip],
                  classes: Sequence[str], s: StudySettings) -> float:
    """Top-1 (%) after ``train_supervised`` (encoder fine-tuned with an MLP head)."""
    settings = SupervisedSettings(epochs=s.finetune_epochs, batch_size=s.batch_size, lr=s.lr, patience=None,
                                  seed=s.seed, progress=False)
    with tempfile.TemporaryDirectory(prefix="motionvigil-xskel-") as tmp:
        model = train_supervised(bundle, LabelledSet.build(train, classes), LabelledSet.build(val, classes),
                                 tmp, settings, resume=False)
    targets = LabelledSet.build(test, classes).labels
    return 100.0 * top_k_accuracy(model.scores(list(test)), targets, 1)


def zero_shot_top1(bundle: MotionTextBundle, test: Sequence[Clip], classes: Sequence[str],
                   cache: TextEmbeddingCache) -> tuple[float, float]:
    """``(top1, chance)`` in % with class-name prompts over the whole vocabulary."""
    text = text_prototypes(bundle, classes, cache).numpy()  # "a person <label>" prompts
    labels = [[i] for i in _single_labels(test, classes)]
    res = zero_shot_classification(bundle.embed_clips(list(test)), labels, text, ks=(1,))
    return float(res["top1"]), float(res["chance_top1"])


def retrieval_t2m(bundle: MotionTextBundle, test: Sequence[Clip],
                  cache: TextEmbeddingCache) -> dict[str, float]:
    """Text->motion R@1/R@5 (%) with the distinct captions of ``test`` as queries."""
    queries = sorted({cap for c in test for cap in c.captions})
    if not queries:
        raise ValueError("retrieval needs clips with captions")
    positives = np.array([[q in c.captions for c in test] for q in queries])
    sims = cosine_sims(bundle.embed_texts(queries, cache), bundle.embed_clips(list(test)))
    m = retrieval_metrics(sims, positives, ks=(1, 5))
    chance = 100.0 * float(np.mean(positives.sum(1) / positives.shape[1]))
    return {"R1": float(m["t2m/R01"]), "R5": float(m["t2m/R05"]), "chance_R1": chance,
            "queries": len(queries)}


# --------------------------------------------------------------------------- few-shot across families


def shared_clips(clips: Sequence[Clip]) -> list[Clip]:
    """Clips whose label falls in :data:`SHARED_CLASSES`, relabelled with the coarse class."""
    out = []
    for c in clips:
        coarse = {_COARSE[label] for label in c.labels if label in _COARSE}
        if len(coarse) == 1:
            label = coarse.pop()
            out.append(dataclasses.replace(c, labels=(label,), violent=is_violent(label)))
    return out


@dataclass(frozen=True)
class CrossDraw:
    """One episode: ``support`` indices into ``support_clips`` (targets over the episode's
    ``classes``), ``query`` indices into ``query_clips`` with their ``targets``."""

    classes: tuple[str, ...]
    support: np.ndarray
    support_targets: np.ndarray
    query: np.ndarray
    targets: np.ndarray
    violent: np.ndarray


def cross_family_draws(support_clips: Sequence[Clip], query_clips: Sequence[Clip], s: StudySettings):
    """Violence-aware ``ways``-way ``shots``-shot episodes, support from ``support_clips``
    and queries from ``query_clips`` (both already :func:`shared_clips`), as
    :class:`CrossDraw` items.

    Both sides are drawn with ``fewshot.episodes.EpisodeSampler``: the support sampler
    picks the classes (40% violent where possible) and support clips; a second sampler,
    over the query clips of exactly those classes, picks ``queries`` clips per class.
    When both sides are one family, a support clip is never a query of its episode.
    """
    present = {c.labels[0] for c in query_clips}
    vocab = tuple(c for c in SHARED_CLASSES if c in present)
    s_set = LabelledSet.build(support_clips, vocab)
    sampler = EpisodeSampler(s_set, s.ways, s.shots, queries=0, violent_fraction=0.4)
    q_index = {c: [i for i, clip in enumerate(query_clips) if clip.labels[0] == c] for c in vocab}
    for e in range(s.episodes):
        rng = np.random.default_rng([s.seed, 7, e])
        ep = sampler.sample(rng)
        names = tuple(vocab[c] for c in ep.classes)
        used = {(support_clips[i].dataset, support_clips[i].clip_id) for i in ep.support}
        rows = np.array([i for n in names for i in q_index[n]
                         if (query_clips[i].dataset, query_clips[i].clip_id) not in used], dtype=np.int64)
        q_ep = EpisodeSampler(LabelledSet.build([query_clips[i] for i in rows], names), s.ways, 0,
                              queries=s.queries).sample(rng)
        targets = np.zeros((len(q_ep.query), s.ways), dtype=bool)
        targets[:, q_ep.classes] = q_ep.query_targets  # back to the support episode's class order
        yield CrossDraw(names, ep.support, ep.support_targets, rows[q_ep.query], targets, ep.violent)


def cross_family_episodes(bundle: MotionTextBundle, support: Sequence[Clip], query: Sequence[Clip],
                          s: StudySettings) -> dict:
    """Aggregated metrics (prototypes of the support embeddings, cosine scores, as in
    ``eval.fewshot_protocols``) over :func:`cross_family_draws` of the shared classes."""
    s_clips, q_clips = shared_clips(support), shared_clips(query)
    z_support = torch.from_numpy(bundle.embed_clips(s_clips))
    z_query = torch.nn.functional.normalize(torch.from_numpy(bundle.embed_clips(q_clips)), dim=-1)
    results, classes = [], set()
    for d in cross_family_draws(s_clips, q_clips, s):
        protos = class_prototypes(z_support[d.support], torch.from_numpy(d.support_targets))
        scores = (z_query[d.query] @ torch.nn.functional.normalize(protos, dim=-1).T).numpy()
        results.append(classification_metrics(scores, d.targets, d.violent))
        classes.update(d.classes)
    used = [c for c in SHARED_CLASSES if c in classes]
    return {"episodes": len(results), "classes": used, **aggregate(results)}


# --------------------------------------------------------------------------- the study


def run_study(families: Mapping[str, Sequence[Dataset]], s: StudySettings, cache: TextEmbeddingCache,
              log=lambda msg: None, classification: Mapping[str, str] = CLASSIFICATION_TARGETS,
              retrieval: tuple[str, str] = (RETRIEVAL_TARGET, RETRIEVAL_SOURCE)) -> dict:
    """Every row of the study. ``families``: family name -> loaded datasets;
    ``classification``: target dataset -> source family; ``retrieval``: (target dataset,
    source family). Targets whose dataset is absent are skipped."""
    retrieval_target, retrieval_source = retrieval
    by_name = {ds.name: ds for sets in families.values() for ds in sets}
    splits = {fam: family_split(sets, s) for fam, sets in families.items()}
    rows: list[dict] = []
    for arm in s.arms:
        sources = {}
        for fam, (train, val, _) in splits.items():
            log(f"{arm}: pre-training on {fam} ({len(train)} train / {len(val)} val clips)")
            sources[fam] = contrastive_fit(train, val, arm, s, cache, s.pretrain_epochs)
        for target, src in classification.items():
            if target not in by_name or src not in sources:
                continue
            ds = by_name[target]
            train, val, test = family_split([ds], s)
            base = {"arm": arm, "task": f"{target} Top-1", "source": src, "target": target, "n_test": len(test)}
            top1, chance = zero_shot_top1(sources[src], test, ds.classes, cache)
            rows.append({**base, "setting": "zero-shot", "value": top1, "chance": chance})
            log(f"{arm}: {target} linear probe / fine-tuning")
            local = with_target_inputs(sources[src], train)
            probe = linear_probe_top1(local, train, val, test, ds.classes)
            rows.append({**base, "setting": "linear probe", "value": probe})
            tuned_top1 = finetune_top1(local, train, val, test, ds.classes, s)
            rows.append({**base, "setting": "fine-tuned", "value": tuned_top1})
        if retrieval_target in by_name and retrieval_source in sources:
            train, val, test = family_split([by_name[retrieval_target]], s)
            base = {"arm": arm, "task": f"{retrieval_target} text->motion R@1", "source": retrieval_source,
                    "target": retrieval_target, "n_test": len(test)}
            zero = retrieval_t2m(sources[retrieval_source], test, cache)
            rows.append({**base, "setting": "zero-shot", "value": zero["R1"], "R5": zero["R5"],
                         "chance": zero["chance_R1"], "queries": zero["queries"]})
            log(f"{arm}: {retrieval_target} contrastive fine-tuning")
            tuned = contrastive_fit(train, val, arm, s, cache, s.finetune_epochs,
                                    init=sources[retrieval_source])
            ft = retrieval_t2m(tuned, test, cache)
            rows.append({**base, "setting": "fine-tuned", "value": ft["R1"], "R5": ft["R5"],
                         "chance": ft["chance_R1"], "queries": ft["queries"]})
        for sup, qry in [(a, b) for a in sources for b in splits if a != b] + [(a, a) for a in sources]:
            res = cross_family_episodes(sources[sup], splits[sup][2], splits[qry][2], s)
            rows.append({"arm": arm, "task": f"{s.ways}-way {s.shots}-shot violence", "source": sup,
                         "target": qry, "setting": f"support {sup} / queries {qry}", **res})
    return {"settings": dataclasses.asdict(s), "rows": rows}


# --------------------------------------------------------------------------- table


def _fmt(v: object, digits: int = 1) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _pct(r: Mapping, key: str) -> str:
    """``mean ± std`` of an episodic fraction, in percent."""
    mean, std = r.get(key), r.get(f"{key}_std")
    return f"{_fmt(None if mean is None else 100 * mean)} ± {_fmt(None if std is None else 100 * std)}"


def study_markdown(result: Mapping) -> str:
    """Two Markdown tables: transfer (zero-shot / linear probe / fine-tuned) and few-shot."""
    rows = result["rows"]
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    transfer = [r for r in rows if "value" in r]
    lines = ["| task | source -> target | setting | " + " | ".join(arms) + " |",
             "|---|---|---|" + "---|" * len(arms)]
    keys = list(dict.fromkeys((r["task"], r["source"], r["target"], r["setting"]) for r in transfer))
    for task, src, tgt, setting in keys:
        cells = []
        chance = None
        for arm in arms:
            hit = [r for r in transfer if (r["arm"], r["task"], r["source"], r["target"], r["setting"]) ==
                   (arm, task, src, tgt, setting)]
            cells.append(_fmt(hit[0]["value"]) if hit else "n/a")
            chance = chance if not hit else hit[0].get("chance", chance)
        label = setting + (f" (chance {chance:.1f})" if chance is not None else "")
        lines.append(f"| {task} | {src} -> {tgt} | {label} | " + " | ".join(cells) + " |")
    fewshot = [r for r in rows if "episodes" in r]
    if fewshot:
        lines += ["", "| episodes | arm | Top-1 | mAP | VDR | FPR |", "|---|---|---|---|---|---|"]
        for r in fewshot:
            vals = [_pct(r, k) for k in ("top1", "mAP", "VDR", "FPR")]
            lines.append(f"| {r['setting']} ({r['episodes']}) | {r['arm']} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def run_cross_skeleton(data_root: str | None, s: StudySettings, markdown_path: str | None = None,
                       command: str = "", log=lambda msg: None) -> dict:
    """Load the four real datasets (``data_root``: the folder holding them, else each
    loader's default), run the study, and write ``markdown_path`` atomically: the full
    result as JSON when its name ends in ``.json`` (the results file the docs quote),
    else the Markdown tables with the command that reproduces them. Returns the
    JSON-safe result (``markdown``, ``command``, ``seconds`` and ``machine`` included)."""
    import json
    import time
    from pathlib import Path

    from motionvigil.atomic import write_text_atomic
    from motionvigil.cache_dir import cache_root
    from motionvigil.datasets.select import load_specs
    from motionvigil.machine import machine_info

    start = time.perf_counter()
    families = {}
    for fam, names in FAMILIES.items():
        specs = [f"{n}:{Path(data_root) / n}" if data_root else n for n in names]
        families[fam] = load_specs(specs, skip_bad=True)
    result = run_study(families, s, TextEmbeddingCache(cache_root() / "text"), log=log)
    result["rows"] = [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
                      for r in result["rows"]]  # strict JSON: no NaN
    result["markdown"] = study_markdown(result)
    result.update(command=command, seconds=round(time.perf_counter() - start, 1), machine=machine_info())
    if markdown_path and str(markdown_path).endswith(".json"):
        write_text_atomic(markdown_path, json.dumps(result, indent=1, default=float) + "\n")
    elif markdown_path:
        head = f"Reproduce with: `{command}`\n\n" if command else ""
        write_text_atomic(markdown_path, head + result["markdown"])
    return result
