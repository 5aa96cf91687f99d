"""Unit sanity on every path a value can take (sheet, overlay, --set; the workbook read-back
when it exists): a percentage typed as a whole number is caught for every fraction-like
unit, and a value far outside an assumption's bounds is refused unless --force, naming the
bound. The cases are derived from the assumption sheets, so new models are covered."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from models.assumptions import ASSUMPTIONS_DIR, UNITS, _fraction_like, resolve
from models.cli import main

BASE = resolve()


def _flat_key(item) -> str:
    return f"{item.key}.{next(iter(item.value))}" if item.is_series else item.key


FRACTIONS = [it for it in BASE.items.values()
             if UNITS[it.unit].kind == "number" and any(_fraction_like(it))]
BOUNDED = [it for it in BASE.items.values()
           if UNITS[it.unit].kind == "number" and it.bounds != (None, None)]


def _far_outside(item) -> tuple[float, float, str]:
    """A value far beyond one of the item's sheet bounds, the bound, and its side."""
    lo, hi = item.bounds
    if hi is not None:
        return (hi * 10 if hi > 0 else hi + 1000), hi, "upper"
    return (lo / 10 if lo > 0 else lo - 1000), lo, "lower"


def run(capsys, *args):
    code = main(["check", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err


def test_there_is_something_to_check():
    assert FRACTIONS and BOUNDED


@pytest.mark.parametrize("item", FRACTIONS, ids=lambda it: it.key)
def test_percentage_as_whole_number_on_the_command_line(capsys, item):
    code, err = run(capsys, "--set", f"{_flat_key(item)}=25")
    assert code == 2 and "percentage given as a whole number" in err
    assert _flat_key(item) in err and "did you mean 0.25?" in err
    code, err = run(capsys, "--set", f"{_flat_key(item)}=25%")
    assert code == 2 and "0.25" in err  # '25%' is text: the hint says how to write it


@pytest.mark.parametrize("item", FRACTIONS, ids=lambda it: it.key)
def test_percentage_as_whole_number_in_an_overlay_names_file_and_line(capsys, sheets, item):
    (sheets / "scenarios" / "pct.yaml").write_text(
        f"description: x\nset:\n  {_flat_key(item)}: 25\n")
    code, err = run(capsys, "--assumptions", str(sheets), "--scenario", "pct")
    assert code == 2 and "pct.yaml:3:" in err and "percentage" in err


@pytest.mark.parametrize("item", FRACTIONS, ids=lambda it: it.key)
def test_percentage_as_whole_number_in_the_sheet_names_file_and_line(capsys, sheets, item):
    path = sheets / "china.yaml" if item.model == "china" else sheets / f"{item.model}.yaml"
    lines = path.read_text().splitlines()
    start = item.line  # the item's line; its value line follows
    i = next(n for n in range(start, len(lines)) if lines[n].strip().startswith("value:"))
    value = "25" if not item.is_series else \
        "{" + ", ".join(f"{p}: 25" for p in item.value) + "}"
    lines[i] = re.sub(r"value:.*", f"value: {value}", lines[i])
    path.write_text("\n".join(lines) + "\n")
    code, err = run(capsys, "--assumptions", str(sheets))
    assert code == 2 and f"{path.name}:{i + 1}:" in err and "percentage" in err


@pytest.mark.parametrize("item", [it for it in FRACTIONS if _fraction_like(it)[0]],
                         ids=lambda it: it.key)
def test_force_does_not_turn_25_into_2500_percent(capsys, item):
    code, err = run(capsys, "--set", f"{_flat_key(item)}=25", "--force")
    assert code == 2 and "percentage" in err


def test_every_fraction_like_unit_is_checked(capsys, sheets):
    """Signed fractions, and any unit an assumption bounds to [.., 1], not only 'fraction'."""
    (sheets / "zz_extra.yaml").write_text(
        "model: zz_extra\nperiods: [P1]\nassumptions:\n"
        "  margin_change:\n    unit: fraction (signed)\n    value: 0.1\n    source: s\n"
        "  utilisation:\n    unit: ratio\n    bounds: [0, 1]\n    value: 0.8\n    source: s\n")
    base = ["--assumptions", str(sheets)]
    assert run(capsys, *base)[0] == 0
    for key, value in [("zz_extra.margin_change", "-25"), ("zz_extra.margin_change", "30"),
                       ("zz_extra.utilisation", "80")]:
        code, err = run(capsys, *base, "--set", f"{key}={value}")
        assert code == 2 and "percentage" in err and key in err, err
    # the sheet's own bounds are what make `utilisation` a fraction: --force lifts them
    assert run(capsys, *base, "--set", "zz_extra.utilisation=80", "--force")[0] == 0
    assert run(capsys, *base, "--set", "zz_extra.margin_change=-0.25")[0] == 0


@pytest.mark.parametrize("item", BOUNDED, ids=lambda it: it.key)
def test_far_outside_bounds_on_every_path(capsys, sheets, item, tmp_path):
    value, bound, side = _far_outside(item)
    key = _flat_key(item)
    fragment = f"{'above its upper' if side == 'upper' else 'below its lower'} bound {bound:g}"
    fragments = [fragment]
    if any(_fraction_like(item)):  # 10 for a 0–1 figure reads as a whole-number percentage
        fragments.append("percentage given as a whole number")
    # --set
    code, err = run(capsys, "--set", f"{key}={value!r}")
    assert code == 2 and any(f in err for f in fragments) and key in err, err
    # overlay
    (sheets / "scenarios" / "far.yaml").write_text(f"description: x\nset:\n  {key}: {value!r}\n")
    code, err = run(capsys, "--assumptions", str(sheets), "--scenario", "far")
    assert code == 2 and any(f in err for f in fragments) and "far.yaml:3:" in err, err
    # forced: accepted, or refused because a row overflowed, or by the model's own check
    # (a salvage above cost): never by the sheet's bounds again
    code, err = run(capsys, "--set", f"{key}={value!r}", "--force")
    assert code == 0 or "not a finite number" in err or (
        key in err and "the sheet's bounds" not in err), err


def test_a_forced_run_says_so_in_its_manifest(capsys, tmp_path):
    out = tmp_path / "forced"
    assert main(["build", "--no-pdf", "--set", "china.asp_usd=500", "--force",
                 "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["forced"] is True and manifest["resolved_assumptions"]["china.asp_usd"] == 500


def test_far_outside_bounds_in_the_sheet_names_file_line_and_bound(capsys, sheets):
    path = sheets / "china.yaml"
    text = path.read_text().replace("value: 24.483", "value: 244.83")
    path.write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "value: 244.83" in l)
    code, err = run(capsys, "--assumptions", str(sheets))
    assert code == 2 and f"china.yaml:{line}:" in err and "above its upper bound 30" in err
    assert "--force" in err
    assert run(capsys, "--assumptions", str(sheets), "--force")[0] == 0


def test_unit_bounds_name_the_unit(capsys):
    code, err = run(capsys, "--set", "china.h200_units.CY2026=-5", "--force")
    assert code == 0  # --force runs outside unit bounds too (the analyst asked for it)
    code, err = run(capsys, "--set", "china.opex_ratio=1.5")
    assert code == 2 and "percentage" in err  # 1.5 -> did you mean 0.015?
    code, err = run(capsys, "--set", "china.tax_rate=-0.5")
    assert code == 2 and "below its lower bound 0" in err and "unit 'fraction'" in err


def test_bad_bounds_and_ranges_in_the_sheet(capsys, sheets):
    path = sheets / "china.yaml"
    original = path.read_text()
    for old, new, fragment in [
            ("bounds: [20, 30]", "bounds: [30, 20]", "bounds the wrong way round"),
            ("bounds: [20, 30]", "bounds: [20, .inf]", "bad bounds"),
            ("    low: 0.12\n    high: 0.21", "    low: 0.21\n    high: 0.12",
             "low above high"),
            ("low: {CY2025: 0, CY2026: 300000", "low: {CY2025: 0, CY2026: 3000000",
             "low above high")]:
        assert old in original
        path.write_text(original.replace(old, new, 1))
        code, err = run(capsys, "--assumptions", str(sheets))
        assert code == 2 and fragment in err and "china.yaml:" in err, (new, err)


def test_percentage_and_bounds_in_a_workbook_read_back(capsys, tmp_path):
    """The fourth path: a value typed into a returned workbook's Inputs sheet."""
    import openpyxl
    from models.cli import parser
    sub = next(a for a in parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    if not any("--from-workbook" in a.option_strings for a in sub.choices["build"]._actions):
        pytest.skip("no --from-workbook yet")
    run = tmp_path / "run"
    assert main(["build", "--no-pdf", "--no-compare", "--out", str(run)]) == 0
    capsys.readouterr()
    fraction = next(it for it in FRACTIONS if it.model == "china" and not it.is_series)
    bounded = next(it for it in BOUNDED if it.model == "china" and not it.is_series)
    for item, typed, fragment in [(fraction, 25, "percentage given as a whole number"),
                                  (bounded, _far_outside(bounded)[0], "bound")]:
        wb = openpyxl.load_workbook(run / "model.xlsx")
        ws = wb["Inputs"]
        row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 3).value == item.key)
        ws.cell(row, 4).value = typed
        returned = tmp_path / "returned.xlsx"
        wb.save(returned)
        code = main(["assumptions", "--from-workbook", str(returned)])
        err = capsys.readouterr().err
        assert code == 2 and fragment in err and item.key in err, err
        assert f"returned.xlsx:Inputs!D{row}:" in err, err
