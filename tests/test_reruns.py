"""Run folders and reruns: same inputs → same hash, nothing overwritten, ``latest`` moves,
``manifest.json`` is enough to reproduce ``outputs.json`` byte for byte."""
import json
import os

import pytest

from models.assumptions import resolve
from models.cli import main
from models.runs import run_id


def runs_in(reports):
    return sorted(p for p in reports.iterdir() if p.name != "latest")


def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --------------------------------------------------------------------------- hash
def test_same_inputs_same_hash_whatever_route(base):
    assert resolve().digest() == base.digest()
    scenario = resolve(["h20_terms"])
    by_set = resolve(overrides=["china.levy_rate=0.15", "china.asp_usd=27000"])
    by_set_other_order = resolve(overrides=["china.asp_usd=27000.0", "china.levy_rate=0.150"])
    assert scenario.digest() == by_set.digest() == by_set_other_order.digest()
    assert run_id(scenario).rsplit("_", 1)[1] == run_id(by_set).rsplit("_", 1)[1]
    # and different inputs, a different hash (even a change in the 10th digit)
    assert resolve(overrides=["china.levy_rate=0.1500000001"]).digest() != scenario.digest()
    assert resolve(overrides=["china.h200_units.CY2028=500001"]).digest() != base.digest()


def test_a_changed_range_changes_the_hash(base, sheets):
    """The sensitivity grids' axes come from the ranges, so a range is an input too: same
    values with another range must not share a hash (their outputs.json differ)."""
    f = sheets / "china.yaml"
    f.write_text(f.read_text().replace("    low: 27000", "    low: 20000"))
    other = resolve(directory=sheets)
    assert other.flat_values() == base.flat_values()
    assert other.digest() != base.digest()
    from models import engine
    assert engine.run(other).outputs != engine.run(base).outputs


def test_run_folder_name_carries_date_scenario_and_hash():
    a = resolve(["h20_terms"], ["china.tax_rate=0.2"])
    import datetime as dt
    rid = run_id(a, dt.date(2026, 1, 15))
    assert rid == f"2026-01-15_h20_terms+set_{a.digest()[:8]}"


def test_nothing_overwrites_an_earlier_run_and_latest_moves(tmp_path, capsys):
    reports = tmp_path / "reports"
    assert main(["build", "--no-pdf", "--reports", str(reports)]) == 0
    first = runs_in(reports)[0]
    before = snapshot(first)
    assert os.readlink(reports / "latest") == first.name
    assert main(["build", "--no-pdf", "--reports", str(reports)]) == 0  # same inputs, same day
    folders = runs_in(reports)
    assert [p.name for p in folders] == [first.name, first.name + "-2"]
    assert snapshot(first) == before
    assert os.readlink(reports / "latest") == first.name + "-2"
    assert main(["build", "--no-pdf", "--reports", str(reports), "--scenario", "levy_contra"]) == 0
    newest = [p for p in runs_in(reports) if "levy_contra" in p.name][0]
    assert (reports / "latest").resolve() == newest.resolve()


# --------------------------------------------------------------------------- manifest
def test_manifest_records_everything_a_rerun_needs(tmp_path):
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--out", str(out), "--scenario", "h20_terms",
                 "--set", "china.tax_rate=0.2"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["scenarios"] == ["h20_terms"] and m["overrides"] == ["china.tax_rate=0.2"]
    item = m["assumption_items"]["china.asp_usd"]
    assert item["value"] == 27000 and item["set_by"] == "scenario h20_terms"
    assert item["unit"] == "USD per unit" and "Lowyat" in item["source"]
    assert m["assumption_sheets"]["china"]["periods"] == ["CY2025", "CY2026", "CY2027",
                                                          "CY2028"]
    assert set(m["code_sha256"]) >= {"models/china.py", "models/lineitems.py"}
    assert "assumptions/china.yaml" in {f["path"] for f in m["assumption_files"]}


# --------------------------------------------------------------------------- rerun
@pytest.mark.parametrize("args", [[], ["--scenario", "h20_terms", "--set",
                                       "china.h200_units.CY2025=12345"],
                                  ["--scenario", "levy_contra", "--set",
                                   f"china.tax_rate={0.1 + 0.2!r}"]],
                         ids=["base", "scenario+set", "17-digit value"])
def test_rerun_reproduces_outputs_byte_for_byte(tmp_path, capsys, args):
    reports = tmp_path / "reports"
    assert main(["build", "--no-pdf", "--reports", str(reports), *args]) == 0
    original = runs_in(reports)[0]
    capsys.readouterr()
    assert main(["rerun", str(original), "--out", str(tmp_path / "again")]) == 0
    captured = capsys.readouterr()
    assert "identical" in captured.err and captured.out.strip() == str(tmp_path / "again")
    assert (tmp_path / "again" / "outputs.json").read_bytes() == \
        (original / "outputs.json").read_bytes()
    m0 = json.loads((original / "manifest.json").read_text())
    m1 = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert m1["assumptions_sha256"] == m0["assumptions_sha256"]
    assert m1["assumption_items"] == m0["assumption_items"]
    assert m1["rerun_of"]["run_id"] == m0["run_id"]
    # into reports/: a new folder, the original untouched, latest → the rerun
    assert main(["rerun", original.name, "--reports", str(reports)]) == 0
    assert len(runs_in(reports)) == 2
    assert (reports / "latest").resolve() != original.resolve()


