"""The augmentation study: does KineMIC synthesis help a few-shot classifier?

Per target dataset and seed:

1. ``shots`` real training clips per class (``kinemic.few_shot_sample``);
2. three synthetic sets of ``per_class`` clips per class: the plain text-to-motion prior
   prompted with the class description ("prior"), naive LoRA fine-tuning on the shots
   alone ("naive": no mined windows, no contrastive term) and the KineMIC generator
   (LoRA fine-tuned on the shots + mined windows + contrastive term, "kinemic");
3. the same classifier (the supervised baseline's MLP head on the frozen pre-trained
   encoder's embeddings, fixed epochs, no model selection) trained on real only,
   synthetic only and real + synthetic, scored on the full test split (Top-1, mAP);
4. generation quality against the real test clips in the encoder's space (FID,
   diversity, multimodality), Top-1 of a head trained on all real training clips
   applied to the generated clips, and kinematic plausibility (bone-length variation,
   foot skating, joint speeds) of generated vs real motion.

Results are written after every seed (``results.json``, ``tables.md``, atomically).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from motionvigil.atomic import write_text_atomic
from motionvigil.datasets.clip import Clip
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.violence import is_violent
from motionvigil.errors import MotionFileError
from motionvigil.kinemic.finetune import FinetuneSettings
from motionvigil.kinemic.generate import generate_clips
from motionvigil.kinemic.model import SynthesisModel
from motionvigil.kinemic.pipeline import MiningSettings, build_generator, few_shot_sample
from motionvigil.kinemic.quality import embedding_quality, kinematics
from motionvigil.kinemic.text import SentenceFn, class_description, sentence_fn
from motionvigil.metrics.classification import aggregate, format_mean_std, mean_average_precision, top_k_accuracy
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.supervised.head import MLPHead
from motionvigil.training.run import RunLoop

CONDITIONS = ("real", "prior", "naive", "kinemic", "real+prior", "real+naive", "real+kinemic")
GENERATORS = ("prior", "naive", "kinemic")


@dataclass(frozen=True)
class ExperimentSettings:
    shots: int = 10
    seeds: int = 3
    per_class: int = 20
    finetune_steps: int = 300
    head_epochs: int = 300
    head_lr: float = 1e-3
    top_k: int = 5


# --------------------------------------------------------------------------- classifier


def train_head(emb: np.ndarray, targets: Sequence[int], num_classes: int, seed: int, epochs: int = 300,
               lr: float = 1e-3) -> MLPHead:
    """The supervised baseline's MLP head on frozen embeddings: full-batch AdamW, BCE on
    one-hot targets, a fixed number of epochs (no validation-based selection)."""
    torch.manual_seed(seed)
    head = MLPHead(emb.shape[1], num_classes).train()
    x = torch.from_numpy(np.asarray(emb, np.float32))
    y = F.one_hot(torch.as_tensor(list(targets)), num_classes).float()
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.01)
    RunLoop(step=lambda _: {"loss": F.binary_cross_entropy_with_logits(head(x), y)}, optimizer=opt,
            source=lambda epoch: [epoch], rounds=epochs).run()
    return head.eval()


@torch.no_grad()
def head_scores(head: MLPHead, emb: np.ndarray) -> np.ndarray:
    return torch.sigmoid(head(torch.from_numpy(np.asarray(emb, np.float32)))).numpy()


def score_metrics(scores: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    return {"top1": top_k_accuracy(scores, targets, 1), "mAP": mean_average_precision(scores, targets)[0]}


def per_class_top1(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per class: share of its test clips whose best-scored class is one of their labels."""
    hit = targets[np.arange(len(scores)), scores.argmax(1)]
    return np.array([hit[targets[:, c]].mean() if targets[:, c].any() else np.nan
                     for c in range(targets.shape[1])])


