"""`study fewshot` refuses flag combinations that would break the class-disjoint protocol."""

from __future__ import annotations

import pytest

from motionvigil.cli import main


@pytest.mark.parametrize("extra, message", [
    (["--class-split", "novel", "--pretrained", "somewhere"], "leave out --pretrained"),
    (["--fold", "1"], "--fold needs --class-split novel"),
])
def test_usage_errors(extra, message, tmp_path, capsys):
    assert main(["study", "fewshot", "--data", "procedural", "-o", str(tmp_path / "s"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()