def test_rerun_after_the_sheets_changed_uses_the_recorded_values(tmp_path, sheets, capsys):
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--out", str(out), "--assumptions", str(sheets)]) == 0
    f = sheets / "china.yaml"
    f.write_text(f.read_text().replace("value: 40000", "value: 35000"))
    capsys.readouterr()
    assert main(["rerun", str(out), "--out", str(tmp_path / "again"),
                 "--assumptions", str(sheets)]) == 0
    err = capsys.readouterr().err
    assert "assumption sheets changed since the run" in err and "china.yaml" in err
    assert (tmp_path / "again" / "outputs.json").read_bytes() == \
        (out / "outputs.json").read_bytes()
    # whereas a fresh build from the changed sheets differs
    assert main(["build", "--no-pdf", "--out", str(tmp_path / "fresh"), "--assumptions", str(sheets)]) == 0
    assert (tmp_path / "fresh" / "outputs.json").read_bytes() != \
        (out / "outputs.json").read_bytes()


def test_rerun_of_a_workbook_run(tmp_path, capsys):
    import openpyxl
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--out", str(out)]) == 0
    wb = openpyxl.load_workbook(out / "model.xlsx")
    ws = wb["Inputs"]
    r = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 3).value == "china.levy_rate")
    ws.cell(r, 4).value = 0.2
    wb.save(tmp_path / "edited.xlsx")
    assert main(["build", "--no-pdf", "--from-workbook", str(tmp_path / "edited.xlsx"),
                 "--out", str(tmp_path / "wb")]) == 0
    assert main(["rerun", str(tmp_path / "wb"), "--out", str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "outputs.json").read_bytes() == \
        (tmp_path / "wb" / "outputs.json").read_bytes()
    m = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert m["workbook"]["edits"][0]["key"] == "china.levy_rate"


def test_rerun_of_an_old_manifest_uses_the_current_sheets(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--out", str(out), "--set", "china.asp_usd=33000"]) == 0
    path = out / "manifest.json"
    m = json.loads(path.read_text())
    for k in ("assumption_items", "assumption_sheets", "code_sha256"):
        del m[k]
    path.write_text(json.dumps(m))
    assert main(["rerun", str(out), "--out", str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "outputs.json").read_bytes() == \
        (out / "outputs.json").read_bytes()


def test_rerun_says_when_outputs_differ(tmp_path, capsys):
    """The comparison can fail: a tampered outputs.json is reported, exit code 1."""
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--out", str(out)]) == 0
    path = out / "outputs.json"
    outputs = json.loads(path.read_text())
    outputs["china.levy.CY2026"] += 1
    path.write_text(json.dumps(outputs, indent=2))
    capsys.readouterr()
    assert main(["rerun", str(out), "--out", str(tmp_path / "again")]) == 1
    err = capsys.readouterr().err
    assert "differs" in err and "china.levy.CY2026" in err


def test_rerun_errors(tmp_path, capsys):
    assert main(["rerun", str(tmp_path / "nope"), "--reports", str(tmp_path)]) == 2
    assert "no such run" in capsys.readouterr().err
    (tmp_path / "half").mkdir()
    assert main(["rerun", str(tmp_path / "half")]) == 2
    assert "not a complete run folder: no manifest.json" in capsys.readouterr().err


# --------------------------------------------------------------------------- listing
def test_assumptions_listing_shows_where_each_value_comes_from(capsys):
    assert main(["assumptions"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("china.levy_rate "))
    assert "25.0%" in line and "fraction" in line and "assumptions/china.yaml:" in line
    assert "Bernstein" in line
    assert main(["assumptions", "--scenario", "h20_terms", "--set", "china.tax_rate=0.2",
                 "--changed"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [l.split()[0] for l in out] == ["key", "china.asp_usd", "china.levy_rate",
                                           "china.tax_rate"]
    asp = out[1]
    assert "$27,000" in asp and "$40,000" in asp  # value and base value
    assert "scenario h20_terms (assumptions/scenarios/h20_terms.yaml)" in asp
    assert "--set" in out[3]


@pytest.mark.parametrize("value, fragment", [(25, "did you mean 0.25?"),
                                             ([1, 2], "wrong type of value"),
                                             ("x", "looks like")])
def test_rerun_checks_the_manifest_like_a_sheet(tmp_path, capsys, value, fragment):
    """Issue 17, case 6: a levy of 25 in the manifest's assumption_items built a 2,500% levy,
    and wrong types gave internal errors. Recorded values are checked as --set values are."""
    import json
    from models.cli import main
    run = tmp_path / "run"
    assert main(["build", "--no-pdf", "--no-compare", "--out", str(run)]) == 0
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["assumption_items"]["china.levy_rate"]["value"] = value
    (run / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(["rerun", str(run), "--out", str(tmp_path / "again")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("eqr: error: manifest.json") and "china.levy_rate" in err
    assert not (tmp_path / "again").exists()
