"""The notebook API (issue 19): the same runs as the CLI, as pandas objects."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from models import api as eqr
from models.cli import main

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def test_the_docs_example_runs():
    code = "\n".join(re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S))
    assert "eqr.run(" in code
    exec(compile(code, str(DOC), "exec"), {})


def test_frame_and_write_match_the_cli(tmp_path):
    """The API's frame equals the CLI's output, and .write gives the CLI's outputs.json."""
    run = eqr.run(scenarios=["china_open"], overrides={"china.levy_rate": 0.15}, compare=[])
    cli = tmp_path / "cli"
    assert main(["build", "--no-pdf", "--no-compare", "--scenario", "china_open", "--set",
                 "china.levy_rate=0.15", "--out", str(cli)]) == 0
    by_cli = json.loads((cli / "outputs.json").read_text())
    assert run.frame("china").loc["levy", "CY2026"] == by_cli["china.levy.CY2026"]
    folder = run.write(tmp_path / "api", pdf=False)
    assert json.loads((folder / "outputs.json").read_text()) == by_cli


def test_bad_input_raises_eqr_error_not_system_exit():
    with pytest.raises(eqr.EqrError, match="did you mean 0.25"):
        eqr.run(overrides={"china.levy_rate": 25})
    with pytest.raises(eqr.EqrError):
        eqr.run().frame("no_such_model")


def test_diff_attributes_the_change(tmp_path):
    """eqr.diff: the target's change is split between the changed assumptions (Shapley) and
    the shares add up to the change."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["build", "--no-pdf", "--no-compare", "--out", str(a)]) == 0
    assert main(["build", "--no-pdf", "--no-compare", "--scenario", "china_open", "--set",
                 "china.levy_rate=0.15", "--out", str(b)]) == 0
    frame = eqr.diff(a, b)
    row = frame.loc["valuation.price_target"]
    shares = row.drop(["A", "B", "change", "other"])
    assert row["change"] > 0
    assert shares.sum() + row["other"] == pytest.approx(row["change"], abs=1e-9)
