"""The KineMIC augmentation study (docs/kinemic.md), rendered from ``kinemic-eval``'s results.

``kinemic-eval -o DIR`` writes ``DIR/results.json`` (per target dataset, one entry per
seed) and ``DIR/tables.md`` (:func:`motionvigil.studies.kinemic_augment.summarise`). A doc
quotes them through blocks of kind ``kinemic`` whose first argument names the part:

    <!-- kinemic:start tables results/kinemic/eval_msr.json -->
    ...
    <!-- kinemic:end -->

the tables of ``tables.md`` (the same ``summarise`` call, so they cannot drift from what
the study writes), each preceded by a one-line caption with the seeds and counts; and

    <!-- kinemic:start summary results/kinemic/eval_msr.json -->
    ...
    <!-- kinemic:end -->

a bullet list of the figures the doc's prose discusses (the change that each synthetic
set brings over real data alone and in how many seeds, generation quality, mining
cosines, the largest per-class changes, violent-class confusions, run times), all
computed from the same file.

``results.json`` is written with one number per line (a ``mocap_violence`` run of 5 seeds
is about half a megabyte, mostly its 44 x 44 confusion matrices), so the copy kept in
git is made by ``python -m motionvigil.report.kinemic compact SRC DST``: the same JSON
(loads to an equal object), each list of numbers (a confusion row, a caption with its
cosine) on one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from motionvigil.atomic import write_text_atomic
from motionvigil.datasets.violence import is_violent
from motionvigil.report.blocks import load_json, num
from motionvigil.studies.kinemic_augment import CONDITIONS, GENERATORS, summarise

AUGMENTED = tuple(c for c in CONDITIONS if c.startswith("real+"))


def _seeds(runs: list[dict]) -> str:
    seeds = sorted(r["seed"] for r in runs)
    listed = f"{seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2 \
        else ", ".join(map(str, seeds))
    return f"{len(runs)} seed{'s' if len(runs) != 1 else ''} ({listed})"


def _captions(result: dict, spec: str, runs: list[dict]) -> dict[str, str]:
    """Caption of each table of ``summarise``'s output, keyed by the start of its header row."""
    s, r0 = result["settings"], runs[0]
    seeds, test = _seeds(runs), r0["test_clips"]
    return {
        "| training data |": (
            f"Classifier on `{spec}`: Top-1 and mAP on its {test} test clips ({r0['classes']} classes), "
            f"mean ± population std over {seeds}; the head is trained on the {s['shots']} real clips per class "
            f"({r0['real_samples']} clips), on {s['per_class']} generated clips per class from one generator, "
            f"or on both."),
        "| set |": (
            f"Generation quality on `{spec}`, mean ± std over {seeds}: FID, diversity and multimodality against "
            f"the {test} real test clips in the TMR encoder's space; real-classifier Top-1 = a head trained on "
            f"all real training clips applied to the set; the last row describes the real test clips."),
        "| class |": (
            f"Per-class Top-1 on `{spec}` ({r0['classes']} classes), mean over {seeds}."),
        "| source |": (
            f"Top-1 per source dataset of the pooled `{spec}` test split ({test} clips), "
            f"mean ± std over {seeds}."),
    }


def _targets(files: list[str], root: Path):
    """``(file name, results, target spec, runs)`` for every target dataset with runs in ``files``."""
    for name in files:
        result = load_json(root, name)
        for spec, runs in result["datasets"].items():
            if runs:
                yield name, result, spec, runs


def _joined(lines: list[str]) -> str:
    """``lines`` as one text, without trailing blank lines."""
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def render_tables(files: list[str], root: Path) -> str:
    """``kinemic tables FILE...``: the study's tables of each results file, captioned."""
    out: list[str] = []
    for name, result, spec, runs in _targets(files, root):
        captions = _captions(result, spec, runs)
        text = summarise({"datasets": {spec: runs}})
        for line in text.splitlines():
            if line.startswith("### "):
                out.append(f"**{line[4:]}**, from `{name}`.")
                continue
            caption = next((c for head, c in captions.items() if line.startswith(head)), None)
            if caption:
                out += [caption, ""]
            out.append(line.replace("summed over seeds", f"summed over {_seeds(runs)}"))
    return _joined(out)


# --------------------------------------------------------------------------- summary


def _points(v: float) -> str:
    return f"{100 * v:+.1f}"


def _mean(runs: list[dict], *path: str) -> float:
    vals = []
    for r in runs:
        node = r
        for p in path:
            node = node[p]
        vals.append(float(node))
    return float(np.nanmean(vals))


