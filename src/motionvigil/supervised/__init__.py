"""The fully supervised baseline (TMR-to-Violence [docs/papers.md], Section 3.4.2): the
pre-trained motion encoder fine-tuned with an MLP classification head, with BCE or BCE +
center + violence hinge."""

from motionvigil.supervised.head import MLPHead
from motionvigil.supervised.train import (
    OBJECTIVES,
    SupervisedModel,
    SupervisedSettings,
    copy_bundle,
    macro_average_precision,
    supervised_terms,
    train_supervised,
)

__all__ = [
    "MLPHead",
    "OBJECTIVES",
    "SupervisedModel",
    "SupervisedSettings",
    "copy_bundle",
    "macro_average_precision",
    "supervised_terms",
    "train_supervised",
]
