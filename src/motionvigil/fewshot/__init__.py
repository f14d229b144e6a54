"""Few-shot violence recognition: episodes, prototypes, FOMAML (TMR-to-Violence [docs/papers.md])."""

from motionvigil.fewshot.adaptation import AdaptSettings, adapt, encoder_params
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.fewshot.episodes import Episode, EpisodeSampler
from motionvigil.fewshot.maml import MetaSettings, meta_train

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