def _classifier_lines(runs: list[dict]) -> list[str]:
    n = len(runs)
    top1 = {c: _mean(runs, "classification", c, "top1") for c in CONDITIONS}
    m_ap = {c: _mean(runs, "classification", c, "mAP") for c in CONDITIONS}
    lines = [f"- real only: Top-1 {num(top1['real'])}, mAP {num(m_ap['real'])} (chance Top-1 "
             f"{num(1 / runs[0]['classes'])})."]
    for c in AUGMENTED:
        diffs = [r["classification"][c]["top1"] - r["classification"]["real"]["top1"] for r in runs]
        better, worse = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
        lines.append(f"- {c}: Top-1 {num(top1[c])} ({_points(top1[c] - top1['real'])} points; above real only in "
                     f"{better} of {n} seeds, below in {worse}), mAP {num(m_ap[c])} "
                     f"({_points(m_ap[c] - m_ap['real'])} points).")
    lines.append("- synthetic clips alone: " + ", ".join(f"{g} Top-1 {num(top1[g])}" for g in GENERATORS) + ".")
    return lines


def _quality_lines(runs: list[dict]) -> list[str]:
    q = {g: {k: _mean(runs, "quality", g, k) for k in
             ("fid", "diversity_gen", "real_classifier_top1", "foot_skate_mps", "joint_speed_p95_mps",
              "bone_length_cv")} for g in ("real_fewshot", *GENERATORS)}
    rt = runs[0]["quality"]["real_test"]
    div_real = _mean(runs, "quality", "real_fewshot", "diversity_real")
    gens = GENERATORS
    return [
        "- FID to the real test clips: " + ", ".join(f"{g} {num(q[g]['fid'], 1)}" for g in gens)
        + f" (the real few-shot clips: {num(q['real_fewshot']['fid'], 1)}).",
        "- real-classifier Top-1 of the generated clips: " + ", ".join(
            f"{g} {num(q[g]['real_classifier_top1'])}" for g in gens)
        + f" (real test clips: {num(rt['real_classifier_top1'])}).",
        "- diversity: " + ", ".join(f"{g} {num(q[g]['diversity_gen'], 2)}" for g in gens)
        + f" (real test clips: {num(div_real, 2)}); p95 joint speed (m/s): "
        + ", ".join(f"{g} {num(q[g]['joint_speed_p95_mps'], 2)}" for g in gens)
        + f" (real test clips: {num(rt['joint_speed_p95_mps'], 2)}).",
        "- foot skate (m/s): " + ", ".join(f"{g} {num(q[g]['foot_skate_mps'], 2)}" for g in gens)
        + f" (real test clips: {num(rt['foot_skate_mps'], 2)}); bone-length CV: "
        + ", ".join(f"{g} {num(q[g]['bone_length_cv'])}" for g in gens)
        + f" (real test clips: {num(rt['bone_length_cv'])}).",
    ]


def _per_class_lines(runs: list[dict], count: int = 5, least: float = 0.05) -> list[str]:
    classes = runs[0]["classes_list"]
    delta = {c: float(np.nanmean([r["per_class_top1"]["real+kinemic"][c] for r in runs])
                      - np.nanmean([r["per_class_top1"]["real"][c] for r in runs])) for c in classes}
    order = sorted(classes, key=lambda c: delta[c])
    gained = [c for c in reversed(order) if delta[c] >= least][:count]
    lost = [c for c in order if delta[c] <= -least][:count]
    fmt = lambda cs: ", ".join(f"`{c}` {delta[c]:+.2f}" for c in cs) or "none"  # noqa: E731
    return [f"- per-class Top-1, real+kinemic minus real (changes of at least {least:.2f}, largest "
            f"{count}): gained {fmt(gained)}; lost {fmt(lost)}."]


def _confusion_lines(runs: list[dict]) -> list[str]:
    """Per violent class: right, sent to each other violent class (only those that ever got
    one), sent to a non-violent class, per training set, summed over seeds."""
    classes = runs[0]["classes_list"]
    violent = [i for i, c in enumerate(classes) if is_violent(c)]
    if not violent or not runs[0]["confusion"]:
        return []
    names = list(runs[0]["confusion"])
    full = {k: np.sum([np.asarray(r["confusion"][k]) for r in runs], axis=0) for k in names}
    lines = []
    for i in violent:
        total = int(full[names[0]][i].sum())
        others = [j for j in violent if j != i and any(full[k][i, j] for k in names)]
        cells = []
        for k in names:
            to_violent = "".join(f", {int(full[k][i, j])} as `{classes[j]}`" for j in others)
            non_violent = int(full[k][i].sum() - full[k][i, violent].sum())
            cells.append(f"{k} {int(full[k][i, i])} right{to_violent}, {non_violent} as a non-violent class")
        lines.append(f"- `{classes[i]}` test clips ({total} predictions over {len(runs)} seeds): "
                     + "; ".join(cells) + ".")
    return lines


