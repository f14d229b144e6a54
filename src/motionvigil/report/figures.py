"""Matplotlib figures for reports (Agg backend, written atomically).

- :func:`plot_pr_curves`: precision-recall curves of violence scores
  (``sklearn.metrics.precision_recall_curve``), one per labelled score set.
- :func:`plot_timeline_with_truth`: a detection timeline (violence score per window,
  threshold, alert segments) above a band of the ground-truth segments, violent ones in red.
- :func:`animate_skeleton`: a small animated GIF of SMPL-22 joints (front view).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionvigil.atomic import atomic_path
from motionvigil.plotting import pyplot, save_png
from motionvigil.detect.timeline import Timeline
from motionvigil.io.layouts import SMPL22_PARENTS
from motionvigil.metrics.temporal_detection import TruthSegment
from motionvigil.report.timeline import draw_score_track

@dataclass(frozen=True)
class ScoreSet:
    """Scores with binary ground truth, drawn as one curve."""

    label: str
    scores: np.ndarray
    truth: np.ndarray


def pr_summary(scores: np.ndarray, truth: np.ndarray) -> dict:
    """Average precision and positive/negative counts (AP is NaN without both classes)."""
    from sklearn.metrics import average_precision_score

    y = np.asarray(truth, bool)
    s = np.asarray(scores, np.float64)
    ap = float(average_precision_score(y, s)) if y.any() and (~y).any() else float("nan")
    return {"AP": ap, "positives": int(y.sum()), "negatives": int((~y).sum())}


def plot_pr_curves(sets: Sequence[ScoreSet], path: str | Path, title: str,
                   operating_points: Sequence[tuple[str, float, float]] = ()) -> list[dict]:
    """Precision-recall curves of ``sets``; ``operating_points`` are ``(label, recall,
    precision)`` markers (e.g. the detector's threshold). Returns :func:`pr_summary` per set."""
    from sklearn.metrics import precision_recall_curve

    plt = pyplot()
    path = Path(path)
    summaries = []
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    try:
        for i, s in enumerate(sets):
            summary = {"label": s.label, **pr_summary(s.scores, s.truth)}
            summaries.append(summary)
            if summary["positives"] == 0 or summary["negatives"] == 0:
                continue
            precision, recall, _ = precision_recall_curve(np.asarray(s.truth, bool), np.asarray(s.scores, float))
            ax.step(recall, precision, where="post", lw=1.6, color=f"C{i}",
                    label=f"{s.label} (AP {summary['AP']:.3f}, {summary['positives']}+/{summary['negatives']}-)")
            base = summary["positives"] / (summary["positives"] + summary["negatives"])
            ax.axhline(base, color=f"C{i}", ls=":", lw=0.8)
        for j, (label, rec, prec) in enumerate(operating_points):
            ax.plot([rec], [prec], marker="o", ms=7, mfc="none", mew=1.8, color=f"C{j}", ls="none", label=label)
        ax.set_xlim(0, 1.01)
        ax.set_ylim(0, 1.03)
        ax.set_xlabel("recall (violence detection rate)")
        ax.set_ylabel("precision")
        ax.set_title(title, fontsize=10)
        ax.legend(loc="lower left", fontsize=7)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        save_png(fig, path)
    finally:
        plt.close(fig)
    return summaries


def plot_timeline_with_truth(timeline: Timeline, truth: Sequence[TruthSegment], path: str | Path,
                             title: str) -> Path:
    """The detector's timeline (as :func:`motionvigil.report.timeline.plot_timeline`) with
    a ground-truth band below it: every true segment labelled, violent ones in red."""
    plt = pyplot()
    path = Path(path)
    fig, (ax, band) = plt.subplots(2, 1, figsize=(11, 4.2), sharex=True,
                                   gridspec_kw={"height_ratios": [3.2, 1.0], "hspace": 0.08})
    try:
        for k, seg in enumerate(s for s in truth if s.violent):
            ax.axvspan(seg.start_s, seg.end_s, color="tab:orange", alpha=0.12, lw=0,
                       label="true violent segment" if k == 0 else None)
        draw_score_track(ax, timeline)
        ax.set_ylabel("violence score")
        ax.set_title(title, fontsize=10, pad=14)
        ax.legend(loc="lower right", fontsize=7, ncol=2)
        for k, seg in enumerate(truth):
            color = "tab:red" if seg.violent else "0.75"
            band.axvspan(seg.start_s, seg.end_s, ymin=0.1, ymax=0.9, color=color, alpha=0.85 if seg.violent else 0.6,
                         lw=0.5, ec="white")
            y = 0.36 if k % 2 == 0 else 0.64
            band.text((seg.start_s + seg.end_s) / 2, y, seg.label, ha="center", va="center", fontsize=7,
                      color="white" if seg.violent else "black", fontweight="bold" if seg.violent else "normal",
                      rotation=0 if seg.end_s - seg.start_s > 0.035 * max(timeline.duration_s, 1.0) else 90)
        band.set_yticks([])
        band.set_ylabel("truth", rotation=0, ha="right", va="center")
        band.set_xlim(0, max(timeline.duration_s, 1e-3))
        band.set_xlabel("time (s)")
        fig.subplots_adjust(left=0.075, right=0.99, top=0.88, bottom=0.13)
        save_png(fig, path)
    finally:
        plt.close(fig)
    return path


def animate_skeleton(joints: np.ndarray, path: str | Path, title: str, fps: float = 20.0, step: int = 2,
                     size_px: int = 220) -> Path:
    """Animated GIF of SMPL-22 ``joints [T, 22, 3]`` (Y up) seen from the front (X-Y
    plane, centred on the pelvis path), every ``step``-th frame. Written atomically."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    plt = pyplot()
    path = Path(path)
    frames = np.asarray(joints, np.float64)[::step]
    if len(frames) == 0:
        raise ValueError("no frames to animate")
    x_mid = float(np.median(frames[:, 0, 0]))
    half = max(1.0, float(np.abs(frames[..., 0] - x_mid).max()) + 0.1)
    dpi = 60
    fig, ax = plt.subplots(figsize=(size_px / dpi, size_px / dpi), dpi=dpi)
    try:
        ax.set_xlim(x_mid - half, x_mid + half)
        ax.set_ylim(-0.05, max(2.0, float(frames[..., 1].max()) + 0.1))
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.axhline(0.0, color="0.6", lw=1)
        ax.set_title(title, fontsize=8)
        bones = [(j, p) for j, p in enumerate(SMPL22_PARENTS) if p >= 0]
        lines = [ax.plot([], [], "-", lw=2, color="tab:red" if j in (18, 19, 20, 21) else
                         "tab:blue" if j in (4, 5, 7, 8, 10, 11) else "0.25")[0] for j, _ in bones]
        fig.tight_layout()

        def draw(i: int):
            f = frames[i]
            for line, (j, p) in zip(lines, bones):
                line.set_data([f[p, 0], f[j, 0]], [f[p, 1], f[j, 1]])
            return lines

        anim = FuncAnimation(fig, draw, frames=len(frames), blit=False)
        with atomic_path(path) as tmp:
            anim.save(tmp, writer=PillowWriter(fps=max(1.0, fps / step)))
    finally:
        plt.close(fig)
    return path


__all__ = ["ScoreSet", "TruthSegment", "animate_skeleton", "plot_pr_curves", "plot_timeline_with_truth",
           "pr_summary"]
