"""Datasets: clips with labels, captions, segments and splits, behind a registry of names."""

from motionvigil.datasets.clip import Clip, Dataset, Segment
from motionvigil.datasets.registry import dataset_names, load_dataset, register_dataset
from motionvigil.datasets.violence import VIOLENT_CATEGORIES, is_violent, violent_category

__all__ = [
    "VIOLENT_CATEGORIES",
    "Clip",
    "Dataset",
    "Segment",
    "dataset_names",
    "is_violent",
    "load_dataset",
    "register_dataset",
    "violent_category",
]
