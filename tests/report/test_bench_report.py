"""The bench-table block: speed tables rendered from the benchmark scripts' JSON.

The fixtures under fixtures/bench/ are real outputs of short runs of the scripts
(``fewshot_bench.py --presets tiny --skip-global``, ``pretrain_bench.py --presets tiny
--steps 1``, ``detect_bench.py --seconds 10 --repeats 1``, ``io_bench.py --files 3``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from motionvigil.report.bench import render_files
from motionvigil.report.blocks import render_doc

FIXTURES = Path(__file__).parent / "fixtures" / "bench"
KINDS = ("fewshot", "pretrain", "detect", "io")


def fixture(kind: str) -> dict:
    return json.loads((FIXTURES / f"{kind}.json").read_text(encoding="utf-8"))


def table_rows(text: str) -> list[list[str]]:
    """The cells of every table row below the header separator."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return rows[2:]


@pytest.mark.parametrize("kind", KINDS)
def test_every_fixture_renders_with_a_machine_caption(kind):
    data = fixture(kind)
    assert data["benchmark"] == kind
    text = render_files([f"{kind}.json"], FIXTURES)
    caption = text.strip().splitlines()[-1]
    m = data["machine"]
    assert caption.startswith(f"`python benchmarks/{kind}_bench.py")
    assert m["cpu"] in caption and f"{m['mm_gflops']:.1f} GFLOP/s" in caption
    assert f"{m['torch_threads']} torch thread" in caption


def test_fewshot_table_cells_match_the_json():
    data = fixture("fewshot")
    text = render_files(["fewshot.json"], FIXTURES)
    rows = table_rows(text)
    assert len(rows) == len(data["episodes"])
    for row, e in zip(rows, data["episodes"]):
        assert row[0] == e["preset"]
        assert row[3] == f"{e['episode_s']:.3f} s"
        assert row[5] == f"{e['inner_step_s'] * 1e3:.1f} ms"
        assert row[6] == f"{e['inner_step_gflop']:.3f}"
        assert row[7] == f"{e['share_of_mm_peak'] * 100:.0f} %"
        assert row[8] == f"{e['speedup_vs_full']:.1f}x"
    assert rows[0][1:3] == ["5-way 1-shot", "full FOMAML"] and rows[1][2] == "fast (top layer)"
    assert rows[4][1] == "10-way 5-shot"
    assert "--presets tiny --skip-global`" in text
    assert "not measured in this run" in text  # the fixture ran with --skip-global


def test_fewshot_global_line(tmp_path):
    data = fixture("fewshot")
    data["global_30shot"] = {"preset": "tiny", "classes": 44, "support_clips": 826, "seconds": 4.266,
                             "peak_rss_mb": 802.9, "rss_growth_mb": 372.0}
    (tmp_path / "g.json").write_text(json.dumps(data))
    text = render_files(["g.json"], tmp_path)
    assert "over the 44 classes of `mocap_violence` (826 support clips, tiny): 4.3 s" in text
    assert "peak resident memory 0.78 GiB" in text
    data["global_30shot"] = {"skipped": "mocap_violence: not found"}
    (tmp_path / "g.json").write_text(json.dumps(data))
    assert "skipped (mocap_violence: not found)" in render_files(["g.json"], tmp_path)


def test_pretrain_table_cells_match_the_json():
    data = fixture("pretrain")
    rows = table_rows(render_files(["pretrain.json"], FIXTURES))
    assert [r[:2] for r in rows] == [["tiny", "TMR"], ["tiny", "ViT"]]
    tmr, vit = data["results"]
    assert rows[0][2] == f"{tmr['parameters'] / 1e6:.1f} M"
    assert rows[0][3] == f"{tmr['train_pairs_per_s']:.1f}"  # below 100: one decimal
    assert rows[0][4] == f"{tmr['inference_clips_per_s']:,.0f}"  # thousands separator
    assert rows[1][3] == f"{vit['train_pairs_per_s']:,.0f}"


def test_detect_line_matches_the_json():
    data = fixture("detect")
    text = render_files(["detect.json"], FIXTURES)
    s20, s30 = data["stream_smpl22_20hz"], data["stream_kinect_30hz"]
    assert f"SMPL-22 at 20 Hz: {s20['latency_ms_mean']:.2f} ms mean per pushed frame" in text
    assert f"{s20['latency_ms_window_push_mean']:.1f} ms when a window completes" in text
    assert "against a 50 ms frame period" in text and "against a 33.3 ms frame period" in text
    assert f"Kinect SDK at 30 Hz: {s30['latency_ms_mean']:.2f} ms mean" in text
    assert f"Offline detection: {data['offline']['motion_s_per_s']:,.0f} s of motion per second" in text


def test_io_line_matches_the_json():
    data = fixture("io")
    text = render_files(["io.json"], FIXTURES)
    assert f"{data['files']} Bandai-2 BVH files ({data['frames']:,} frames)" in text
    assert f"forward kinematics {data['motionvigil_read_bvh']['frames_per_s']:,.0f} frames/s" in text
    assert f"parse only {data['motionvigil_parse_only']['frames_per_s']:,.0f} frames/s" in text
    assert f"features {data['joints_to_features']['frames_per_s']:,.0f} frames/s" in text


def test_unknown_benchmark_is_a_one_line_error_naming_the_file(tmp_path):
    (tmp_path / "odd.json").write_text(json.dumps({**fixture("io"), "benchmark": "io_bvh"}))
    with pytest.raises(ValueError) as err:
        render_files(["odd.json"], tmp_path)
    message = str(err.value)
    assert message.startswith("odd.json: unknown benchmark 'io_bvh'") and "\n" not in message


def test_missing_machine_block_and_missing_keys_are_errors(tmp_path):
    data = fixture("pretrain")
    data["machine"] = "x86_64"  # the scripts' old platform.machine() string
    (tmp_path / "old.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="old.json: no machine block"):
        render_files(["old.json"], tmp_path)
    cut = {"benchmark": "detect", "machine": fixture("detect")["machine"]}
    (tmp_path / "cut.json").write_text(json.dumps(cut))
    with pytest.raises(ValueError, match="cut.json: not a complete detect benchmark result"):
        render_files(["cut.json"], tmp_path)


def test_render_doc_fills_a_bench_table_marker(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "results" / "bench")
    doc = ("# Speed\n\n<!-- bench-table:start results/bench/pretrain.json results/bench/io.json -->\n"
           "stale\n<!-- bench-table:end -->\n\nafter\n")
    out = render_doc(doc, tmp_path)
    assert "stale" not in out and out.endswith("<!-- bench-table:end -->\n\nafter\n")
    assert "| preset | encoder | parameters | training pairs/s | inference clips/s |" in out
    assert "Bandai-2 BVH files" in out
    assert out.index("| tiny | TMR") < out.index("Bandai-2")
    assert render_doc(out, tmp_path) == out  # rendering is stable
