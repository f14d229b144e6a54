"""UTKinect-Action3D (Xia, Chen and Aggarwal, 2012): 20 long Kinect v1 sequences.

10 subjects x 2 sequences (``joints/joints_sXX_eYY.txt``), each performing the 10
actions once; ``joints/actionLabel.txt`` gives each action's first and last frame
NUMBER (inclusive).

* Clips (``mode="segments"``, default): one clip per labelled (sequence, action)
  segment. Frame numbers are mapped to rows of the file with the reader's
  ``meta["frame_numbers"]`` (rows whose number lies in ``[start, end]``), the rows are
  cut out at the reader's nominal 30 fps and only then retargeted and resampled to
  SMPL-22 at 20 Hz (canonical frame of the segment's first frame). A segment of ``n``
  rows gives ``floor((n - 1) * 20 / 30) + 1`` frames. The shipped label file has 199
  segments (``carry`` of ``s10_e02`` is ``NaN NaN``: not recorded).
* ``mode="sequences"``: one clip per file (the whole sequence at 20 Hz), the actions as
  ``Clip.segments`` in 20 Hz frames; ``labels`` = the actions present. For detection.
* Classes: walk, sit down, stand up, pick up, carry, throw, push, pull, wave hands,
  clap hands (the file's camelCase names made readable). No class is violent.
* Subjects ``s01``..``s10``; split: odd subjects train, even subjects test.
* Label file: ``label_file="actionLabel.txt"`` (the original, default). The folder also
  ships ``actionLabel_modified.txt``, which corrects 7 segments of the original (e.g.
  ``s03_e01 push: 2556 3622`` -> ``3556 3622``; three segments of the original overlap
  a neighbour: s03_e01 push/throw, s09_e01 push/pull, s10_e02 push/pull); pass
  ``label_file="actionLabel_modified.txt"`` to use it.
* Conversion is not cached: the 20 files read and convert in well under a second.
  Every clip keeps its Kinect skeleton in ``meta["native_joints"]`` /
  ``meta["native_layout"]`` (see :mod:`motionvigil.datasets.native`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionvigil.datasets.cache import finish_dataset, json_meta, loading_error
from motionvigil.datasets.clip import FPS, Clip, Dataset, Segment
from motionvigil.datasets.native import NATIVE_JOINTS, NATIVE_LAYOUT, layout_meta, to_smpl22_native
from motionvigil.datasets.registry import register_dataset
from motionvigil.errors import MotionFileError
from motionvigil.io.kinect import read_utkinect, read_utkinect_labels
from motionvigil.io.motion import Motion

NAME = "utkinect"
MODES = ("segments", "sequences")

#: ``actionLabel.txt`` action name -> readable class name, in the dataset's class order.
UTK_ACTIONS: dict[str, str] = {
    "walk": "walk",
    "sitDown": "sit down",
    "standUp": "stand up",
    "pickUp": "pick up",
    "carry": "carry",
    "throw": "throw",
    "push": "push",
    "pull": "pull",
    "waveHands": "wave hands",
    "clapHands": "clap hands",
}
UTK_CLASSES: tuple[str, ...] = tuple(UTK_ACTIONS.values())


@dataclass(frozen=True)
class UtkSegment:
    """One labelled segment: frame numbers (inclusive) and the file rows ``[row_start, row_end)``."""

    sequence: str  # "s01_e01"
    action: str  # readable class name
    start_frame: int
    end_frame: int
    row_start: int
    row_end: int

    @property
    def num_rows(self) -> int:
        return self.row_end - self.row_start


def _joints_folder(root: Path) -> Path:
    """``<root>/joints`` when it exists, else ``root`` itself."""
    sub = root / "joints"
    return sub if sub.is_dir() else root


def subject_split(subject: int) -> str:
    """Odd subjects train, even subjects test."""
    return "train" if subject % 2 == 1 else "test"


def segment_rows(path: Path, frame_numbers: np.ndarray, start: int, end: int) -> tuple[int, int]:
    """Rows ``[a, b)`` whose frame numbers lie in ``[start, end]``.

    Raises:
        MotionFileError: fewer than 2 rows fall in the segment.
    """
    a = int(np.searchsorted(frame_numbers, start, side="left"))
    b = int(np.searchsorted(frame_numbers, end, side="right"))
    if b - a < 2:
        raise MotionFileError(
            path,
            f"segment of frames {start}-{end} covers {max(b - a, 0)} row(s) "
            f"(file frames {frame_numbers[0]}-{frame_numbers[-1]}); at least 2 are needed",
        )
    return a, b


def _readable(path: Path, action: str) -> str:
    if action not in UTK_ACTIONS:
        raise MotionFileError(path, f"unknown action {action!r}; expected one of {', '.join(UTK_ACTIONS)}")
    return UTK_ACTIONS[action]


def _segment_clip(motion: Motion, seg: UtkSegment, subject: str) -> Clip:
    """Cut one segment out of the sequence and convert it to SMPL-22 at 20 Hz."""
    cut = Motion(
        joints=motion.joints[seg.row_start : seg.row_end],
        fps=motion.fps,
        layout=motion.layout,
        source=motion.source,
    )
    smpl, native = to_smpl22_native(cut, fps=FPS)
    return Clip(
        clip_id=f"{seg.sequence}_{seg.action.replace(' ', '_')}",
        joints=smpl.joints,
        labels=(seg.action,),
        violent=False,
        dataset=NAME,
        subject=subject,
        source=motion.source,
        split=subject_split(int(subject[1:])),
        meta={
            "sequence": seg.sequence,
            "start_frame": seg.start_frame,
            "end_frame": seg.end_frame,
            "row_start": seg.row_start,
            "row_end": seg.row_end,
            "source_fps": motion.fps,
            "source_layout": motion.layout.name,
            "fps": FPS,
            NATIVE_JOINTS: native,
            NATIVE_LAYOUT: layout_meta(motion.layout),
        },
    )


def _to_20hz(row: float, fps_in: float) -> float:
    return row * FPS / fps_in


def _sequence_clip(motion: Motion, sequence: str, segs: list[UtkSegment], subject: str) -> Clip:
    """The whole sequence at 20 Hz with its actions as 20 Hz segments."""
    smpl, native = to_smpl22_native(motion, fps=FPS)
    n = smpl.num_frames
    segments = []
    for seg in segs:
        start = min(math.ceil(_to_20hz(seg.row_start, motion.fps) - 1e-9), n - 1)
        end = min(math.floor(_to_20hz(seg.row_end - 1, motion.fps) + 1e-9) + 1, n)
        if end > start:
            segments.append(Segment(seg.action, start, end))
    segments.sort(key=lambda s: (s.start, s.end))
    return Clip(
        clip_id=sequence,
        joints=smpl.joints,
        labels=tuple(sorted({s.label for s in segments}, key=UTK_CLASSES.index)),
        violent=False,
        dataset=NAME,
        subject=subject,
        source=motion.source,
        segments=tuple(segments),
        split=subject_split(int(subject[1:])),
        meta={**json_meta(smpl.meta), "sequence": sequence, "fps": FPS,
              NATIVE_JOINTS: native, NATIVE_LAYOUT: layout_meta(motion.layout)},
    )


@register_dataset(NAME, "utkinect", "UTKinect-Action3D: 199 action segments of 20 sequences, 10 classes")
def load_utkinect(
    root: Path,
    *,
    mode: str = "segments",
    label_file: str = "actionLabel.txt",
    skip_bad: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Dataset:
    """Load UTKinect-Action3D as SMPL-22 clips at 20 Hz (see the module notes).

    Args:
        root: the dataset folder (holding ``joints/``).
        mode: ``"segments"`` (one clip per action segment) or ``"sequences"``.
        label_file: the label file inside ``joints/``.
        skip_bad: skip unusable files or segments (listed in ``dataset.bad_files``).
        cache, cache_dir, progress: accepted so that every loader takes the same
            options; unused (the 20 files convert in about 0.2 s, uncached).

    Raises:
        MotionFileError: unusable label file; an unusable joints file or segment (with
            ``skip_bad=False``).
    """
    del cache, cache_dir, progress  # uniform loader options; see the docstring
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    folder = _joints_folder(Path(root))
    label_path = folder / label_file
    labels = read_utkinect_labels(label_path)
    clips: list[Clip] = []
    bad: list[tuple[Path, str]] = []

    def fail(exc: MotionFileError, fallback: Path) -> None:
        """Stop (skip_bad=False) or record the problem and go on."""
        if not skip_bad:
            raise loading_error(NAME, exc) from None
        bad.append((Path(exc.path or fallback), str(exc)))

    for sequence, entries in labels.items():
        path = folder / f"joints_{sequence}.txt"
        subject = sequence.split("_")[0]
        try:
            motion = read_utkinect(path)
        except MotionFileError as exc:
            fail(exc, path)
            continue
        segs: list[UtkSegment] = []
        for action, start, end in entries:
            try:
                a, b = segment_rows(path, motion.meta["frame_numbers"], start, end)
                segs.append(UtkSegment(sequence, _readable(label_path, action), start, end, a, b))
                if mode == "segments":
                    clips.append(_segment_clip(motion, segs[-1], subject))
            except MotionFileError as exc:
                fail(exc, path)
        if mode == "sequences":
            try:
                clips.append(_sequence_clip(motion, sequence, segs, subject))
            except MotionFileError as exc:
                fail(exc, path)
    return finish_dataset(
        NAME,
        clips,
        UTK_CLASSES,
        (
            f"UTKinect-Action3D ({mode}, labels from {label_file}): {len(clips)} clips, "
            f"{len(UTK_CLASSES)} classes, {len({c.subject for c in clips})} subjects; "
            "odd subjects train, even test."
        ),
        bad,
    )
