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
    rules: dict[int, set[str]] = {}
    for rng, found in ws.conditional_formatting._cf_rules.items():
        for rule in found:
            rules.setdefault(range_boundaries(str(rng.sqref))[1], set()).add(rule.formula[0])
    # typed units: greyed on the market path, and under a continued ban on the typed path
    assert rules[row["china.h200_units"]] == {
        f'$D${row["china.units_source"]}="market"',
        f'$D${row["china_market.china_response"]}="continued_ban"'}
    # a flag product (asp × 'asp_case is low' flag): greyed unless the case is low
    assert rules[row["blackwell.asp_package_low_usd"]] == {
        f'$D${row["blackwell.asp_case"]}<>"low"'}


def _listing_line(capsys, *args):
    assert main(["assumptions", "--model", "china", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = lines[0]
    start, end = head.index("no effect while"), head.index("source")
    line = next(l for l in lines if l.startswith("china.h200_units "))
    return line[start:end].strip()


def test_assumptions_listing_marks_inputs_with_no_effect(capsys):
    """``eqr assumptions`` names the switch that disconnects an input, and --set of the switch
    changes the marker (issue 15)."""
    assert _listing_line(capsys) == "china.units_source = market"
    assert _listing_line(capsys, "--set", "china.units_source=typed") == ""
    # the typed path under a ban: the response disconnects the typed units instead
    assert _listing_line(capsys, "--set", "china.units_source=typed", "--set",
                         "china_market.china_response=continued_ban") == \
        "china_market.china_response = continued_ban"


def test_flag_rows_and_flag_products_are_switches():
    """Forms beyond IF(choice = "text"): valuation's IF(flag = 1, ...) with a flag row on
    eps_source, china's IF on a choice linked from china_market, and blackwell's ``asp × flag``
    products on asp_case. Static guards (the workbook's greying) and the run's inactive inputs
    both see them."""
    from models.effects import choice_test, switch_guards
    a = resolve()
    result = engine.run(a)
    china_eps = result.specs["valuation"].row("china_eps_contribution").expr
    assert choice_test(china_eps.args[0]) == ("valuation.eps_source", "model", True)
    guards = {(g.key, g.switch, g.value, g.equal) for g in switch_guards(result.specs)}
    assert ("blackwell.asp_package_low_usd", "blackwell.asp_case", "low", False) in guards
    assert ("china.h200_units", "china_market.china_response", "continued_ban", True) in guards
    found = {i.key: i.switches for i in inactive_inputs(
        result, ["blackwell.asp_package_low_usd", "blackwell.asp_package_base_usd"])}
    assert found == {"blackwell.asp_package_low_usd":
                     (("blackwell.asp_case", "base", ("low", "high")),)}


def _set_examples() -> list[tuple[str, list[str]]]:
    """(where, the --set values of one example): the --set help of every command, and each
    line of README.md and docs/models.md with ``--set KEY=VALUE`` on it."""
    import re
    from pathlib import Path
    from models.cli import parser
    pattern = re.compile(r"([a-z_]+\.[A-Za-z0-9_.]+)=([^\s,`\"')…]+)")
    out = []
    sub = next(a for a in parser()._actions if a.dest == "command")
    for name, command in sub.choices.items():
        for action in command._actions:
            if action.dest == "overrides":
                out += [(f"eqr {name} --help", [f"{k}={v}"])
                        for k, v in pattern.findall(action.help)]
    root = Path(__file__).resolve().parents[1]
    for doc in ("README.md", "docs/models.md"):
        for number, line in enumerate((root / doc).read_text().splitlines(), start=1):
            found = re.findall(r"--set[ =]" + pattern.pattern, line)
            if found:
                out.append((f"{doc}:{number}", [f"{k}={v}" for k, v in found]))
    return out


def test_help_and_readme_examples_set_inputs_that_take_effect():
    """Issue 15: the README and --help showed --set china.h200_units.CY2026=1200000, which does
    nothing in the default run. Every --set example now reaches a result under the choices of
    its own line (a line that needs a switch sets it)."""
    examples = _set_examples()
    assert any(where.startswith("eqr build --help") for where, _ in examples)
    assert any(where.startswith("README.md") for where, _ in examples)
    for where, sets in examples:
        a = resolve(overrides=sets)
        found = inactive_inputs(engine.run(a), [s.split("=")[0] for s in sets])
        assert found == [], f"{where}: {[i.message() for i in found]}"
