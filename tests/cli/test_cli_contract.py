"""The command line's contract (issue 21): exit statuses, help on every option, the flags
every command of a kind takes. Fast: parsers are walked, models are tiny and random."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from motionvigil.cli import main
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.synthetic import generate_corpus, generate_sequence
from motionvigil.detect import Detector
from motionvigil.io import SMPL22, Motion
from motionvigil.io.arrays import save_npz
from motionvigil.models import MotionTextModel, preset
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.checkpoint import read_config, weights_path
from motionvigil.models.inputs import MotionInputs

CLASSES = ("kick", "punch", "walk")


@pytest.fixture(scope="module")
def detector() -> Detector:
    corpus = generate_corpus(3, seed=0, num_sequences=0, classes=CLASSES)
    torch.manual_seed(0)
    bundle = MotionTextBundle(MotionTextModel(preset("tiny")), MotionInputs.fit("tmr", corpus.clips, 64))
    return Detector.build(bundle, LabelledSet.build(corpus.clips, CLASSES))


@pytest.fixture()
def motion_file(tmp_path):
    joints = generate_sequence(np.random.default_rng(1), actions=["walk", "punch"]).joints
    path = tmp_path / "seq.npz"
    save_npz(path, Motion(joints=joints, fps=20.0, layout=SMPL22))
    return path


def _save(detector: Detector, folder, threshold: float):
    old = detector.threshold
    detector.threshold = threshold
    try:
        detector.save(folder)
    finally:
        detector.threshold = old
    return folder


def test_exit_codes(detector, motion_file, tmp_path, capsys):
    always = _save(detector, tmp_path / "always", -1e6)  # every window alerts
    never = _save(detector, tmp_path / "never", 1e6)
    # 0: ran (alerts or not, without --fail-on-alert)
    assert main(["detect", str(always), str(motion_file)]) == 0
    assert main(["detect", str(never), str(motion_file), "--fail-on-alert"]) == 0
    # 1: ran and raised alerts, only with --fail-on-alert
    assert main(["detect", str(always), str(motion_file), "--fail-on-alert"]) == 1
    # 2: usage error
    with pytest.raises(SystemExit) as info:
        main(["detect", "--no-such-flag"])
    assert info.value.code == 2
    assert main(["convert", str(motion_file), "-o", str(tmp_path / "x.bvh")]) == 2
    # 3: bad input file, unknown dataset
    (tmp_path / "bad.npz").write_bytes(b"not a numpy archive")
    assert main(["detect", str(never), str(tmp_path / "bad.npz"), "--fail-on-alert"]) == 3
    assert main(["data", "info", "no_such_set"]) == 3
    # 4: a detector or checkpoint that fails verification
    weights = weights_path(always, read_config(always))
    weights.write_bytes(weights.read_bytes() + b"x")
    assert main(["detect", str(always), str(motion_file)]) == 4
    assert main(["detect", str(tmp_path), str(motion_file)]) == 4  # not a detector folder
    err = capsys.readouterr().err
    assert "SHA-256" in err and "Traceback" not in err


def test_exit_codes_are_documented():
    from motionvigil.cli import build_parser

    epilog = build_parser().epilog
    for code in ("0", "1", "2", "3", "4"):
        assert f"\n  {code} " in epilog


def test_error_messages_name_flags_not_python_keywords():
    import pathlib

    import motionvigil

    root = pathlib.Path(motionvigil.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text()
        for bad in ("pass skip_bad=True", "pass asf=", "pass fps=", "(scale= in Python)"):
            assert bad not in text, f"{path}: {bad}"


def _options(parser):
    import argparse

    for action in parser._actions:
        if action.option_strings and not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield action


def test_every_option_of_every_subcommand_has_help():
    import argparse

    from motionvigil.cli import build_parser, walk_parsers

    missing = []
    for path, parser in walk_parsers(build_parser()):
        parser.format_help()  # every help renders (no stray % in a help text)
        for action in _options(parser):
            if action.help != argparse.SUPPRESS and not (action.help or "").strip():
                missing.append(f"{' '.join(path)} {action.option_strings[0]}")
        for action in parser._actions:  # positionals too
            if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
                if not (action.help or "").strip():
                    missing.append(f"{' '.join(path)} {action.dest}")
    assert not missing, "options without help: " + ", ".join(missing)


def test_help_shows_defaults_and_no_developer_notes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    assert "``" not in top and "Thin:" not in top and "exit status" in top
    with pytest.raises(SystemExit):
        main(["build-detector", "--help"])
    assert "(default: 5)" in capsys.readouterr().out  # --shots


WRITES = ("convert", "data synth", "pretrain", "retrieval", "probe", "study fewshot", "study detection",
          "study cross-skeleton", "tsne", "build-detector", "zoo build", "metatrain", "supervised", "demo",
          "kinemic-train", "kinemic-finetune", "kinemic-generate", "kinemic-preview", "kinemic-eval", "export")
READS_DATA = ("data info", "pretrain", "retrieval", "probe", "study fewshot", "study detection",
              "study cross-skeleton", "fewshot", "tsne", "build-detector", "zoo build", "metatrain", "supervised",
              "demo", "kinemic-train", "kinemic-finetune", "kinemic-eval")
COMPUTES = ("pretrain", "retrieval", "probe", "study fewshot", "study cross-skeleton", "fewshot", "tsne",
            "build-detector", "detect", "metatrain", "supervised", "demo", "kinemic-train", "kinemic-finetune",
            "kinemic-generate", "kinemic-eval", "serve")
REPORTS = ("convert", "info", "data info", "data synth", "pretrain", "retrieval", "probe", "study fewshot",
           "study detection", "study cross-skeleton", "fewshot", "tsne", "build-detector", "detect", "models",
           "zoo build", "metatrain", "supervised", "demo", "kinemic-train", "kinemic-finetune", "kinemic-generate",
           "kinemic-preview", "kinemic-eval")
HIDDEN_ALIASES = {"demo": ("--out",), "data info": ("--root",), "study detection": ("--data-root",),
                  "study cross-skeleton": ("--data-root", "--markdown"), "zoo build": ("--data-root",),
                  "kinemic-finetune": ("--encoder",), "kinemic-eval": ("--encoder",)}


def _commands():
    from motionvigil.cli import build_parser, walk_parsers

    return {" ".join(path): parser for path, parser in walk_parsers(build_parser()) if path}


@pytest.mark.parametrize("flag, commands", [("--output", WRITES), ("--data", READS_DATA), ("--device", COMPUTES),
                                            ("--json", REPORTS)])
def test_every_command_of_a_kind_takes_the_flag(flag, commands):
    parsers = _commands()
    missing = [c for c in commands if flag not in parsers[c]._option_string_actions]
    assert not missing, f"{flag} missing on: {missing}"
    if flag == "--output":
        assert all("-o" in parsers[c]._option_string_actions for c in commands)


def test_old_spellings_are_hidden_aliases(capsys):
    import argparse

    parsers = _commands()
    for command, flags in HIDDEN_ALIASES.items():
        for flag in flags:
            action = parsers[command]._option_string_actions[flag]
            assert action.help == argparse.SUPPRESS, (command, flag)
            assert not re.search(re.escape(flag) + r"(?![\w-])", parsers[command].format_help()), (command, flag)
    # --encoder means an architecture wherever it is shown
    for command, parser in parsers.items():
        action = parser._option_string_actions.get("--encoder")
        if action is not None and action.help != argparse.SUPPRESS:
            assert action.choices, command
    ns = parsers["demo"].parse_args(["--out", "X"])
    assert ns.output == "X"
    ns = parsers["kinemic-eval"].parse_args(["--data", "d", "--prior", "p", "--encoder", "E", "--source", "s",
                                             "-o", "o"])
    assert ns.encoder_model == "E"
    ns = parsers["study cross-skeleton"].parse_args(["--markdown", "t.md", "--data-root", "R"])
    assert ns.output == "t.md" and ns.data_root == "R"


def test_json_reports_are_one_object_on_stdout(tmp_path, capsys):
    import json

    assert main(["data", "synth", "-o", str(tmp_path / "d"), "--clips", "1", "--sequences", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["clips"] > 0 and out["data"] == f"folder:{tmp_path / 'd'}"
    assert main(["data", "info", "--data", f"folder:{tmp_path / 'd'}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clips"] == out["clips"]
    clip = sorted((tmp_path / "d").rglob("*.npz"))[0]
    assert main(["info", str(clip), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["files"][0]["joints"] == 22
    assert main(["convert", str(clip), "-o", str(tmp_path / "c.npz"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["features"][1] == 263


def test_build_detector_zero_shot_from_prompts(detector, motion_file, tmp_path, capsys):
    import json

    from motionvigil.datasets.folder import export_dataset

    detector.bundle.save(tmp_path / "model")
    calm = generate_corpus(3, seed=2, num_sequences=0, classes=("walk", "wave"))
    export_dataset(calm, tmp_path / "calm")
    out = tmp_path / "zs"
    rc = main(["build-detector", str(tmp_path / "model"), "--prompts", "punch", "kick", "walk",
               "--calm", f"folder:{tmp_path / 'calm'}", "--target-fpr", "0.2", "-o", str(out), "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["classes"] == ["punch", "kick", "walk"] and summary["policy"] == "target_fpr=0.2"
    det = Detector.load(out)
    assert det.info["prototypes_from"] == "prompts" and det.info["prompts"] == ["punch", "kick", "walk"]
    assert det.calibration["n_violent"] == 0 and det.calibration["n_nonviolent"] == sum(
        c.split in (None, "train") for c in calm.clips)  # calm training clips only
    assert main(["detect", str(out), str(motion_file), "--json"]) == 0
    # exactly one of --support / --prompts; support-only flags are refused with --prompts
    assert main(["build-detector", str(tmp_path / "model"), "-o", str(tmp_path / "x")]) == 2
    assert main(["build-detector", str(tmp_path / "model"), "--prompts", "punch", "--adapt",
                 "-o", str(tmp_path / "x")]) == 2


def test_training_config_print_and_repeat(tmp_path, capsys):
    import json

    from motionvigil.models.checkpoint import read_config as read_checkpoint

    from motionvigil.datasets.folder import export_dataset

    export_dataset(generate_corpus(3, seed=0, num_sequences=0, classes=CLASSES), tmp_path / "d")
    run = tmp_path / "run"
    flags = ["pretrain", "--data", f"folder:{tmp_path / 'd'}", "-o", str(run), "--epochs", "1", "--batch-size", "4"]
    capsys.readouterr()
    assert main([*flags, "--print-config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["command"] == "pretrain" and printed["options"]["epochs"] == 1
    assert printed["options"]["lr"] == 1e-4 and not run.exists()  # defaults resolved, nothing run
    assert main(flags) == 0
    written = json.loads((run / "run_config.json").read_text())
    assert written["options"] == printed["options"]
    # the file repeats the run exactly (same weights); command-line options win over it
    again = tmp_path / "again"
    assert main(["pretrain", "--config", str(run / "run_config.json"), "-o", str(again)]) == 0
    assert read_checkpoint(again / "best")["weights_sha256"] == read_checkpoint(run / "best")["weights_sha256"]
    capsys.readouterr()
    assert main(["pretrain", "--config", str(run / "run_config.json"), "--epochs", "3", "--print-config"]) == 0
    options = json.loads(capsys.readouterr().out)["options"]
    assert options["epochs"] == 3 and options["batch_size"] == 4 and options["data"] == printed["options"]["data"]
    # metatrain takes its positional START from the file too; a wrong file is a usage error
    cfg = tmp_path / "meta.json"
    cfg.write_text(json.dumps({"start": str(run), "data": ["procedural"], "output": "m", "iterations": 7}))
    assert main(["metatrain", "--config", str(cfg), "--print-config"]) == 0
    options = json.loads(capsys.readouterr().out)["options"]
    assert options["start"] == str(run) and options["iterations"] == 7 and options["ways"] == 5
    cfg.write_text(json.dumps({"no_such_option": 1}))
    with pytest.raises(SystemExit) as info:
        main(["supervised", "--config", str(cfg), "--print-config"])
    assert info.value.code == 2 and "no_such_option" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["supervised", "--config", str(run / "run_config.json")])  # written by pretrain
    assert info.value.code == 2


def test_device_auto_resolves_on_every_computing_command():
    parsers = _commands()
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    for command in COMPUTES:
        action = parsers[command]._option_string_actions["--device"]
        assert action.type("auto") == expected and action.type("cuda:1") == "cuda:1", command


def test_kinemic_commands_take_device_and_json(detector, tmp_path, capsys):
    import json

    from motionvigil.datasets.folder import export_dataset

    export_dataset(generate_corpus(3, seed=0, num_sequences=0, classes=CLASSES), tmp_path / "d")
    detector.bundle.save(tmp_path / "enc")
    data = f"folder:{tmp_path / 'd'}"
    capsys.readouterr()
    assert main(["kinemic-train", "--data", data, "-o", str(tmp_path / "prior"), "--steps", "2", "--batch-size", "4",
                 "--device", "auto", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["train_clips"] == 6  # the training log went to stderr
    assert main(["kinemic-finetune", str(tmp_path / "prior"), "--data", data, "--source", data, "--encoder-model",
                 str(tmp_path / "enc"), "--shots", "2", "--steps", "2", "-o", str(tmp_path / "gen"), "--device", "cpu",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["classes"] == 3
    assert main(["kinemic-generate", str(tmp_path / "gen"), "-o", str(tmp_path / "out"), "--per-class", "1",
                 "--device", "cpu", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clips"] == 3
