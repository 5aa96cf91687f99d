"""Bad input: a short error naming file and line (or key), expected vs found; exit 2; no
traceback; nothing written."""
import re

import pytest

from models.cli import main


def build(capsys, tmp_path, *args, sheets=None):
    reports = tmp_path / "reports"
    argv = ["build", "--no-pdf", "--reports", str(reports), *args]
    if sheets is not None:
        argv += ["--assumptions", str(sheets)]
    code = main(argv)
    err = capsys.readouterr().err
    written = list(reports.iterdir()) if reports.exists() else []
    return code, err, written


def assert_user_error(code, err, written, *fragments):
    assert code == 2
    assert "Traceback" not in err
    assert err.startswith("eqr: error: ")
    for f in fragments:
        assert f in err, err
    assert written == []


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def line_of(path, needle):
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_levy_given_as_whole_percentage(capsys, tmp_path):
    res = build(capsys, tmp_path, "--set", "china.levy_rate=25")
    assert_user_error(*res, "china.levy_rate", "expected a fraction between 0 and 1",
                      "found 25", "did you mean 0.25?")


def test_levy_as_percentage_in_the_sheet_names_file_and_line(capsys, tmp_path, sheets):
    f = sheets / "china.yaml"
    edit(f, "value: 0.25", "value: 25")
    res = build(capsys, tmp_path, sheets=sheets)
    line = line_of(f, "value: 25")
    assert_user_error(*res, f"china.yaml:{line}:", "china.levy_rate", "found 25")


def test_negative_units(capsys, tmp_path):
    res = build(capsys, tmp_path, "--set", "china.h200_units.CY2026=-5")
    assert_user_error(*res, "china.h200_units.CY2026", "below its lower bound", "found -5")


def test_negative_units_in_the_sheet(capsys, tmp_path, sheets):
    f = sheets / "china.yaml"
    edit(f, "CY2026: 1000000, CY2027", "CY2026: -1000000, CY2027")
    res = build(capsys, tmp_path, sheets=sheets)
    assert_user_error(*res, "china.yaml:", "china.h200_units.CY2026", "found -1000000")


def test_misspelt_key_on_the_command_line(capsys, tmp_path):
    res = build(capsys, tmp_path, "--set", "china.levy_rat=0.2")
    assert_user_error(*res, "china.levy_rat", "unknown assumption",
                      "did you mean 'china.levy_rate'?")


def test_misspelt_field_in_the_sheet(capsys, tmp_path, sheets):
    f = sheets / "china.yaml"
    edit(f, "    source: \"Bernstein note; BofA", "    sourc: \"Bernstein note; BofA")
    res = build(capsys, tmp_path, sheets=sheets)
    line = line_of(f, "sourc:")
    assert_user_error(*res, f"china.yaml:{line}:", "unknown field 'sourc'",
                      "did you mean 'source'?")


def test_wrong_type(capsys, tmp_path):
    res = build(capsys, tmp_path, "--set", "china.asp_usd=cheap")
    assert_user_error(*res, "china.asp_usd", "expected a number in USD per unit",
                      "found 'cheap'")


def test_wrong_type_in_the_sheet(capsys, tmp_path, sheets):
    f = sheets / "china.yaml"
    edit(f, "value: 40000", "value: forty thousand")
    res = build(capsys, tmp_path, sheets=sheets)
    assert_user_error(*res, f"china.yaml:{line_of(f, 'forty thousand')}:", "wrong type")


def test_broken_yaml_names_the_line(capsys, tmp_path, sheets):
    f = sheets / "china.yaml"
    edit(f, "  levy_rate:\n", "  levy_rate: [\n")
    res = build(capsys, tmp_path, sheets=sheets)
    assert_user_error(*res, "china.yaml:", "broken YAML")
    assert re.search(r"china\.yaml:\d+:", res[1])


def test_unknown_scenario(capsys, tmp_path):
    res = build(capsys, tmp_path, "--scenario", "levy_contr")
    assert_user_error(*res, "unknown scenario", "found 'levy_contr'",
                      "did you mean 'levy_contra'?")


def test_scenario_name_cannot_be_a_path(capsys, tmp_path):
    res = build(capsys, tmp_path, "--scenario", "../china")
    assert_user_error(*res, "bad scenario name")


def test_unknown_treatment(capsys, tmp_path):
    res = build(capsys, tmp_path, "--set", "china.levy_treatment=revenue")
    assert_user_error(*res, "china.levy_treatment", "expected one of ['cogs', 'contra_revenue']",
                      "found 'revenue'")


def test_unknown_treatment_in_an_overlay_names_overlay_line(capsys, tmp_path, sheets):
    overlay = sheets / "scenarios" / "typo.yaml"
    overlay.write_text("description: typo\nset:\n  china.levy_treatment: cog\n")
    res = build(capsys, tmp_path, "--scenario", "typo", sheets=sheets)
    assert_user_error(*res, "typo.yaml:3:", "found 'cog'", "did you mean 'cogs'?")


def test_series_set_without_a_period(capsys, tmp_path):
    res = build(capsys, tmp_path, "--set", "china.h200_units=5")
    assert_user_error(*res, "set one period at a time")


def test_unknown_period(capsys, tmp_path):
    res = build(capsys, tmp_path, "--set", "china.h200_units.CY2062=5")
    assert_user_error(*res, "unknown period", "expected one of ['CY2025'", "did you mean")


def test_out_folder_not_empty_is_refused(capsys, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier work")
    code = main(["build", "--no-pdf", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "not empty" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_force_accepts_out_of_bounds_values(capsys, tmp_path):
    code, err, written = build(capsys, tmp_path, "--set", "china.asp_usd=500")
    assert code == 2 and "below its lower bound 1000" in err and "--force" in err
    code = main(["build", "--no-pdf", "--reports", str(tmp_path / "r2"), "--set", "china.asp_usd=500",
                 "--force"])
    assert code == 0
