"""``motionvigil demo``: the main job, end to end, with one self-contained HTML report.

On the built-in procedural corpus (``--data procedural``, the default) or on real data
(``--data mocap_violence[:ROOT]``):

1. load the data and split it train / validation / test (subject-disjoint test split);
2. pre-train the ``tiny`` TMR motion-text model on the training split's captions
   (class-label captions ``"a person {label}"`` where a dataset has no free text);
3. meta-train the encoder with first-order MAML (violence-aware episodes, training split);
4. evaluate on the test split: episodic N-way K-shot rows (prototypes of the pre-trained
   encoder "TMR" vs MAML-adapted "MAML", as Table 1 of the study) and, within budget,
   global rows (as Table 2); t-SNE of test embeddings before / after adaptation;
5. build a violence detector (MAML initialisation adapted on K support clips per class
   from the training split, F1 threshold on leave-one-out support scores);
6. run it over a long multi-action motion (synthetic: one generated sequence of a test
   subject's body; real: test clips stitched end to end) and compare its alert segments
   with the true segments;
7. write ``OUT/report_<data>.html`` (figures embedded) plus tables, JSON and the models
   under ``OUT/<data>/``.

Everything made from the procedural corpus carries "synthetic" in its file names and
headings. ``--quick`` shrinks every step (for tests); the default sizes take well under
10 minutes on 2 CPU cores (see ``FULL``).

The pipeline (data, training, evaluation, detector, long motion) is in
:mod:`motionvigil.studies.demo`; this module runs its steps in order, draws the figures
and writes the report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from motionvigil.atomic import write_text_atomic
from motionvigil.cache_dir import cache_root
from motionvigil.data_root import default_data_root
from motionvigil.datasets.select import parse_data_spec
from motionvigil.detect import Timeline, detect_motion, timeline_json
from motionvigil.fewshot.adaptation import AdaptSettings
from motionvigil.io import SMPL22
from motionvigil.io.motion import Motion
from motionvigil.metrics.classification import format_mean_std, vdr_fpr_at_threshold
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.text import TextEmbeddingCache
from motionvigil.report import html as H
from motionvigil.report.figures import ScoreSet, animate_skeleton, plot_pr_curves, plot_timeline_with_truth
from motionvigil.studies.demo import (
    FULL,
    OMITTED_SUPERVISED,
    QUICK,
    PROCEDURAL,
    DemoData,
    DemoSettings,
    build_detector,
    clip_violence_scores,
    episodic_protocol,
    global_rows,
    headline,
    load_data,
    metatrain,
    pretrain,
    tsne_class_indices,
    write_table,
)
from motionvigil.studies.demo_long_motion import (
    MATCH_RULE,
    describe_match,
    LongMotion,
    operating_point,
    overlap,
    match_alerts,
    real_long_motion,
    synthetic_long_motion,
    window_truth,
)
from motionvigil.studies.fewshot_protocols import TABLE_HEADERS, TABLE_KEYS, run_episodic
from motionvigil.studies.front_end import builtin_detector_rows, front_end_rows
from motionvigil.training.runtime import Runtime, resolve_device

def tsne_figures(pre: MotionTextBundle, maml: MotionTextBundle, data: DemoData, work: Path,
                 s: DemoSettings) -> list[Path]:
    from motionvigil.report.tsne import tsne_before_after

    classes = tsne_class_indices(data, s.tsne_classes)
    if len(classes) < 2:
        return []
    paths = tsne_before_after(pre, maml, data.train, data.test, work, classes, shots=s.detector_shots, seed=s.seed)
    named = []
    for p in paths:  # tsne_before.png -> tsne_before_synthetic.png
        target = p.with_name(f"{p.stem}_{data.tag}.png")
        os.replace(p, target)
        named.append(target)
    return named



def alert_animations(tl: Timeline, long: LongMotion, work: Path, tag: str, limit: int) -> list[tuple[Path, str]]:
    """A GIF of the highest-scoring window of each of the first ``limit`` alert segments."""
    gifs = []
    for i, a in enumerate(tl.alerts[:limit]):
        inside = [w for w in tl.windows if w.alert and a.start_s <= w.start_s and w.end_s <= a.end_s + 1e-9]
        peak = max(inside, key=lambda w: w.violence) if inside else None
        t0, t1 = (peak.start_s, peak.end_s) if peak else (a.start_s, a.end_s)
        seg = long.joints[int(round(t0 * 20)) : int(round(t1 * 20))]
        if len(seg) < 2:
            continue
        truth = ", ".join(t.label for t in long.truth if overlap(t0, t1, t.start_s, t.end_s) > 0.5)
        path = animate_skeleton(seg, work / f"alert_{i + 1}_{tag}.gif", f"{a.top_class}? {t0:.1f}-{t1:.1f} s")
        gifs.append((path, f"alert {i + 1} ({tag}): its peak window {t0:.1f}-{t1:.1f} s, detected as "
                           f"{a.top_class}; truth: {truth or '-'}"))
    return gifs



# --------------------------------------------------------------------------- report


def _metric_table(rows: list[dict], lead: tuple[str, ...], caption: str) -> H.Table:
    out = []
    for r in rows:
        if "skipped" in r:
            out.append([*(str(r.get(k, "")) for k in lead), *(["n/a"] * len(TABLE_KEYS))])
            continue
        out.append([*(str(r.get(k, "")) for k in lead),
                    *(format_mean_std(r[k], r.get(f"{k}_std")) if k in r else "n/a" for k in TABLE_KEYS)])
    return H.Table([*lead, *TABLE_HEADERS], out, caption)



def _num(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _fmt_s(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s" if m else f"{seconds:.1f} s"


def builtin_section(ctx: dict) -> H.Section:
    """First section: the built-in detector on real files, before any training."""
    rows = ctx["builtin"]
    blocks: list = [H.Text("The detector that ships with motionvigil (docs/model_card.md), run on one real file per "
                           "format from the shared data before anything is trained: `motionvigil detect FILE`.")]
    if ctx["builtin_missing"]:
        blocks.append(H.Note(f"Built-in detector not available: {ctx['builtin_missing']}"))
    elif rows:
        blocks.append(H.Table(["format", "file", "duration (s)", "windows", "highest violence", "alerts", "time (s)"],
                              [[r["format"], r["file"], r["duration_s"], r["windows"], r["max_violence"],
                                "; ".join(r["alerts"]) or "none", r["seconds"]] for r in rows]))
    else:
        blocks.append(H.Note(f"No sample files found under {ctx['front_end_root']}."))
    return H.Section("The built-in detector on real files, before any training", blocks)


def build_sections(ctx: dict) -> list[H.Section]:
    data: DemoData = ctx["data"]
    s: DemoSettings = ctx["settings"]
    tag, det, tl = data.tag, ctx["detector"], ctx["timeline"]
    label = "SYNTHETIC data" if data.synthetic else "real data"
    match, head = ctx["match"], ctx["headline"]
    sections = [builtin_section(ctx)]

    counts = {"train": len(data.train_clips), "val": len(data.val_clips), "test": len(data.test_clips)}
    summary = [
        ("data", data.describe()),
        ("synthetic or real", "synthetic (procedural, generated by code)" if data.synthetic else "real"),
        ("classes", f"{len(data.classes)}; violent: {', '.join(data.violent_classes)}"),
        ("clips", ", ".join(f"{k} {v}" for k, v in counts.items()) + " (test subjects disjoint from training)"),
        ("model", f"tiny TMR motion-text model, {det.bundle.config.embed_dim}-dim embeddings"),
        ("settings", f"pre-training {s.pretrain_epochs} epochs; FOMAML {s.meta_iterations} iterations "
                     f"({s.ways}-way 5-shot violence-aware episodes); Table 1: {s.ways}-way "
                     f"{{{', '.join(map(str, s.shots))}}}-shot, {s.episodes} episodes, {s.queries} queries per class"
                     + ("" if not s.global_shots else f"; Table 2: {{{', '.join(map(str, s.global_shots))}}}-shot, "
                        f"{s.global_repeats} support draw(s)") + f"; detector {s.detector_shots}-shot"
                     + (" [--quick sizes]" if ctx["quick"] else "")),
        ("torch threads", torch.get_num_threads()),
        *((f"time: {k.replace('_s', '')}", _fmt_s(v)) for k, v in ctx["timings"].items()),
    ]
    if head:
        summary.append((f"headline ({head['config']})",
                        f"MAML mAP {head['MAML_mAP']:.3f}, VDR {head['MAML_VDR']:.3f}, FPR {head['MAML_FPR']:.3f} | "
                        f"prototypes (TMR) mAP {head['TMR_mAP']:.3f}, VDR {head['TMR_VDR']:.3f}, "
                        f"FPR {head['TMR_FPR']:.3f}"))
    summary.append(("long motion", f"{len(tl.alerts)} alert segment(s): {describe_match(match)}"))
    blocks: list = [H.KeyValues(summary)]
    if data.synthetic:
        blocks.insert(0, H.Note("Synthetic data: every number and figure here comes from the built-in procedural "
                                "corpus. It shows that the pipeline learns what the data allows; it is not evidence "
                                "about detecting real violence."))
    sections.append(H.Section(f"Summary ({label})", blocks))

    sections.append(H.Section(f"Table 1 ({tag}): episodic few-shot on the test split", [
        H.Text(f"{s.ways}-way K-shot episodes drawn from the test clips, {s.queries} queries per class, "
               f"{s.episodes} episodes per configuration, mean ± std over episodes. TMR = prototypes of the "
               "pre-trained encoder (0-shot: class-name text prototypes); MAML = the meta-trained initialisation "
               f"adapted on each episode's support set ({AdaptSettings().steps} inner steps), then prototypes. "
               "VDR / FPR at the F1-maximising threshold of each episode."),
        _metric_table(ctx["table1"], ("config", "model"), f"Table 1 ({tag})"),
    ]))

    t2: list = [H.Text(f"All {len(data.classes)} classes at once: K support clips per class from the training split, "
                       f"every labelled test clip is a query; mean ± std over {s.global_repeats} support draw(s)."
                       + (f" Supervised rows: the pre-trained encoder + an MLP head trained on all training clips "
                          f"(up to {s.supervised_epochs} epochs, early stopping on validation mAP), one run."
                          if s.supervised_epochs else ""))]
    if ctx["table2"]:
        t2.append(_metric_table(ctx["table2"], ("model",), f"Table 2 ({tag}, global)"))
    else:
        t2.append(H.Note("Global rows omitted in this run."))
    if not s.supervised_epochs:
        t2.append(H.Note(OMITTED_SUPERVISED.format(spec=data.spec)))
    sections.append(H.Section(f"Table 2 ({tag}): global evaluation", t2))

    if ctx["tsne"]:
        sections.append(H.Section(f"t-SNE of test embeddings ({tag})", [
            H.Text("Test clips of a few classes (violent ones as crosses, with their look-alikes), embedded by the "
                   f"pre-trained encoder and by the MAML initialisation after adapting on {s.detector_shots} "
                   "training clips per class."),
            H.Row([H.Figure(p, f"{'before' if 'before' in p.name else 'after'} adaptation ({tag})", width=520)
                   for p in ctx["tsne"]]),
        ]))

    pr = ctx["pr"]
    sections.append(H.Section(f"Precision-recall of the violence score ({tag})", [
        H.Text(("Violence score = the detector's kinematic violence head (probability that the window is "
                "violent; docs/detection.md); the prototypes name the violent class. " if det.head is not None else
                "Violence score = the highest cosine similarity to a violent class prototype of the detector. ") +
               "Curves over the single-label test clips (centre window) and over the windows of the long motion "
               "(a window is violent when at least half of it lies in a true violent segment); circles mark the "
               "detector's threshold; dotted lines are the chance level (share of violent items)."),
        H.Figure(ctx["pr_png"], f"precision-recall ({tag})", width=560),
        H.Table(["score set", "AP", "violent", "non-violent", "VDR at threshold", "FPR at threshold"],
                [[p["label"], _num(p["AP"]), p["positives"], p["negatives"], _num(p.get("VDR")), _num(p.get("FPR"))]
                 for p in pr]),
    ]))

    truth = ctx["long"].truth
    alert_rows = [[f"{a.start_s:.1f}", f"{a.end_s:.1f}", a.top_class, f"{a.max_score:.3f}", a.windows,
                   "yes" if ok else "no (false alert)"] for a, ok in zip(tl.alerts, match["alert_correct"])]
    found_iter = iter(match["found_mask"])
    truth_rows = [[t.label, f"{t.start_s:.1f}", f"{t.end_s:.1f}", "violent" if t.violent else "",
                   ("found" if next(found_iter) else "MISSED") if t.violent else ""] for t in truth]
    cal = det.calibration
    detector_kv = [("threshold", f"{det.threshold:.4f} on the violence score"), ("policy", det.policy),
                   ("calibrated on", f"{cal.get('scores', '')}: VDR {_num(cal.get('VDR'))}, "
                                     f"FPR {_num(cal.get('FPR'))}"),
                   ("windows", f"{det.window} frames ({det.window / 20:.1f} s) every {det.stride} frames "
                               f"({det.stride / 20:.1f} s)"),
                   ("alert classes", ", ".join(det.violent_classes))]
    blocks = [
        H.Text(f"The long motion: {ctx['long'].description}, {tl.duration_s:.1f} s, {len(tl.windows)} windows. "
               f"Matching: {MATCH_RULE}. {describe_match(ctx['match'])}."),
        H.Figure(ctx["timeline_png"], f"detection timeline of the long {tag} motion: violence score per window, "
                                      "alerts shaded red; ground truth below (violent segments in red)"),
        H.KeyValues(detector_kv, caption="detector"),
        H.Code(det.describe()),
        H.Row([H.Table(["start s", "end s", "class", "max score", "windows", "on a violent segment"], alert_rows,
                       f"alert segments ({len(alert_rows)})"),
               H.Table(["true segment", "start s", "end s", "", "detection"], truth_rows,
                       f"ground truth ({match['violent_segments']} violent)", highlight=[t.violent for t in truth])]),
    ]
    if ctx["gifs"]:
        blocks.append(H.Row([H.Figure(p, c) for p, c in ctx["gifs"]]))
    sections.append(H.Section(f"Detection on a long {tag} motion", blocks))

    fe = ctx["front_end"]
    fe_blocks: list = [H.Text("One real sample file per supported format, read, retargeted to SMPL-22 at 20 Hz, turned "
                              "into HumanML3D features and motion patches (the data front end; these files are not "
                              "used by the training above" + (" on synthetic data)." if data.synthetic else ")."))]
    if fe:
        keys = ["format", "file", "source_layout", "source_joints", "source_fps", "frames_20hz", "height_m",
                "left_femur_m", "motion_patches", "convert_seconds"]
        fe_blocks.append(H.Table(keys, [[r[k] for k in keys] for r in fe]))
    else:
        fe_blocks.append(H.Note(f"No sample files found under {ctx['front_end_root']}; section skipped."))
    sections.append(H.Section("Data front end (real sample files)", fe_blocks))

    files = sorted(str(p.relative_to(ctx["out"])) for p in ctx["work"].rglob("*")
                   if p.is_file() and not p.name.startswith(".") and "last" not in p.parts)
    sections.append(H.Section("Files", [H.Code("\n".join(files))]))
    return sections


# --------------------------------------------------------------------------- main


class _Steps:
    """Numbered step headers and wall-clock timings."""

    def __init__(self, total: int):
        self.total, self.n, self.timings = total, 0, {}
        self._name: str | None = None
        self._t = 0.0

    def start(self, key: str, text: str) -> None:
        self.stop()
        self.n += 1
        self._name, self._t = key, time.perf_counter()
        tqdm.write(f"[{self.n}/{self.total}] {text}")

    def stop(self) -> None:
        if self._name is not None:
            self.timings[f"{self._name}_s"] = time.perf_counter() - self._t
            self._name = None


def run_demo(out_dir: str | Path = "out/demo", data: str = PROCEDURAL, quick: bool = False,
             settings: DemoSettings | None = None, device: str = "cpu") -> dict:
    """Run the whole demo; returns the summary (also written as ``summary_<data>.json``)."""
    s = settings or (QUICK if quick else FULL)
    out = Path(out_dir)
    start = time.perf_counter()
    steps = _Steps(10)
    _, root = parse_data_spec(data)
    fe_root = Path(root) if root else default_data_root()
    steps.start("builtin", "the built-in detector, before any training, on one real file per format")
    builtin, builtin_missing = builtin_detector_rows(fe_root)
    for row in builtin:
        tqdm.write(f"    {row['format']}: {row['file']} ({row['duration_s']} s): max violence {row['max_violence']}, "
                   f"{len(row['alerts'])} alert(s) {'; '.join(row['alerts'])}")
    steps.start("data", f"loading {data}")
    d = load_data(data, s)
    tag = d.tag
    work = out / tag
    work.mkdir(parents=True, exist_ok=True)
    runtime = Runtime(resolve_device(device))
    text_cache = TextEmbeddingCache(cache_root() / "text")
    tqdm.write(f"    {d.describe()}; train {len(d.train_clips)}, val {len(d.val_clips)}, test {len(d.test_clips)} clips")

    steps.start("pretrain", f"pre-training the tiny TMR model ({s.pretrain_epochs} epochs, {tag} training split)")
    pre = pretrain(d, work, s, runtime, text_cache)
    steps.start("meta_train", f"meta-training FOMAML ({s.meta_iterations} iterations)")
    maml = metatrain(d, work, s, runtime)

    steps.start("table1", f"Table 1: {s.ways}-way {{{', '.join(map(str, s.shots))}}}-shot, {s.episodes} episodes each")
    table1 = run_episodic(pre, maml, d.test, episodic_protocol(s), text_cache, AdaptSettings())
    write_table(work, f"table1_{tag}", table1, ("config", "model"),
                f"Table 1 ({tag}): episodic few-shot, mean ± std over {s.episodes} episodes")
    steps.start("table2", "Table 2: global rows" + (" + supervised baselines" if s.supervised_epochs else ""))
    table2 = global_rows(pre, maml, d, work, s, text_cache)
    if table2:
        write_table(work, f"table2_{tag}", table2, ("model",), f"Table 2 ({tag}): global evaluation")

    steps.start("tsne", "t-SNE before / after adaptation")
    tsne = tsne_figures(pre, maml, d, work, s)

    steps.start("detect", f"building the detector ({s.detector_shots}-shot, adapted) and running it on a long motion")
    detector = build_detector(maml, d, s)
    detector.save(work / f"detector_{tag}")
    long = synthetic_long_motion(d, s) if d.synthetic else real_long_motion(d, s)
    motion = Motion(long.joints, 20.0, SMPL22, source=f"long_motion_{tag}")
    tl = detect_motion(detector, motion)
    match = match_alerts(tl, long.truth)
    tl_json = timeline_json(tl, file=f"long_motion_{tag}")
    tl_json["truth"] = [dataclasses.asdict(t) for t in long.truth]
    tl_json["match"] = {k: v for k, v in match.items() if not k.endswith(("_mask", "_correct"))}
    write_text_atomic(work / f"timeline_{tag}.json", json.dumps(tl_json, indent=2))
    write_text_atomic(work / f"alerts_{tag}.json", json.dumps(
        {"alerts": tl_json["alerts"], "truth": tl_json["truth"], "match": tl_json["match"],
         "threshold": detector.threshold, "policy": detector.policy}, indent=2))
    np.save(work / f"long_motion_{tag}.npy", long.joints)
    timeline_png = plot_timeline_with_truth(tl, long.truth, work / f"timeline_{tag}.png",
                                            f"violence detection on a long {tag} motion ({tl.duration_s:.0f} s)")

    steps.start("figures", "precision-recall curves, animations")
    clip_scores, clip_truth = clip_violence_scores(detector, d)
    win_scores = np.array([w.violence for w in tl.windows])
    win_truth = window_truth(tl, long.truth)
    sets = [ScoreSet(f"{tag} test clips", clip_scores, clip_truth), ScoreSet(f"long {tag} motion windows",
                                                                            win_scores, win_truth)]
    points = [(f"threshold, {st.label}", *operating_point(st.scores, st.truth, detector.threshold)) for st in sets]
    pr_png = work / f"pr_curve_{tag}.png"
    pr = plot_pr_curves(sets, pr_png, f"violence score, {tag} data", points)
    for p, st in zip(pr, sets):
        p.update({k: v for k, v in vdr_fpr_at_threshold(st.scores, st.truth, detector.threshold).items()
                  if k in ("VDR", "FPR")})
    gifs = alert_animations(tl, long, work, tag, s.animations)
    front_end = front_end_rows(fe_root)

    steps.start("report", "writing the report")
    steps.timings["total_s"] = time.perf_counter() - start
    head = headline(table1)
    ctx = {"data": d, "settings": s, "quick": quick, "detector": detector, "timeline": tl, "match": match,
           "headline": head, "timings": dict(steps.timings), "table1": table1, "table2": table2, "tsne": tsne,
           "pr": pr, "pr_png": pr_png, "timeline_png": timeline_png, "long": long, "gifs": gifs,
           "front_end": front_end, "front_end_root": fe_root, "out": out, "work": work,
           "builtin": builtin, "builtin_missing": builtin_missing}
    title = f"motionvigil demo report: {tag} data" + (" (procedural, not motion capture)" if d.synthetic
                                                      else " (real motion capture)")
    report = out / f"report_{tag}.html"
    H.write_report(report, build_sections(ctx), title,
                   f"few-shot violence detection, end to end on {d.describe()}")
    steps.stop()
    steps.timings["total_s"] = time.perf_counter() - start

    summary = {
        "data": data, "synthetic": d.synthetic, "report": str(report), "quick": quick,
        "settings": dataclasses.asdict(s), "timings": steps.timings, "headline": head,
        "long_motion": {"duration_s": tl.duration_s, "segments": len(long.truth),
                        **{k: v for k, v in match.items() if not k.endswith(("_mask", "_correct"))}},
        "detector": {"threshold": detector.threshold, "policy": detector.policy},
        "pr": pr, "torch_threads": torch.get_num_threads(), "builtin_detector": builtin,
    }
    write_text_atomic(work / f"summary_{tag}.json", json.dumps(summary, indent=2, default=float))
    print_summary(summary, d, s)
    return summary


def print_summary(summary: dict, d: DemoData, s: DemoSettings) -> None:
    label = f"{d.tag} data" + (" (SYNTHETIC: not evidence about real violence)" if d.synthetic else "")
    lines = [f"\nmotionvigil demo on {label}: done in {_fmt_s(summary['timings']['total_s'])}"]
    h = summary["headline"]
    if h:
        lines.append(f"  Table 1 {h['config']} ({s.episodes} episodes): "
                     f"MAML mAP {h['MAML_mAP']:.3f} VDR {h['MAML_VDR']:.3f} FPR {h['MAML_FPR']:.3f} | "
                     f"prototypes mAP {h['TMR_mAP']:.3f} VDR {h['TMR_VDR']:.3f} FPR {h['TMR_FPR']:.3f}")
    lm = summary["long_motion"]
    lines.append(f"  long motion ({lm['duration_s']:.1f} s, {lm['segments']} segments): {describe_match(lm)} "
                 f"(threshold {summary['detector']['threshold']:.3f}, {summary['detector']['policy']}; "
                 f"{MATCH_RULE})")
    lines.append(f"  report: {summary['report']}")
    print("\n".join(lines))


__all__ = ["FULL", "QUICK", "DemoSettings", "run_demo"]
