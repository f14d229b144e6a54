"""Bandai Namco Research Motion dataset 2 (subset): 560 BVH clips with content and style.

``data/dataset-2_<content>_<style>_<nnn>.bvh`` with a label file ``<same>.json``
holding ``{"content": i, "style": j}``, indices into ``cfg/content_label.txt`` and
``cfg/style_label.txt`` (lines like ``dataset-2_walk``; the prefix is stripped).
10 contents x 7 styles x 8 takes.

* Labels: ``(content,)`` with hyphens made spaces (``"wave left hand"``,
  ``"walk turn left"``); ``meta["style"]`` holds the style (``"elderly"``, ...). The name
  in the file name must agree with the JSON. No class is violent.
* Captions: 3 per clip from templates that say only what the labels say, e.g.
  ``"a person waves the left hand in an elderly manner"``,
  ``"someone walks while turning left, in an exhausted way"``,
  ``"waving both hands in a youthful style"``. Every caption contains the style word.
* Subject: this subset has NO performer ids. ``subject`` is the take, ``"take1"`` ..
  ``"take8"`` (the ``_<nnn>`` of the name), a grouping key rather than a person: take
  ``k`` of two content/style pairs are unrelated recordings, and the same performers
  may appear in every take. A take-disjoint split is therefore NOT performer-disjoint;
  Bandai serves as non-violent motion and captioned pre-training material, where that
  matters little.
* Split: takes 1-6 train, takes 7-8 test (``test_takes``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from motionvigil.datasets.cache import finish_dataset
from motionvigil.datasets.clip import Dataset
from motionvigil.datasets.loaders.records import ClipInfo, convert_records
from motionvigil.datasets.registry import register_dataset
from motionvigil.errors import MotionFileError

NAME = "bandai2"
PREFIX = "dataset-2_"
DEFAULT_TEST_TAKES: tuple[int, ...] = (7, 8)
_CLIP_NAME = re.compile(r"^dataset-2_(?P<content>[a-z-]+)_(?P<style>[a-z]+)_(?P<take>\d+)\.json$")

#: content label -> (third-person verb phrase, -ing phrase) used in captions.
CONTENT_PHRASES: dict[str, tuple[str, str]] = {
    "walk": ("walks", "walking"),
    "walk-turn-left": ("walks while turning left", "walking and turning left"),
    "walk-turn-right": ("walks while turning right", "walking and turning right"),
    "run": ("runs", "running"),
    "wave-both-hands": ("waves both hands", "waving both hands"),
    "wave-left-hand": ("waves the left hand", "waving the left hand"),
    "wave-right-hand": ("waves the right hand", "waving the right hand"),
    "raise-up-both-hands": ("raises both hands", "raising both hands"),
    "raise-up-left-hand": ("raises the left hand", "raising the left hand"),
    "raise-up-right-hand": ("raises the right hand", "raising the right hand"),
}


@dataclass(frozen=True)
class BandaiRecord:
    """One Bandai clip: its BVH, labels and take."""

    bvh: Path
    clip_id: str  # "walk_normal_001"
    content: str  # "walk-turn-left" (as in cfg/content_label.txt, prefix stripped)
    style: str
    take: int
    split: str


def read_label_list(path: Path) -> tuple[str, ...]:
    """The non-empty lines of a ``cfg/*_label.txt`` file, ``dataset-2_`` prefix stripped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MotionFileError(path, f"cannot read label list ({exc})") from None
    names = tuple(line.strip().removeprefix(PREFIX) for line in lines if line.strip())
    if not names:
        raise MotionFileError(path, "label list is empty")
    return names


def content_class(content: str) -> str:
    """Class name of a content label: ``"wave-left-hand"`` -> ``"wave left hand"``."""
    return content.replace("-", " ")


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def captions_for(content: str, style: str) -> tuple[str, ...]:
    """Three truthful captions for a content/style pair (each names the style word)."""
    fallback = (f"performs {content_class(content)}", content_class(content))
    verb, verb_ing = CONTENT_PHRASES.get(content, fallback)
    a = _article(style)
    return (
        f"a person {verb} in {a} {style} manner",
        f"someone {verb}, in {a} {style} way",
        f"{verb_ing} in {a} {style} style",
    )


def _read_label_json(path: Path, contents: tuple[str, ...], styles: tuple[str, ...]) -> tuple[str, str]:
    """``(content, style)`` of one clip's JSON."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ci, si = data["content"], data["style"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise MotionFileError(path, f"not a {{'content': i, 'style': j}} label file ({exc})") from None
    for what, index, names in (("content", ci, contents), ("style", si, styles)):
        if not (isinstance(index, int) and 0 <= index < len(names)):
            raise MotionFileError(path, f"{what} index {index!r} outside 0..{len(names) - 1}")
    return contents[ci], styles[si]


def index_bandai2(root: str | Path, test_takes: tuple[int, ...] = DEFAULT_TEST_TAKES) -> list[BandaiRecord]:
    """Every labelled clip under ``<root>/data``, from the JSON files and names.

    Raises:
        MotionFileError: missing/bad label lists or JSON, a name disagreeing with its
            JSON, a missing BVH, or no clips.
    """
    root = Path(root)
    contents = read_label_list(root / "cfg" / "content_label.txt")
    styles = read_label_list(root / "cfg" / "style_label.txt")
    records = []
    for path in sorted((root / "data").glob("*.json")):
        m = _CLIP_NAME.match(path.name)
        if m is None:
            raise MotionFileError(path, f"name does not match {PREFIX}<content>_<style>_<nnn>.json")
        content, style = _read_label_json(path, contents, styles)
        if (content, style) != (m["content"], m["style"]):
            raise MotionFileError(path, f"labels {content}/{style} disagree with the file name")
        bvh = path.with_suffix(".bvh")
        if not bvh.is_file():
            raise MotionFileError(bvh, "BVH file of a labelled clip is missing")
        take = int(m["take"])
        records.append(
            BandaiRecord(
                bvh=bvh,
                clip_id=f"{content}_{style}_{m['take']}",
                content=content,
                style=style,
                take=take,
                split="test" if take in test_takes else "train",
            )
        )
    if not records:
        raise MotionFileError(root / "data", f"no {PREFIX}*.json label files found")
    return records


def _clip_info(rec: BandaiRecord) -> ClipInfo:
    """Labels, captions, subject (the take) and meta of a Bandai clip (module notes)."""
    return ClipInfo(
        labels=(content_class(rec.content),),
        violent=False,
        subject=f"take{rec.take}",
        captions=captions_for(rec.content, rec.style),
        meta={"style": rec.style, "content": rec.content, "take": rec.take},
    )


@register_dataset(NAME, "bandai2", "Bandai Namco dataset 2: 560 BVH clips, 10 contents x 7 styles, captions")
def load_bandai2(
    root: Path,
    *,
    test_takes: tuple[int, ...] = DEFAULT_TEST_TAKES,
    skip_bad: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Dataset:
    """Load the Bandai-2 subset as SMPL-22 clips at 20 Hz with captions (module notes).

    Args:
        root: the dataset folder (holding ``data/`` and ``cfg/``).
        test_takes: takes that form the test split (the others train).
        skip_bad, cache, cache_dir, progress: as for ``msr_action3d``.

    Raises:
        MotionFileError: bad labels, or an unusable BVH (with ``skip_bad=False``).
    """
    root = Path(root)
    contents = read_label_list(root / "cfg" / "content_label.txt")
    records = index_bandai2(root, tuple(test_takes))
    loaded = convert_records(
        NAME, records, _clip_info, path_of=lambda r: r.bvh,
        cache_dir=cache_dir, use_cache=cache, progress=progress, skip_bad=skip_bad,
    )  # fmt: skip
    clips = loaded.clips
    return finish_dataset(
        NAME,
        clips,
        tuple(content_class(c) for c in contents),
        (
            f"Bandai Namco dataset 2 subset: {len(clips)} of {len(records)} clips, {len(contents)} contents, "
            f"styles in meta; subject = take (no performer ids); takes {sorted(test_takes)} test."
        ),
        loaded.bad,
    )
