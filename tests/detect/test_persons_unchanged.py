"""One person is the one-person case of the persons path: a single-body motion gives
byte for byte the timeline JSON, the text and the stream results it gave on main before
persons existed (one_person_expected.json, written by one_person_cases.py at 17a37f5)."""

from __future__ import annotations

import json

import pytest
from one_person_cases import EXPECTED, cases, outputs
from scenes import tiny_detector


@pytest.fixture(scope="module")
def computed() -> dict:
    return {name: outputs(d, m) for name, (d, m) in cases(tiny_detector()).items()}


@pytest.mark.parametrize("name", ["smpl22_20hz", "smpl22_threshold_0.99", "kinect_sdk_30hz"])
@pytest.mark.parametrize("what", ["json", "text", "stream"])
def test_one_person_output_is_byte_identical_to_main(computed, name, what):
    expected = json.loads(EXPECTED.read_text())[name][what]
    assert computed[name][what] == expected


def test_one_person_json_has_no_persons_keys(computed):
    doc = json.loads(computed["smpl22_20hz"]["json"])
    assert set(doc) == {"file", "duration_s", "threshold", "policy", "timeline", "alerts"}
    assert doc["alerts"] and all("persons" not in a for a in doc["alerts"])
