"""An unknown figure is an explicit gap: ``unknown: true`` with a note. Wrong use is a clear
error (file:line, exit 2); the gap reaches outputs.json as null, the workbook as #N/A and the
memo as n/a; ``--set`` fills it."""
import json

from models.cli import main
from test_bad_input import assert_user_error, build, edit, line_of

GAP = """  tdp_MTT_S4000:
    label: "Moore Threads MTT S4000: TDP"
    unit: W
    unknown: true
    source: "unknown: not found in any stored source"
    note: "No stored source gives the S4000's power."
"""


def test_the_bundled_gap_is_in_the_sheet(sheets):
    assert GAP in (sheets / "export_control.yaml").read_text()


def test_unknown_needs_a_note(capsys, tmp_path, sheets):
    f = sheets / "export_control.yaml"
    edit(f, GAP, GAP.replace("""    note: "No stored source gives the S4000's power."\n""", ""))
    res = build(capsys, tmp_path, sheets=sheets)
    assert_user_error(*res, "export_control.yaml:", "export_control.tdp_MTT_S4000",
                      "needs a note saying why")


def test_unknown_cannot_also_have_a_value(capsys, tmp_path, sheets):
    f = sheets / "export_control.yaml"
    edit(f, GAP, GAP.replace("    unknown: true\n", "    unknown: true\n    value: 450\n"))
    res = build(capsys, tmp_path, sheets=sheets)
    line = line_of(f, "value: 450")
    assert_user_error(*res, f"export_control.yaml:{line}:", "cannot also have a value",
                      "found 450")


def test_unknown_source_must_say_so(capsys, tmp_path, sheets):
    f = sheets / "export_control.yaml"
    edit(f, GAP, GAP.replace('source: "unknown: not found', 'source: "not found'))
    res = build(capsys, tmp_path, sheets=sheets)
    assert_user_error(*res, "export_control.tdp_MTT_S4000", "source must say so",
                      "expected source: \"unknown:")


def test_unknown_must_be_true(capsys, tmp_path, sheets):
    f = sheets / "export_control.yaml"
    edit(f, GAP, GAP.replace("unknown: true", "unknown: maybe"))
    res = build(capsys, tmp_path, sheets=sheets)
    line = line_of(f, "unknown: maybe")
    assert_user_error(*res, f"export_control.yaml:{line}:", "bad 'unknown'", "found 'maybe'")


def test_a_choice_cannot_be_unknown(capsys, tmp_path, sheets):
    f = sheets / "china.yaml"
    edit(f, "    value: cogs\n", "    unknown: true\n")
    res = build(capsys, tmp_path, sheets=sheets)
    assert_user_error(*res, "china.yaml:", "china.levy_treatment", "cannot be unknown")


def test_blank_value_points_to_unknown(capsys, tmp_path, sheets):
    f = sheets / "china.yaml"
    edit(f, "    value: 40000\n", "    value:\n")
    res = build(capsys, tmp_path, sheets=sheets)
    assert_user_error(*res, "china.yaml:", "china.asp_usd", "missing value",
                      "'unknown: true' with a note")


def test_gap_is_null_in_outputs_na_in_memo_and_set_fills_it(tmp_path):
    out = tmp_path / "gap"
    assert main(["build", "--no-pdf", "--out", str(out)]) == 0
    outputs = json.loads((out / "outputs.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert outputs["export_control.tdp.MTT_S4000"] is None
    assert manifest["resolved_assumptions"]["export_control.tdp_MTT_S4000"] is None
    memo = (out / "memo.md").read_text()
    assert "| Moore Threads MTT S4000 | 100.0 | 1,600 | n/a | n/a | unknown |" in memo

    filled = tmp_path / "filled"
    assert main(["build", "--no-pdf", "--out", str(filled), "--set",
                 "export_control.die_area_MTT_S4000=500"]) == 0
    outputs = json.loads((filled / "outputs.json").read_text())
    assert outputs["export_control.performance_density.MTT_S4000"] == 3.2
    assert outputs["export_control.eccn_3a090a.MTT_S4000"] == 0
    memo = (filled / "memo.md").read_text()
    assert "| Moore Threads MTT S4000 | 100.0 | 1,600 | 500 | 3.20 | not caught |" in memo


def test_an_unknown_figure_under_the_price_target_reaches_every_scenario_and_check(
        tmp_path, sheets):
    """Found by the fuzz: the tax rate marked unknown (now the nvda sheet's, under every
    forecast quarter's EPS). Every compared scenario's target, the
    probability-weighted target and the checks that rest on it are unknown (null, #N/A, n/a),
    and LibreOffice computes the same #N/A cells as Python."""
    import yaml

    from conftest import require_tool
    from models.recalc import compare, recalculate, soffice_path
    path = sheets / "nvda.yaml"
    data = yaml.safe_load(path.read_text())
    entry = data["assumptions"]["tax_rate"]
    for field in ("value", "low", "high"):
        entry.pop(field, None)
    entry.update(unknown=True, source="unknown: test", note="no source gives it")
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--assumptions", str(sheets), "--out", str(out)]) == 0
    outputs = json.loads((out / "outputs.json").read_text())
    assert outputs["valuation.price_target"] is None
    assert outputs["scenarios.probability_weighted.valuation.price_target"] is None
    assert "| **Price target** | **n/a** |" in (out / "memo.md").read_text()
    require_tool("LibreOffice (soffice)", soffice_path() is not None)
    checked, mismatches = compare(out / "model.xlsx",
                                  recalculate(out / "model.xlsx", tmp_path / "lo"))
    assert checked > 100 and mismatches == [], mismatches[:5]
