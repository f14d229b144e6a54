"""Metrics (pure numpy/scipy, no training): retrieval metrics (R@k, MedR), TMR's text-motion protocols, zero-shot accuracy."""

from motionvigil.metrics.retrieval import (
    format_table,
    median_rank,
    protocol_all,
    protocol_small_batches,
    protocol_threshold,
    ranks,
    recall_at_k,
    retrieval_metrics,
    zero_shot_classification,
)

__all__ = [
    "format_table",
    "median_rank",
    "protocol_all",
    "protocol_small_batches",
    "protocol_threshold",
    "ranks",
    "recall_at_k",
    "retrieval_metrics",
    "zero_shot_classification",
]
