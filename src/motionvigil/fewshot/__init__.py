"""Few-shot violence recognition: episodes, prototypes, FOMAML (TMR-to-Violence [docs/papers.md]).

``MetaSettings`` and ``meta_train`` (the meta-training loop, :mod:`.maml`) load on first
use, so importing the inner loop (:mod:`.adaptation`, which detectors use) does not
import the training loop.
"""

from motionvigil.datasets.labelled import LabelledSet
from motionvigil.fewshot.adaptation import AdaptSettings, adapt, encoder_params
from motionvigil.fewshot.episodes import Episode, EpisodeSampler

_LAZY = {"MetaSettings": "motionvigil.fewshot.maml", "meta_train": "motionvigil.fewshot.maml"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AdaptSettings",
    "Episode",
    "EpisodeSampler",
    "LabelledSet",
    "MetaSettings",
    "adapt",
    "encoder_params",
    "meta_train",
]
