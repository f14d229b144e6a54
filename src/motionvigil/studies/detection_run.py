"""Running every protocol of ``motionvigil study detection`` for three scorers: the
learned model (the default detector, ``protocols.{name}``), the kinematic head it
replaces (``protocols.kinematic_head.protocols.{name}``) and the limb-speed baseline
(``protocols.speed_baseline.protocols.{name}``). Protocols are described in
:mod:`motionvigil.studies.detection`; the two-person and calm-source ones here:

``loso_sbu_kinect``
    SBU Kinect's two-person clips, scored by a detector trained without SBU (its pair
    network learns from staged scenes only). A clip's score is its highest window score
    over both persons and the pair.
``sbu_pairs``
    SBU's participant-disjoint test clips, scored by the ``in_domain`` detector (trained
    with SBU's training pairs): violent interactions (kicking, punching, pushing) vs
    hugging, shaking hands and the calm interactions; ``contact_alerted`` of ``n_contact``
    hugging and handshake clips.
``calm_sources``
    For each source, its calm motion (every split) scanned by a detector built without
    that source: false alerts per minute, with a Poisson 95% interval on the alerts
    pooled over seeds. UTKinect's are its 20 long sequences; SBU's, each calm clip.
``site_calibrated``
    The ``loso_*`` detectors re-thresholded on the held-out source's own training-split
    calm motion, as a deployer calibrates at a new site (:mod:`.detection_site`).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import numpy as np
from tqdm import tqdm

from motionvigil.detect.head_fit import CalmScan, count_alerts, head_score, procedural_clips
from motionvigil.detect.model_fit import CALM_CONTACT
from motionvigil.machine import machine_info
from motionvigil.studies.detection import (
    FPS,
    PAIR_SOURCE,
    SOURCES,
    VIOLENT_SOURCES,
    DetectionSettings,
    Scorer,
    StudyData,
    TableCache,
    clip_metrics,
    real_sequences,
    select_and_build,
    sequence_metrics,
    sequence_result,
    speed_scorer,
)
from motionvigil.studies.detection_model import MODEL_GRID, ModelCache, build_model
from motionvigil.studies.detection_site import (
    assemble_ceiling,
    assemble_site,
    calm_scans,
    ceiling_run,
    held_out_items,
    poisson_ci,
    scene_scores,
    site_run,
)

KINDS = ("model", "kinematic_head", "speed_baseline")


class Detectors:
    """The scorers of one seed, built once per (kind, excluded source, with SBU pairs)."""

    def __init__(self, data: StudyData, s: DetectionSettings, seed: int, head_cache: TableCache,
                 model_cache: ModelCache):
        self.data, self.s, self.seed = data, s, seed
        self.head_cache, self.model_cache = head_cache, model_cache
        self.procedural = procedural_clips(seed, s.procedural_clips_per_class)
        self._built: dict[tuple, tuple[Scorer, dict]] = {}

    def get(self, kind: str, excluded: str | None, sbu: bool = True) -> tuple[Scorer, dict]:
        """The ``kind`` scorer trained without source ``excluded`` (and without SBU pairs
        unless ``sbu``), with its selection record."""
        if kind != "model" and excluded == PAIR_SOURCE:
            excluded = None  # the one-person scorers never train on SBU: leaving it out changes nothing
        key = (kind, excluded, kind == "model" and sbu and excluded != PAIR_SOURCE)
        if key not in self._built:
            train = self.data.clips("train", tuple(x for x in SOURCES if x != excluded))
            if kind == "model":
                sbu_train = [p for p in self.data.sbu if p.split == "train"] if key[2] else []
                built = build_model(train, sbu_train, self.procedural, self.model_cache, self.s.alerts_per_min,
                                    self.seed, MODEL_GRID[: self.s.model_configs])
                pair = built.model.score_pairs if built.model.pair is not None else None
                scorer = Scorer("model", built.window, built.threshold, built.score, pair,
                                int(round(built.calibration["hold_s"] * FPS)))
                self._built[key] = (scorer, {**built.selection, "calm_score_quantiles":
                                             built.calibration["calm_score_quantiles"]})
            elif kind == "kinematic_head":
                built = select_and_build(train, self.procedural, self.head_cache, self.s, self.seed)
                self._built[key] = (Scorer("kinematic_head", built.window, built.threshold, head_score(built.head)),
                                    built.selection)
            else:
                self._built[key] = (speed_scorer([c for c in train if not c.violent], self.s.alerts_per_min), {})
        return self._built[key]


def calm_alerts(scorer: Scorer, data: StudyData, source: str,
                scans: list[CalmScan] | None = None) -> tuple[int, float]:
    """``(alerts, minutes)`` of ``scorer`` on the calm motion of ``source`` (every split;
    ``scans``: that motion already scanned by ``scorer``, :func:`calm_scans`)."""
    if source == "utkinect":
        items = [sequence_result(scorer, [(c.joints, [])])["sequences"][0] for c in data.utk_sequences]
        return sum(i["counts"]["alerts"] for i in items), sum(i["minutes"] for i in items)
    scans = calm_scans(scorer, data, source) if scans is None else scans
    return (sum(count_alerts(x, scorer.window, scorer.threshold, scorer.hold) for x in scans),
            sum(x.frames for x in scans) / FPS / 60.0)


def run_detection_study(data: StudyData, s: DetectionSettings) -> tuple[dict[str, list], dict[str, Any]]:
    """Every protocol for the three scorers (module docs). Returns ``(curves, result)``:
    per clip protocol ``(label, scores, truth)`` for PR curves, and the JSON result."""
    t0 = time.time()
    head_cache, model_cache = TableCache(), ModelCache()
    test_all = data.clips("test", SOURCES)
    clip_sets: dict[str, tuple[str | None, list]] = {"in_domain": (None, test_all)}
    for held in VIOLENT_SOURCES:
        clip_sets[f"loso_{held}"] = (held, held_out_items(data, held))
    if data.deepmimic:
        clip_sets["deepmimic"] = (None, data.deepmimic)
    scene_sets: dict[str, tuple[str | None, list]] = {}
    if data.sbu:
        scene_sets["loso_sbu_kinect"] = (PAIR_SOURCE, held_out_items(data, PAIR_SOURCE))
        scene_sets["sbu_pairs"] = (None, [p for p in data.sbu if p.split == "test"])
    calm_sources = [x for x in SOURCES + ((PAIR_SOURCE,) if data.sbu else ())]
    runs: dict[str, dict[str, dict[str, list]]] = {k: {} for k in KINDS}
    for seed in tqdm(s.seeds, desc="detection study (seeds)", disable=not s.progress):
        det = Detectors(data, s, seed, head_cache, model_cache)
        sequences = real_sequences(test_all, s, seed)
        for kind in KINDS:
            out = runs[kind]

            def add(name: str, key: str, value: Any) -> None:
                out.setdefault(name, {}).setdefault(key, []).append(value)

            for name, (excluded, items) in list(clip_sets.items()) + list(scene_sets.items()):
                scorer, selection = det.get(kind, excluded)
                scores = scorer.clip_scores(items) if name in clip_sets else scene_scores(scorer, items)
                add(name, "scores", scores)
                add(name, "thresholds", scorer.threshold)
                add(name, "selection", selection)
            utk_scorer, _ = det.get(kind, "utkinect")
            add("utkinect_sequences", "runs", sequence_result(utk_scorer, [(c.joints, []) for c in data.utk_sequences]))
            add("real_sequences", "runs", sequence_result(det.get(kind, None)[0], sequences))
            calm: dict[str, list[CalmScan]] = {}  # each source's calm motion, scanned once per scorer
            for source in calm_sources:
                scorer = det.get(kind, source)[0]
                if source != "utkinect":  # UTKinect's calm motion is its long sequences, scanned as such
                    calm[source] = calm_scans(scorer, data, source)
                add("calm_sources", source, calm_alerts(scorer, data, source, calm.get(source)))
            for source in VIOLENT_SOURCES + ((PAIR_SOURCE,) if data.sbu else ()):
                scorer = det.get(kind, source)[0]  # the loso_{source} scorer: its scores are reused
                items = held_out_items(data, source)
                scores = out[f"loso_{source}"]["scores"][-1]
                truth = np.array([x.violent for x in items])
                test = np.array([x.split == "test" for x in items])
                add("site_calibrated", source, site_run(scorer, data, source, s.alerts_per_min, scores[test],
                                                        truth[test]))
                add("ceiling", source, ceiling_run(scorer, calm[source], scores[truth]))
    protocols = {kind: assemble(runs[kind], data, clip_sets, scene_sets, s, kind) for kind in KINDS}
    result_protocols = dict(protocols["model"])
    result_protocols["kinematic_head"] = {"kind": "baseline", "protocols": protocols["kinematic_head"]}
    result_protocols["speed_baseline"] = {"kind": "baseline", "protocols": protocols["speed_baseline"]}
    curves: dict[str, list[tuple[str, np.ndarray, np.ndarray]]] = {}
    for name, (_, items) in clip_sets.items():
        truth = np.array([c.violent for c in items])
        curves[name] = [(f"{label} (seed {s.seeds[0]})", runs[kind][name]["scores"][0], truth)
                        for kind, label in (("model", "model"), ("kinematic_head", "kinematic head"),
                                            ("speed_baseline", "speed baseline"))]
    return curves, {"protocols": result_protocols, "settings": asdict(s), "notes": data.notes,
                    "machine": machine_info(), "seeds": list(s.seeds), "seconds": round(time.time() - t0, 1)}


def assemble(run: dict[str, dict[str, list]], data: StudyData, clip_sets: dict, scene_sets: dict,
             s: DetectionSettings, kind: str) -> dict[str, Any]:
    """The JSON block of one scorer: metrics over seeds for every protocol."""
    out: dict[str, Any] = {}
    sources = {"in_domain": list(SOURCES), **{f"loso_{h}": [x for x in SOURCES if x != h] for h in VIOLENT_SOURCES}}
    for name, (_, items) in list(clip_sets.items()) + list(scene_sets.items()):
        r = run[name]
        truth = np.array([c.violent for c in items])
        row: dict[str, Any] = {"kind": "clips", **clip_metrics(r["scores"], truth, r["thresholds"], s)}
        if kind != "speed_baseline":
            row["selection_per_seed"] = r["selection"]
        if name in scene_sets:
            labels = np.array([p.label for p in items])
            contact = np.isin(labels, CALM_CONTACT)
            alerted = [sc >= t for sc, t in zip(r["scores"], r["thresholds"])]
            row["n_contact"] = int(contact.sum())
            row["contact_alerted_per_seed"] = [int(a[contact].sum()) for a in alerted]
            row["contact_alerted"] = float(np.mean(row["contact_alerted_per_seed"]))
            row["alert_rate_per_class"] = {str(c): float(np.mean([a[labels == c].mean() for a in alerted]))
                                           for c in sorted(set(labels))}
            row["clips_per_class"] = {str(c): int((labels == c).sum()) for c in sorted(set(labels))}
            records = [sel.get("pair_training", {}).get("weighting", {}).get("validation_by_class")
                       for sel in r["selection"]] if kind == "model" else []
            if records and all(records):
                row["pair_validation_by_class"] = mean_by_class(records)
        row["trained_on"] = ["procedural"] + sources.get(name, [x for x in SOURCES]) + (
            [PAIR_SOURCE + " (train pairs)"] if name not in ("loso_sbu_kinect",) and kind == "model" else [])
        out[name] = row
    out["utkinect_sequences"] = {"kind": "sequences", **sequence_metrics(run["utkinect_sequences"]["runs"], s)}
    out["real_sequences"] = {"kind": "sequences", **sequence_metrics(run["real_sequences"]["runs"], s)}
    calm: dict[str, Any] = {}
    for source, values in run["calm_sources"].items():
        alerts = [a for a, _ in values]
        minutes = values[0][1]
        calm[source] = {"false_alerts_per_min": float(np.mean(alerts) / minutes) if minutes else None,
                        "false_alerts_per_min_per_seed": [a / minutes for a in alerts] if minutes else [],
                        "alerts_per_seed": alerts, "minutes": minutes,
                        "false_alerts_per_min_ci": poisson_ci(int(sum(alerts)), minutes * len(alerts))}
    out["site_calibrated"] = assemble_site(run["site_calibrated"], s)
    out["ceiling"] = assemble_ceiling(run["ceiling"])
    out["calm_sources"] = {"kind": "calm_sources", "sources": calm,
                           "rule": "each source's calm motion scanned by a detector built without that source"}
    return out


def mean_by_class(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The seeds' ``validation_by_class`` records of the pair network (``model_fit.by_class``:
    out-of-fold scores of the real training scenes), averaged over seeds."""
    mean = lambda values: float(np.mean(values))  # noqa: E731
    return {"auroc_against": {c: mean([x["auroc_against"][c] for x in records]) for c in records[0]["auroc_against"]},
            "violent_above_every_calm": mean([x["violent_above_every_calm"] for x in records]),
            "violent_above_every_calm_but_contact": mean([x["violent_above_every_calm_but_contact"] for x in records]),
            "scenes": records[0]["scenes"], "contact_classes": records[0]["contact_classes"], "seeds": len(records),
            "rule": "out-of-fold scores of SBU's training scenes (3 folds by participant set), pair network only; "
                    "a validation record, nothing is chosen from it"}
