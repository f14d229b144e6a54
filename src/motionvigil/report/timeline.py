"""Drawing a detection timeline (:class:`motionvigil.detect.timeline.Timeline`): the
violence score per window, the threshold and the alert segments."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motionvigil.detect.timeline import Timeline
from motionvigil.plotting import pyplot, save_png


def draw_score_track(ax, timeline: Timeline) -> None:
    """Draw the violence score (at window centres), the threshold and the shaded,
    labelled alert segments of ``timeline`` on a matplotlib axis."""
    for k, a in enumerate(timeline.alerts):
        ax.axvspan(a.start_s, a.end_s, color="tab:red", alpha=0.20, lw=0, label="alert" if k == 0 else None)
        ax.text((a.start_s + a.end_s) / 2, 1.0, a.top_class, transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", fontsize=8, color="tab:red")
    centres = np.array([(w.start_s + w.end_s) / 2 for w in timeline.windows])
    violence = np.array([w.violence for w in timeline.windows])
    if len(centres):
        ax.plot(centres, violence, "-o", ms=2.5, lw=1.2, color="tab:blue", label="violence score")
    ax.axhline(timeline.threshold, color="tab:red", ls="--", lw=1,
               label=f"threshold {timeline.threshold:.3f} ({timeline.policy})")


def plot_timeline(timeline: Timeline, path: str | Path, title: str | None = None) -> Path:
    """PNG of the violence score over time (at window centres), the threshold and the
    alert segments shaded with their class; written atomically. Returns ``path``."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 3.2), dpi=100)
    try:
        draw_score_track(ax, timeline)
        ax.set_xlim(0, max(timeline.duration_s, 1e-3))
        ax.set_xlabel("time (s)")
        ax.set_ylabel("max cosine, violent classes")
        ax.set_title(title or (Path(timeline.source).name if timeline.source else "timeline"), fontsize=10, pad=14)
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        return save_png(fig, path)
    finally:
        plt.close(fig)
