"""The cross-skeleton-tables block: the study's two tables from a (tiny, fake) results JSON
of the shape ``study cross-skeleton -o FILE.json`` writes."""

from __future__ import annotations

import json

import pytest

from motionvigil.report.blocks import render_doc
from motionvigil.report.cross_skeleton import render_files

SETTINGS = {"preset": "tiny", "seed": 3, "pretrain_epochs": 8, "finetune_epochs": 12, "ways": 5, "shots": 5,
            "queries": 5, "episodes": 7}


def transfer(arm, setting, value, target="bandai2", chance=None):
    row = {"arm": arm, "task": f"{target} text->motion R@1", "source": "kinect", "target": target,
           "n_test": 72, "setting": setting, "value": value, "queries": 70}
    return row if chance is None else {**row, "chance": chance}


def episodes(arm, top1):
    return {"arm": arm, "task": "5-way 5-shot violence", "source": "kinect", "target": "mocap",
            "setting": "support kinect / queries mocap", "episodes": 7, "top1": top1, "top1_std": 0.093,
            "mAP": 0.5, "mAP_std": 0.01, "VDR": None, "VDR_std": None, "FPR": 0.25, "FPR_std": 0.0}


RESULT = {"settings": SETTINGS, "seconds": 600.0,
          "machine": {"cpu": "Fake CPU", "cores": 2, "torch_threads": 1, "mm_gflops": 12.0},
          "rows": [transfer("vit_native", "zero-shot", 1.94, chance=1.39), transfer("vit_native", "fine-tuned", 68.06),
                   episodes("vit_native", 0.317),
                   transfer("tmr", "zero-shot", 5.52, chance=1.39), transfer("tmr", "fine-tuned", 16.2),
                   episodes("tmr", 0.181)]}


@pytest.fixture
def root(tmp_path):
    (tmp_path / "xs.json").write_text(json.dumps(RESULT), encoding="utf-8")
    return tmp_path


def cells(text: str, first: str) -> list[str]:
    """The cells of every table row whose first cell starts with ``first``."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("|")]
    return [r for r in rows if r[0].startswith(first)]


def test_transfer_cells_sit_under_their_arm_with_the_chance_in_the_setting(root):
    text = render_files(["xs.json"], root)
    header = cells(text, "task")[0]
    assert header == ["task", "source -> target", "setting", "vit_native", "tmr"]
    zero, tuned = cells(text, "bandai2 text->motion R@1")
    assert zero == ["bandai2 text->motion R@1", "kinect -> bandai2", "zero-shot (chance 1.4)", "1.9", "5.5"]
    assert tuned[2:] == ["fine-tuned", "68.1", "16.2"]


def test_episode_cells_are_percent_mean_and_std_and_missing_values_say_so(root):
    text = render_files(["xs.json"], root)
    native, tmr = cells(text, "support kinect / queries mocap")
    assert native == ["support kinect / queries mocap (7)", "vit_native", "31.7 ± 9.3", "50.0 ± 1.0", "n/a ± n/a",
                      "25.0 ± 0.0"]
    assert tmr[1:3] == ["tmr", "18.1 ± 9.3"]


def test_captions_state_seed_counts_chance_and_machine(root):
    text = render_files(["xs.json"], root)
    assert "seed 3" in text and "bandai2 72 test clips, 70 caption queries" in text
    assert "bandai2 zero-shot 1.4" in text and "7 episodes per row" in text and "is 20.0." in text
    assert text.rstrip().endswith("10 min of runs in all.") and "Fake CPU" in text


def test_the_kind_is_registered_for_docs(root):
    doc = "<!-- cross-skeleton-tables:start xs.json -->\nstale\n<!-- cross-skeleton-tables:end -->\n"
    out = render_doc(doc, root)
    assert "stale" not in out and "| 1.9 | 5.5 |" in out
