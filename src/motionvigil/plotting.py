"""Matplotlib without a display, and PNGs written atomically: the one place every
figure (timelines, t-SNE, report figures) gets its pyplot and saves through."""

from __future__ import annotations

from pathlib import Path

from motionvigil.atomic import atomic_path

_NO_SOFTWARE = {"Software": None}  # no matplotlib version/URL in the PNG metadata


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: str | Path, dpi: int = 100) -> Path:
    """Write ``fig`` as a PNG to ``path`` atomically; returns ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata=_NO_SOFTWARE)
    return path
