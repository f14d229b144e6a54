"""A one-file HTML preview: per class, animated GIFs of generated clips beside real
clips of the same class (GIFs from ``report.figures.animate_skeleton``, embedded)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from motionvigil.datasets.clip import Clip
from motionvigil.datasets.folder import load_folder
from motionvigil.report.figures import animate_skeleton
from motionvigil.report.html import Figure, Row, Section, Text, write_report


def _pick(clips: list[Clip], n: int, rng: np.random.Generator) -> list[Clip]:
    return [clips[i] for i in sorted(rng.permutation(len(clips))[:n])]


def write_preview(generated: str | Path, real: str | None, out_html: str | Path, per_class: int = 2,
                  max_classes: int = 8, seed: int = 0) -> Path:
    """Write the preview of the folder dataset ``generated`` (and real clips of the
    dataset spec ``real``, if given) to ``out_html``."""
    gen = load_folder(generated)
    real_clips: list[Clip] = []
    if real:
        from motionvigil.datasets.select import load_specs

        real_clips = [c for ds in load_specs([real], skip_bad=True) for c in ds.clips]
    rng = np.random.default_rng(seed)
    classes = [c for c in gen.classes if any(c in clip.labels for clip in gen.clips)][:max_classes]
    sections = [Section("About", [Text(f"{len(gen.clips)} generated clips from {generated}; "
                                       f"real clips from {real or '(none)'}. Front view, X-Y plane.")])]
    with tempfile.TemporaryDirectory() as tmp:
        for ci, name in enumerate(classes):
            blocks = []
            for kind, pool in (("generated", [c for c in gen.clips if name in c.labels]),
                               ("real", [c for c in real_clips if name in c.labels])):
                figs = []
                for k, clip in enumerate(_pick(pool, per_class, rng)):
                    gif = animate_skeleton(clip.joints, Path(tmp) / f"{ci}_{kind}_{k}.gif", f"{kind}: {name}")
                    figs.append(Figure(gif, f"{kind} {clip.clip_id} ({clip.num_frames} frames)"))
                if figs:
                    blocks.append(Row(figs))
            sections.append(Section(name, blocks or [Text("no clips")]))
        return write_report(out_html, sections, title="KineMIC: generated vs real motion")
