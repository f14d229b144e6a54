"""t-SNE of motion embeddings before and after MAML adaptation (seed 000, Figures 1-2)."""

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

    before = embed_indices(pre, encoder_params(pre), InputCache(pre, test.clips), query).numpy()
    fast = adapt(maml, encoder_params(maml), InputCache(maml, train.clips), support, s_targets,
                 train.violent[classes], AdaptSettings(), rng)
    with torch.no_grad():
        after = embed_indices(maml, fast, InputCache(maml, test.clips), query).numpy()
    paths = [out / "tsne_before.png", out / "tsne_after_maml.png"]
    plot_scatter(tsne_2d(before, seed), labels, violent, "pre-trained encoder (prototypes)", paths[0])
    plot_scatter(tsne_2d(after, seed), labels, violent, f"after MAML adaptation (k={shots})", paths[1])
    return paths
