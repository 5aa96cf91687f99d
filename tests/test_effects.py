"""Inputs that do nothing under the current choices are named (issue 15), and a ban bans on
both units paths."""
from __future__ import annotations

import json

from models import engine
from models.assumptions import resolve
from models.cli import main
from models.effects import inactive_inputs


def test_typed_units_are_inactive_on_the_market_path():
    a = resolve(overrides=["china.h200_units.CY2026=1200000", "china.levy_rate=0.2"])
    found = inactive_inputs(engine.run(a), ["china.h200_units.CY2026", "china.levy_rate"])
    assert [i.key for i in found] == ["china.h200_units"]
    assert found[0].message() == ("china.h200_units has no effect while china.units_source = "
                                  "market; add --set china.units_source=typed")


def test_typed_units_are_active_on_the_typed_path():
    a = resolve(overrides=["china.units_source=typed", "china.h200_units.CY2026=1200000"])
    assert inactive_inputs(engine.run(a), ["china.h200_units.CY2026"]) == []


def test_build_warns_and_records_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--no-compare", "--out", str(out),
                 "--set", "china.h200_units.CY2026=1200000"]) == 0
    captured = capsys.readouterr()
    assert "eqr: warning: china.h200_units has no effect while china.units_source = market" \
        in captured.err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inactive_inputs"][0]["switches"] == ["china.units_source"]


def test_a_ban_ships_no_h200_on_the_typed_path_either():
    """``--set china.units_source=typed --scenario china_ban``: the typed 1M units were shipped
    under a 'ban' before; the china sheet's typed path now respects China's response."""
    o = engine.run(resolve(["china_ban"], overrides=["china.units_source=typed"])).line_outputs
    assert all(o[f"china.h200_units.{p}"] == 0 for p in ("CY2026", "CY2027", "CY2028"))
    assert o["valuation.china_eps_contribution.CY2026"] == 0
    typed = engine.run(resolve(overrides=["china.units_source=typed"])).line_outputs
    assert typed["china.h200_units.CY2026"] == 1_000_000


def test_the_inputs_sheet_greys_disconnected_rows_live(tmp_path):
    """The typed-units row is greyed by a conditional format that reads the units_source cell,
    so switching the choice in Excel greys or un-greys it at once (issue 15)."""
    import openpyxl
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--no-compare", "--out", str(out)]) == 0
    ws = openpyxl.load_workbook(out / "model.xlsx")["Inputs"]
    row = {ws.cell(r, 3).value: r for r in range(1, ws.max_row + 1)}
    from openpyxl.utils.cell import range_boundaries
    rules = {range_boundaries(str(rng.sqref))[1]: rule.formula[0]
             for rng, found in ws.conditional_formatting._cf_rules.items() for rule in found}
    assert rules[row["china.h200_units"]] == f'$D${row["china.units_source"]}="market"'