def _mining_lines(runs: list[dict]) -> list[str]:
    cos = [r["mining"]["window_cosine_mean"] for r in runs]
    lines = [f"- mined windows: mean best-window cosine to the shots (TMR space) {num(float(np.mean(cos)), 2)} "
             f"(per seed {num(min(cos), 2)} to {num(max(cos), 2)}); {runs[0]['mining']['windows']} windows per seed."]
    tops = runs[0]["mining"]["top_captions"]
    violent = [c for c in runs[0]["classes_list"] if is_violent(c) and tops.get(c)]
    if violent:
        lines.append("- top mined captions of the violent classes (sentence cosine to the class description): "
                     + "; ".join(f"`{c}`: " + ", ".join(f"\"{cap}\" {num(s, 2)}" for cap, s in tops[c])
                                 for c in violent) + ".")
    return lines


def _group_lines(runs: list[dict]) -> list[str]:
    if not runs[0].get("group_top1"):
        return []
    groups = sorted(runs[0]["group_top1"]["real"])
    return ["- Top-1 per source, real -> real+kinemic: " + ", ".join(
        f"{g} {num(_mean(runs, 'group_top1', 'real', g))} -> {num(_mean(runs, 'group_top1', 'real+kinemic', g))}"
        for g in groups) + "."]


def _time_lines(runs: list[dict]) -> list[str]:
    return [f"- time per seed: mining + KineMIC fine-tuning {num(_mean(runs, 'seconds_finetune'), 0)} s; sampling of "
            f"the three generators + naive fine-tuning {num(_mean(runs, 'seconds_generate'), 0)} s (mean over "
            f"{len(runs)} seeds; `seconds_finetune` and `seconds_generate` in the results file)."]


def render_summary(files: list[str], root: Path) -> str:
    """``kinemic summary FILE...``: the figures the prose discusses, per target dataset."""
    out: list[str] = []
    for name, _, spec, runs in _targets(files, root):
        out += [f"`{spec}` ({_seeds(runs)}, `{name}`):", ""]
        for part in (_classifier_lines, _quality_lines, _mining_lines, _per_class_lines, _group_lines,
                     _confusion_lines, _time_lines):
            out += part(runs)
        out.append("")
    return _joined(out)


PARTS = {"tables": render_tables, "summary": render_summary}


def render_files(args: list[str], root: Path) -> str:
    """The ``kinemic`` block: ``tables FILE...`` or ``summary FILE...``."""
    if len(args) < 2 or args[0] not in PARTS:
        raise ValueError(f"kinemic block takes {' or '.join(PARTS)} and results files, got {' '.join(args)!r}")
    return PARTS[args[0]](args[1:], root)


def _scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list))


def compact_json(node: Any, level: int = 0) -> str:
    """``node`` as JSON indented by one space per level, except that a list of scalars
    (a confusion row, a caption with its cosine) stays on one line."""
    pad, inner = " " * level, " " * (level + 1)
    if isinstance(node, dict) and node:
        items = [f"{inner}{json.dumps(k)}: {compact_json(v, level + 1)}" for k, v in node.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(node, list) and node and not all(map(_scalar, node)):
        return "[\n" + ",\n".join(f"{inner}{compact_json(v, level + 1)}" for v in node) + f"\n{pad}]"
    return json.dumps(node, separators=(",", ":"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motionvigil.report.kinemic",
                                description="the copy of a kinemic-eval results.json kept under results/")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compact", help="rewrite SRC to DST with each list of numbers on one line")
    c.add_argument("src")
    c.add_argument("dst")
    args = p.parse_args(argv)
    data = json.loads(Path(args.src).read_text(encoding="utf-8"))
    text = compact_json(data) + "\n"
    if json.loads(text) != data:  # NaN != NaN: compare the re-encoded text instead
        if json.dumps(json.loads(text)) != json.dumps(data):
            print(f"{args.src}: compact copy differs from the original", file=sys.stderr)
            return 1
    write_text_atomic(Path(args.dst), text)
    return 0


__all__ = ["compact_json", "render_files", "render_summary", "render_tables"]


if __name__ == "__main__":
    sys.exit(main())