def confusion(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``[C, C]`` counts: row = first true label, column = predicted class."""
    out = np.zeros((targets.shape[1],) * 2, int)
    for s, t in zip(scores, targets):
        if t.any():
            out[int(np.argmax(t)), int(np.argmax(s))] += 1
    return out


def _group(clip: Clip) -> str:
    """Source dataset of a pooled clip (``msr_s01`` -> ``msr``), else its dataset name."""
    return (clip.subject or "").split("_")[0] if clip.dataset == "mocap_violence" else clip.dataset


# --------------------------------------------------------------------------- one seed


def run_seed(dataset, prior: str | Path, bundle: MotionTextBundle, sources: Sequence[Clip],
             sentences: SentenceFn, settings: ExperimentSettings, seed: int, cache: dict,
             log: Callable[[str], None] = print) -> dict:
    """One seed of the study on ``dataset`` (``cache`` keeps the test embeddings and the
    full-data head between seeds)."""
    s = settings
    train = [c for c in dataset.clips if c.split != "test"]
    fs = few_shot_sample(train, dataset.classes, s.shots, seed)
    classes = fs.classes
    if "test" not in cache:
        test = [c for c in dataset.clips if c.split == "test" and any(lab in classes for lab in c.labels)]
        cache["test"] = (test, LabelledSet.build(test, classes).labels, bundle.embed_clips(test))
        full = [c for c in train if c.labels and c.labels[0] in classes]
        cache["full_head"] = train_head(bundle.embed_clips(full), [classes.index(c.labels[0]) for c in full],
                                        len(classes), 0, s.head_epochs, s.head_lr)
    test, test_y, test_emb = cache["test"]
    t0 = time.time()
    generator, mining = build_generator(prior, fs, sources, bundle, sentences, MiningSettings(top_k=s.top_k),
                                        FinetuneSettings(steps=s.finetune_steps, seed=seed), log=log)
    t_finetune = time.time() - t0
    lengths = fs.lengths()
    synth = {"kinemic": generate_clips(generator, classes, s.per_class, lengths, seed=seed)}
    naive, _ = build_generator(prior, fs, sources, bundle, sentences, MiningSettings(top_k=s.top_k),
                               FinetuneSettings(steps=s.finetune_steps, seed=seed, w_contrastive=0.0),
                               use_mining=False, log=log)
    synth["naive"] = generate_clips(naive, classes, s.per_class, lengths, seed=seed)
    plain = SynthesisModel.load(prior).to(bundle.device)
    cond = torch.from_numpy(sentences([class_description(c) for c in classes]))
    synth["prior"] = generate_clips(plain, classes, s.per_class, lengths, seed=seed, conditions=cond)
    t_generate = time.time() - t0 - t_finetune

    real_emb, real_y = bundle.embed_clips(fs.clips), list(fs.targets)
    sets = {"real": (real_emb, real_y)}
    for name, clips in synth.items():
        emb = bundle.embed_clips(clips)
        y = [classes.index(c.labels[0]) for c in clips]
        sets[name] = (emb, y)
        sets[f"real+{name}"] = (np.concatenate([real_emb, emb]), real_y + y)

    out: dict = {"seed": seed, "classes": len(classes), "real_samples": len(fs.clips), "test_clips": len(test),
                 "mining": mining, "seconds_finetune": round(t_finetune, 1),
                 "seconds_generate": round(t_generate, 1),
                 "classification": {}, "per_class_top1": {}, "confusion": {}, "group_top1": {}, "quality": {}}
    groups = sorted({_group(c) for c in test})
    for name in CONDITIONS:
        emb, y = sets[name]
        scores = head_scores(train_head(emb, y, len(classes), seed, s.head_epochs, s.head_lr), test_emb)
        out["classification"][name] = score_metrics(scores, test_y)
        out["per_class_top1"][name] = dict(zip(classes, per_class_top1(scores, test_y).tolist()))
        if name in ("real", "real+prior", "real+naive", "real+kinemic"):
            out["confusion"][name] = confusion(scores, test_y).tolist()
        if len(groups) > 1:
            out["group_top1"][name] = {
                g: top_k_accuracy(scores[m], test_y[m], 1)
                for g in groups for m in [np.array([_group(c) == g for c in test])]}
    full_head = cache["full_head"]
    ref = {"real_fewshot": (fs.clips, real_emb, real_y)}
    ref.update({name: (clips, sets[name][0], sets[name][1]) for name, clips in synth.items()})
    for name, (clips, emb, y) in ref.items():
        q = embedding_quality(test_emb, emb, y, seed=seed)
        onehot = np.eye(len(classes), dtype=bool)[y]
        q["real_classifier_top1"] = top_k_accuracy(head_scores(full_head, emb), onehot, 1)
        q.update(kinematics([c.joints for c in clips]))
        out["quality"][name] = q
    real_top1 = top_k_accuracy(head_scores(full_head, test_emb), test_y, 1)
    out["quality"]["real_test"] = {**kinematics([c.joints for c in test]), "real_classifier_top1": real_top1}
    out["classes_list"] = list(classes)
    return out


# --------------------------------------------------------------------------- all datasets


def summarise(results: dict) -> str:
    """Markdown tables (mean ± std over seeds) of a results document."""
    lines = []
    for spec, runs in results["datasets"].items():
        if not runs:
            continue
        n = len(runs)
        lines += [f"### {spec} ({runs[0]['classes']} classes, {runs[0]['real_samples']} real training clips, "
                  f"{runs[0]['test_clips']} test clips; {n} seed(s))", "",
                  "| training data | Top-1 | mAP |", "|---|---:|---:|"]
        for name in CONDITIONS:
            agg = aggregate([r["classification"][name] for r in runs])
            lines.append(f"| {name} | {format_mean_std(agg['top1'], agg['top1_std'])} | "
                         f"{format_mean_std(agg['mAP'], agg['mAP_std'])} |")
        lines += ["", "| set | FID | diversity | multimodality | real-classifier Top-1 | bone-length CV | "
                      "foot skate (m/s) | joint speed mean / p95 (m/s) |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name in ("real_fewshot", *GENERATORS):
            agg = aggregate([r["quality"][name] for r in runs])
            f = lambda k, d=3: format_mean_std(agg[k], agg[f"{k}_std"], d)  # noqa: E731
            lines.append(f"| {name} | {f('fid', 2)} | {f('diversity_gen', 2)} | {f('multimodality', 2)} | "
                         f"{f('real_classifier_top1')} | {f('bone_length_cv')} | {f('foot_skate_mps')} | "
                         f"{f('joint_speed_mean_mps')} / {f('joint_speed_p95_mps')} |")
        rt = runs[0]["quality"]["real_test"]
        div_real = aggregate([r["quality"]["real_fewshot"] for r in runs])["diversity_real"]
        lines.append(f"| real test clips | - | {div_real:.2f} | - | {rt['real_classifier_top1']:.3f} | "
                     f"{rt['bone_length_cv']:.3f} | {rt['foot_skate_mps']:.3f} | "
                     f"{rt['joint_speed_mean_mps']:.3f} / {rt['joint_speed_p95_mps']:.3f} |")
        classes = runs[0]["classes_list"]
        keys = ("real", "real+prior", "real+naive", "real+kinemic", "kinemic")
        lines += ["", "| class | " + " | ".join(f"Top-1 {k}" for k in keys)
                  + " | change (real+kinemic - real) |",
                  "|---|" + "---:|" * (len(keys) + 1)]
        for c in classes:
            vals = {k: np.nanmean([r["per_class_top1"][k][c] for r in runs]) for k in keys}
            lines.append(f"| {c} | " + " | ".join(f"{vals[k]:.3f}" for k in keys) +
                         f" | {vals['real+kinemic'] - vals['real']:+.3f} |")
        violent = [i for i, c in enumerate(classes) if is_violent(c)]
        if len(violent) > 1:
            lines += ["", "Confusion among the violent classes (test clips, summed over seeds; row = true, "
                          "column = predicted):", ""]
            for name in runs[0]["confusion"]:
                full = np.sum([np.asarray(r["confusion"][name]) for r in runs], axis=0)
                m = full[np.ix_(violent, violent)]
                lines += [f"{name}:", "", "| true \\ predicted | " + " | ".join(classes[i] for i in violent) +
                          " | any other class |", "|---|" + "---:|" * (len(violent) + 1)]
                lines += [f"| {classes[i]} | " + " | ".join(str(int(v)) for v in row) +
                          f" | {int(full[i].sum() - row.sum())} |" for i, row in zip(violent, m)]
                lines.append("")
        if runs[0]["group_top1"]:
            groups = sorted(runs[0]["group_top1"]["real"])
            lines += ["", "| source | " + " | ".join(groups) + " |", "|---|" + "---:|" * len(groups)]
            for name in CONDITIONS:
                vals = [[r["group_top1"][name][g] for r in runs] for g in groups]
                cells = [format_mean_std(float(np.mean(v)), float(np.std(v))) for v in vals]
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _previous(path: Path, results: dict) -> dict:
    """Results of an earlier run in the same folder (resumed: finished seeds are kept),
    provided it used the same settings apart from the number of seeds."""
    if not path.is_file():
        return results
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        same = {k: v for k, v in old["settings"].items() if k != "seeds"} == \
            {k: v for k, v in results["settings"].items() if k != "seeds"}
        datasets = old["datasets"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise MotionFileError(path, f"not a kinemic-eval results file ({exc})") from None
    if not same or old.get("prior") != results["prior"] or old.get("sources") != results["sources"]:
        raise MotionFileError(path, "results of a run with other settings; use another output folder")
    results["datasets"] = datasets
    return results


def run_experiments(specs: Sequence[str], prior: str | Path, bundle: MotionTextBundle,
                    source_specs: Sequence[str],
                    out_dir: str | Path, settings: ExperimentSettings = ExperimentSettings(),
                    log: Callable[[str], None] = print) -> str:
    """Run the study on every target dataset; returns the markdown tables. Seeds already
    in ``out_dir/results.json`` (same settings) are not run again."""
    from motionvigil.datasets.select import load_specs

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sentences = sentence_fn()
    sources = [c for ds in load_specs(source_specs, skip_bad=True) for c in ds.clips
               if c.split != "test" and c.captions]
    results = {"settings": asdict(settings), "prior": str(prior), "sources": list(source_specs),
               "encoder": bundle.info, "datasets": {}}
    results = _previous(out / "results.json", results)
    results["settings"] = asdict(settings)
    for spec, dataset in zip(specs, load_specs(specs, skip_bad=True)):
        runs = results["datasets"].setdefault(spec, [])
        cache: dict = {}
        for seed in range(settings.seeds):
            if any(r["seed"] == seed for r in runs):
                continue
            log(f"== {spec} seed {seed}")
            runs.append(run_seed(dataset, prior, bundle, sources, sentences, settings, seed, cache, log))
            log(json.dumps(runs[-1]["classification"]))
            write_text_atomic(out / "results.json", json.dumps(results, indent=1))
            write_text_atomic(out / "tables.md", summarise(results))
    return summarise(results)
