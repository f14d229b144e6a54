"""t-SNE of motion embeddings before and after MAML adaptation (TMR-to-Violence
[docs/papers.md], Figures 1-2)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from motionvigil.plotting import pyplot, save_png
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.fewshot.adaptation import AdaptSettings, InputCache, adapt, embed_indices, encoder_params
from motionvigil.models.bundle import MotionTextBundle


def tsne_2d(embeddings: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D t-SNE of L2-normalised embeddings (cosine geometry), perplexity adapted to N."""
    from sklearn.manifold import TSNE

    x = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    perplexity = float(min(30.0, max(2.0, (len(x) - 1) / 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed, metric="euclidean").fit_transform(x)


def plot_scatter(points: np.ndarray, labels: Sequence[str], violent: Sequence[bool], title: str, path: Path) -> None:
    """Scatter plot coloured by class; violent classes drawn with crosses. Written atomically."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 6))
    names = sorted(set(labels))
    cmap = plt.get_cmap("tab20", max(len(names), 1))
    for i, name in enumerate(names):
        rows = [j for j, lab in enumerate(labels) if lab == name]
        marker = "x" if violent[rows[0]] else "o"
        ax.scatter(points[rows, 0], points[rows, 1], s=22, marker=marker, color=cmap(i), label=name)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=7, loc="best", ncol=2, markerscale=0.8)
    fig.tight_layout()
    save_png(fig, path, dpi=120)
    plt.close(fig)


def tsne_before_after(pre: MotionTextBundle, maml: MotionTextBundle, train: LabelledSet, test: LabelledSet,
                      out_dir: str | Path, classes: Sequence[int], shots: int = 5, seed: int = 0) -> list[Path]:
    """Embed the test clips of ``classes`` with the pre-trained encoder and with the MAML
    initialisation adapted on ``shots`` training clips per class; write two PNGs."""
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    query = np.flatnonzero(test.labels[:, classes].any(1))
    labels = [test.classes[classes[int(np.argmax(test.labels[i, classes]))]] for i in query]
    violent = [bool(test.violent[classes[int(np.argmax(test.labels[i, classes]))]]) for i in query]
    support = np.concatenate([rng.permutation(np.flatnonzero(train.labels[:, c]))[:shots] for c in classes])
    s_targets = train.labels[np.ix_(support, classes)]

    before = embed_indices(pre, encoder_params(pre), InputCache(pre, test.clips), query).cpu().numpy()
    fast = adapt(maml, encoder_params(maml), InputCache(maml, train.clips), support, s_targets,
                 train.violent[classes], AdaptSettings(), rng)
    with torch.no_grad():
        after = embed_indices(maml, fast, InputCache(maml, test.clips), query).cpu().numpy()
    paths = [out / "tsne_before.png", out / "tsne_after_maml.png"]
    plot_scatter(tsne_2d(before, seed), labels, violent, "pre-trained encoder (prototypes)", paths[0])
    plot_scatter(tsne_2d(after, seed), labels, violent, f"after MAML adaptation (k={shots})", paths[1])
    return paths


def tsne_classes(train: LabelledSet, test: LabelledSet, count: int, shots: int, seed: int = 0) -> list[int]:
    """Up to ``count`` classes to show: those with at least 2 test clips and ``shots`` training
    clips, the violent ones first, then the others in a seeded random order."""
    usable = [c for c in range(len(test.classes))
              if test.labels[:, c].sum() >= 2 and train.labels[:, c].sum() >= shots]
    rng = np.random.default_rng(seed)
    violent = [c for c in usable if test.violent[c]]
    calm = [c for c in rng.permutation([c for c in usable if not test.violent[c]])]
    return (violent + calm)[:count]


def tsne_study(run: str | Path, data: Sequence[str], out_dir: str | Path | None = None, count: int = 8,
               shots: int = 5, seed: int = 0, skip_bad: bool = False, device: str = "cpu") -> list[Path]:
    """``tsne_before_after`` for a few-shot study folder (``pretrain/best`` and ``maml/best``)
    on the test split of ``data`` (the study's own split); the PNGs go to ``out_dir`` (default:
    the run folder)."""
    from motionvigil.datasets.select import load_specs, split_train_val_test
    from motionvigil.studies.fewshot_study import pool

    run = Path(run)
    pre = MotionTextBundle.load(run / "pretrain" / "best", device)
    maml = MotionTextBundle.load(run / "maml" / "best", device)
    datasets = load_specs(data, skip_bad=skip_bad)
    classes = pool(datasets)
    train_c, _, test_c = split_train_val_test(datasets, 0.15, seed)
    train, test = LabelledSet.build(train_c, classes), LabelledSet.build(test_c, classes)
    chosen = tsne_classes(train, test, count, shots, seed)
    out = Path(out_dir) if out_dir else run
    return tsne_before_after(pre, maml, train, test, out, chosen, shots=shots, seed=seed)
