"""The class-disjoint split: fixed rule, violent classes on both sides, no clip leaks."""

from __future__ import annotations

import numpy as np
import pytest

from motionvigil.datasets.class_split import novel_split, restrict
from motionvigil.datasets.clip import Clip

VOCAB = ("walk", "kick", "wave", "clap", "punch", "sit", "jump")


def _clip(i: int, *labels: str) -> Clip:
    return Clip(f"c{i}", np.zeros((4, 22, 3), np.float32), tuple(labels), False, "toy")


def test_fold0_learns_kick_and_tests_punch_fold1_the_reverse():
    f0, f1 = novel_split(VOCAB, 0), novel_split(VOCAB, 1)
    assert "kick" in f0.base and "punch" in f0.novel
    assert "punch" in f1.base and "kick" in f1.novel
    assert f0.base == f1.novel and f0.novel == f1.base
    assert set(f0.base) | set(f0.novel) == set(VOCAB) and not set(f0.base) & set(f0.novel)
    # calm classes alternate in vocabulary order, and each side keeps vocabulary order
    assert f0.base == ("walk", "kick", "clap", "jump") and f0.novel == ("wave", "punch", "sit")


def test_split_is_a_fixed_rule():
    assert novel_split(VOCAB, 0) == novel_split(list(VOCAB), 0)


def test_one_violent_class_cannot_be_split():
    with pytest.raises(ValueError, match="two violent classes"):
        novel_split(("walk", "kick", "wave"), 0)
    with pytest.raises(ValueError, match="folds 0 and 1"):
        novel_split(VOCAB, 2)


def test_restrict_drops_clips_with_any_label_outside():
    clips = [_clip(0, "kick"), _clip(1, "kick", "punch"), _clip(2, "walk"), _clip(3)]
    kept = restrict(clips, novel_split(VOCAB, 0).base)
    assert [c.clip_id for c in kept] == ["c0", "c2"]


def test_study_data_keeps_novel_classes_out_of_every_training_phase():
    from motionvigil.datasets.clip import Dataset
    from motionvigil.studies.fewshot_study import StudySettings, run_fewshot_study, study_data

    clips = [Clip(f"c{i}_{j}", np.zeros((4, 22, 3), np.float32), (label,), False, "toy",
                  split="test" if j >= 6 else None)
             for i, label in enumerate(VOCAB) for j in range(9)]
    ds = Dataset("toy", clips, VOCAB)
    data = study_data([ds], StudySettings(class_split="novel", fold=0))
    base, novel = set(data.split.base), set(data.split.novel)
    for seen in (data.train_clips, data.val_clips):
        assert seen and all(set(c.labels) <= base for c in seen)
    assert data.train.classes == data.split.base and data.test.classes == data.split.novel
    assert all(set(c.labels) <= novel and c.split == "test" for c in data.test.clips)
    assert all(set(c.labels) <= novel and c.split != "test" for c in data.support.clips + data.support_val.clips)
    paper = study_data([ds], StudySettings())
    assert paper.split is None and paper.test.classes == VOCAB and paper.support is paper.train
    with pytest.raises(ValueError, match="leave out --pretrained"):
        run_fewshot_study([], "/nonexistent", StudySettings(class_split="novel"), pretrained="x")
