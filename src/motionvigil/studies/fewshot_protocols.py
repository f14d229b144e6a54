"""The paper's few-shot protocols (TMR-to-Violence [docs/papers.md], Section 4.3, Tables 1-2).

- Episodic N-way K-shot (Table 1): episodes drawn uniformly from the test clips;
  "TMR" = prototypes of the pre-trained encoder (K = 0: class-name text prototypes);
  "MAML" = the meta-trained initialisation adapted on each episode's support set
  (T inner steps), then prototypes of the adapted encoder. With ``ablations`` two rows
  separate MAML's gain into its parts: "TMR + inner loop" (the pre-trained encoder
  adapted on the support set, no meta-training) and "MAML, 0 inner steps" (prototypes
  of the meta-trained encoder, no adaptation). All rows see the same episodes. Mean
  +- std over episodes.
- Global (Table 2): all classes at once; K support clips per class from the training
  split, every test clip is a query (scored in batches of 32). Rows: text-only, Proto
  K-shot, MAML K-shot (and the supervised baselines, added by the caller). Mean +- std
  over repeated draws of the support set.

Scores are cosine similarities to the prototypes; the violence score of a query is its
highest score over the violent classes (VDR/FPR at the F1-maximising threshold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from motionvigil.datasets.captions import label_caption
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.fewshot.adaptation import (
    AdaptSettings,
    InputCache,
    adapt,
    adaptation_cache,
    adapted_params,
    embed_indices,
    encoder_params,
)
from motionvigil.fewshot.episodes import EpisodeSampler
from motionvigil.losses import class_prototypes
from motionvigil.metrics.classification import METRIC_KEYS, aggregate, classification_metrics, format_mean_std
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.studies.spread import gather_results, my_share, rank_and_world

TABLE_KEYS = ("mAP", "top1", "top5", "recall1", "recall5", "VDR", "FPR")
TABLE_HEADERS = ("mAP", "Top-1", "Top-5", "Recall@1", "Recall@5", "VDR", "FPR")


@dataclass(frozen=True)
class EpisodicProtocol:
    ways: tuple[int, ...] = (5, 7, 10)
    shots: tuple[int, ...] = (0, 1, 3, 5)
    episodes: int = 200
    queries: int = 5
    seed: int = 0
    ablations: bool = False  # add the "TMR + inner loop" and "MAML, 0 inner steps" rows


@dataclass(frozen=True)
class GlobalProtocol:
    shots: tuple[int, ...] = (1, 3, 5, 10, 20, 30)
    repeats: int = 3
    query_batch: int = 32
    seed: int = 0


def _cosine_scores(z: torch.Tensor, prototypes: torch.Tensor) -> np.ndarray:
    return (F.normalize(z, dim=-1) @ F.normalize(prototypes, dim=-1).T).cpu().numpy()


def text_prototypes(bundle: MotionTextBundle, classes: Sequence[str], cache: TextEmbeddingCache) -> torch.Tensor:
    """Prototypes from class-name prompts ``"a person {label}"`` (the 0-shot / text-only row)."""
    emb = bundle.embed_texts([label_caption(c) for c in classes], cache)
    return F.normalize(torch.from_numpy(emb), dim=-1)


class _Scorer:
    """Embeds clips of one LabelledSet with a bundle, caching the un-adapted embeddings.

    ``cache`` and ``params`` are what the inner loop adapts (see ``AdaptSettings.top_layers``).
    """

    def __init__(self, bundle: MotionTextBundle, data: LabelledSet, settings: AdaptSettings = AdaptSettings()):
        self.bundle = bundle
        self.inputs = InputCache(bundle, data.clips)
        self.cache = adaptation_cache(bundle, data.clips, settings)
        self.params = adapted_params(bundle, settings)
        self._base: torch.Tensor | None = None

    def base_embeddings(self) -> torch.Tensor:
        if self._base is None:
            self._base = embed_indices(self.bundle, encoder_params(self.bundle), self.inputs,
                                       np.arange(len(self.inputs.clips)))
        return self._base


def _metrics(scores: np.ndarray, targets: np.ndarray, violent: np.ndarray) -> dict:
    return classification_metrics(scores, targets, violent)


def _adapted_metrics(bundle: MotionTextBundle, scorer: _Scorer, ep, settings: AdaptSettings,
                     rng: np.random.Generator) -> dict:
    """Adapt ``bundle`` on the episode's support set, then score its queries against the
    prototypes of the adapted encoder."""
    fast = adapt(bundle, scorer.params, scorer.cache, ep.support, ep.support_targets, ep.violent, settings, rng)
    z = embed_indices(bundle, fast, scorer.cache, np.concatenate([ep.support, ep.query]),
                      mixed_precision=settings.mixed_precision)
    protos = class_prototypes(z[: len(ep.support)], torch.from_numpy(ep.support_targets))
    return _metrics(_cosine_scores(z[len(ep.support) :], protos), ep.query_targets, ep.violent)


def _static_metrics(scorer: _Scorer, ep) -> dict:
    """Queries against the prototypes of the un-adapted encoder."""
    base = scorer.base_embeddings()
    protos = class_prototypes(base[ep.support], torch.from_numpy(ep.support_targets))
    return _metrics(_cosine_scores(base[ep.query], protos), ep.query_targets, ep.violent)


EPISODIC_MODELS = ("TMR", "TMR + inner loop", "MAML, 0 inner steps", "MAML")


def run_episodic(pre: MotionTextBundle, maml: MotionTextBundle | None, test: LabelledSet, protocol: EpisodicProtocol,
                 text_cache: TextEmbeddingCache | None, adapt_settings: AdaptSettings = AdaptSettings(),
                 progress: bool = True) -> list[dict]:
    """Rows of Table 1: one per (N, K, model) with aggregated metrics."""
    pre_scorer = _Scorer(pre, test)
    maml_scorer = _Scorer(maml, test, adapt_settings) if maml is not None else None
    pre_adapt = _Scorer(pre, test, adapt_settings) if protocol.ablations else None
    rows = []
    for ways in protocol.ways:
        sampler = None
        for shots in protocol.shots:
            try:
                sampler = EpisodeSampler(test, ways, shots, protocol.queries, violent_fraction=None)
            except ValueError as exc:
                rows.append({"config": f"{ways}-w {shots}-s", "model": "-", "skipped": str(exc)})
                continue
            local: list[tuple[int, tuple[str, dict]]] = []
            desc = f"{ways}-way {shots}-shot"
            show = progress and rank_and_world()[0] == 0
            for e in tqdm(my_share(protocol.episodes), desc=desc, unit="episode", disable=not show, leave=False):
                rng = np.random.default_rng([protocol.seed, ways, shots, e])
                ep = sampler.sample(rng)
                if len(ep.query) == 0:
                    continue
                if shots == 0:
                    if text_cache is None:
                        raise ValueError("0-shot episodes need a text embedding cache")
                    protos = text_prototypes(pre, [test.classes[c] for c in ep.classes], text_cache)
                    scores = _cosine_scores(pre_scorer.base_embeddings()[ep.query], protos)
                    local.append((e, ("TMR", _metrics(scores, ep.query_targets, ep.violent))))
                    continue
                local.append((e, ("TMR", _static_metrics(pre_scorer, ep))))
                if maml_scorer is not None:
                    local.append((e, ("MAML", _adapted_metrics(maml, maml_scorer, ep, adapt_settings, rng))))
                if pre_adapt is not None:
                    # own generator: the MAML row's draws stay those of a run without ablations
                    ablation_rng = np.random.default_rng([protocol.seed, ways, shots, e, 1])
                    local.append((e, ("TMR + inner loop",
                                      _adapted_metrics(pre, pre_adapt, ep, adapt_settings, ablation_rng))))
                    if maml_scorer is not None:
                        local.append((e, ("MAML, 0 inner steps", _static_metrics(maml_scorer, ep))))
            results: dict[str, list[dict]] = {m: [] for m in EPISODIC_MODELS}
            for _, (model, metrics) in gather_results(local):
                results[model].append(metrics)
            for model, res in results.items():
                if res:
                    rows.append({"config": f"{ways}-w {shots}-s", "model": model, "ways": ways, "shots": shots,
                                 **aggregate(res)})
        if sampler is not None:
            share = float(test.violent[sampler.eligible].mean())
            rows.append({"config": f"{ways}-w", **chance_row(ways, protocol.queries, share, seed=protocol.seed)})
    return rows


def _global_support(train: LabelledSet, shots: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """K clips per class from the training set (all of a class's clips if it has fewer)."""
    chosen: list[int] = []
    for c in range(len(train.classes)):
        members = [i for i in rng.permutation(np.flatnonzero(train.labels[:, c])) if i not in chosen]
        chosen += members[:shots]
    idx = np.array(sorted(set(chosen)), dtype=np.int64)
    return idx, train.labels[idx]


def run_global(pre: MotionTextBundle, maml: MotionTextBundle | None, train: LabelledSet, test: LabelledSet,
               protocol: GlobalProtocol, text_cache: TextEmbeddingCache | None,
               adapt_settings: AdaptSettings = AdaptSettings(), progress: bool = True) -> list[dict]:
    """Rows of Table 2 (without the supervised rows): chance, text-only, Proto K-shot, MAML K-shot."""
    if train.classes != test.classes:
        raise ValueError("global evaluation needs one class vocabulary for train and test")
    queries = np.flatnonzero(test.labels.any(1))
    targets = test.labels[queries]
    violent = test.violent
    rows = [global_chance_row(test, seed=protocol.seed)]
    pre_train, pre_test = _Scorer(pre, train), _Scorer(pre, test)
    query_emb = pre_test.base_embeddings()[queries]
    if text_cache is not None:
        protos = text_prototypes(pre, train.classes, text_cache)
        rows.append({"model": "Text-only (0-shot)", "shots": 0,
                     **aggregate([_metrics(_cosine_scores(query_emb, protos), targets, violent)])})
    maml_train = _Scorer(maml, train, adapt_settings) if maml is not None else None
    maml_test = _Scorer(maml, test, adapt_settings) if maml is not None else None
    jobs = [(shots, r) for shots in protocol.shots for r in range(protocol.repeats)]
    show = progress and rank_and_world()[0] == 0
    local = []
    for j in tqdm(my_share(len(jobs)), desc="global draws", disable=not show, leave=False):
        shots, r = jobs[j]
        rng = np.random.default_rng([protocol.seed, shots, r])
        support, s_targets = _global_support(train, shots, rng)
        protos = class_prototypes(pre_train.base_embeddings()[support], torch.from_numpy(s_targets))
        proto_m = _metrics(_cosine_scores(query_emb, protos), targets, violent)
        maml_m = None
        if maml is not None:
            fast = adapt(maml, maml_train.params, maml_train.cache, support, s_targets, train.violent,
                         adapt_settings, rng)
            zs = embed_indices(maml, fast, maml_train.cache, support, mixed_precision=adapt_settings.mixed_precision)
            protos_m = class_prototypes(zs, torch.from_numpy(s_targets))
            zq = embed_indices(maml, fast, maml_test.cache, queries, batch_size=protocol.query_batch,
                               mixed_precision=adapt_settings.mixed_precision)
            maml_m = _metrics(_cosine_scores(zq, protos_m), targets, violent)
        local.append((j, (proto_m, maml_m)))
    done = gather_results(local)
    for shots in protocol.shots:
        mine = [res for j, res in done if jobs[j][0] == shots]
        rows.append({"model": f"Proto {shots}-shot", "shots": shots, **aggregate([m for m, _ in mine])})
        if maml is not None:
            rows.append({"model": f"MAML {shots}-shot", "shots": shots, **aggregate([m for _, m in mine])})
    return rows


TABLE_NOTE = ("± is the standard deviation over episodes (over support draws for global rows), not a "
              "confidence interval; (n=...) after VDR/FPR counts the episodes that held a violent (VDR) or "
              "non-violent (FPR) query; † marks a value that is 1 by construction (top-5 of at most 5 classes); "
              "Recall@k equals Top-k on single-label data; 'chance' rows score uniformly random similarities "
              "on episodes of the same shape.")


def chance_row(ways: int, queries: int, violent_share: float, episodes: int = 2000, seed: int = 0) -> dict:
    """Metrics of uniformly random scores on ``ways``-way episodes with ``queries`` single-
    label queries per class, each class violent with probability ``violent_share`` (the
    share among the classes episodes are drawn from), aggregated over ``episodes`` Monte
    Carlo draws: the chance level of every column."""
    rng = np.random.default_rng([seed, ways, queries])
    targets = np.repeat(np.eye(ways, dtype=bool), queries, axis=0)
    res = [classification_metrics(rng.random(targets.shape), targets, rng.random(ways) < violent_share)
           for _ in range(episodes)]
    return {"model": "chance", "ways": ways, **aggregate(res)}


def global_chance_row(test: LabelledSet, draws: int = 200, seed: int = 0) -> dict:
    """Table 2's chance level: uniformly random scores for every test query over all
    classes, aggregated over ``draws`` Monte Carlo draws (depends on the test labels only)."""
    queries = np.flatnonzero(test.labels.any(1))
    targets = test.labels[queries]
    rng = np.random.default_rng([seed, len(test.classes), len(queries)])
    res = [classification_metrics(rng.random(targets.shape), targets, test.violent) for _ in range(draws)]
    return {"model": "chance", "shots": 0, **aggregate(res)}


def _cell(row: dict, key: str) -> str:
    if key not in row:
        return "n/a"
    text = format_mean_std(row[key], row.get(f"{key}_std"))
    if key in ("top5", "recall5") and row.get("ways", 99) <= 5 and row.get("model") != "chance":
        return text + " †"
    if key in ("VDR", "FPR") and f"n_{key}" in row and row.get("model") != "chance":
        return f"{text} (n={row[f'n_{key}']})"
    return text


def rows_to_markdown(rows: Sequence[dict], lead: Sequence[str]) -> str:
    """Paper-layout Markdown: ``lead`` columns, then the seven metrics as ``mean ± std``
    (see :data:`TABLE_NOTE` for the marks), and the note under the table."""
    head = [*lead, *TABLE_HEADERS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        if "skipped" in row:
            lines.append("| " + " | ".join([row.get(k, "") for k in lead] + ["n/a"] * len(TABLE_KEYS)) + " |")
            continue
        cells = [str(row.get(k, "")) for k in lead]
        cells += [_cell(row, k) for k in TABLE_KEYS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + TABLE_NOTE


def rows_to_csv(rows: Sequence[dict], lead: Sequence[str]) -> str:
    keys = [*lead, *[x for k in TABLE_KEYS for x in (k, f"{k}_std")]]
    lines = [",".join(keys)]
    for row in rows:
        lines.append(",".join("" if row.get(k) is None else str(row.get(k, "")) for k in keys))
    return "\n".join(lines) + "\n"


__all__ = [
    "METRIC_KEYS",
    "EpisodicProtocol",
    "GlobalProtocol",
    "rows_to_csv",
    "rows_to_markdown",
    "run_episodic",
    "run_global",
    "text_prototypes",
]
