"""The notebook API (issue 19): the same runs as the CLI, as pandas objects."""
from __future__ import annotations

import json
import math
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


def test_na_outputs_are_none_in_frames_and_skipped_by_sweep_percentiles():
    """Issue 13: no H200 in CY2025 (typed units 0) → no revenue → the gross margin is n/a
    (None), not 0%; CY2026 with 1,000,000 × $40,000, 25% levy in COGS, 70% margin before it is
    (40,000 − 10,000 − 12,000)/40,000 = 45%. A sweep's percentiles skip n/a draws and say their
    share: the CY2025 margin is n/a in every draw (typed units 0 have no range)."""
    typed = {"china.units_source": "typed", "china.h200_units.CY2025": 0,
             "china.h200_units.CY2026": 1_000_000, "china.asp_usd": 40_000,
             "china.levy_rate": 0.25, "china.gross_margin_pre_levy": 0.70,
             "china.levy_treatment": "cogs"}
    run = eqr.run(overrides=typed, compare=[])
    assert run.value("china.gross_margin", "CY2025") is None
    assert math.isnan(run.frame("china").loc["gross_margin", "CY2025"])  # pandas: NaN
    assert run.value("china.gross_margin", "CY2026") == pytest.approx(0.45)
    out = eqr.sweep(40, seed=2, outputs=["china.gross_margin.CY2025", "china.levy.CY2025"],
                    overrides=typed, keep_draws=True)
    na = out.summary.loc["china.gross_margin.CY2025"]
    assert na["n/a share"] == 1.0 and math.isnan(na["P50"]) and math.isnan(na["mean"])
    levy = out.summary.loc["china.levy.CY2025"]  # genuinely zero: a number, never n/a
    assert levy["n/a share"] == 0.0 and levy["P50"] == 0.0
