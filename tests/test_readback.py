"""Reading back a workbook edited in Excel: every input cell, the errors, saving a scenario.

Done means: for every blue input cell of the Inputs sheet, editing it (openpyxl) and building
``--from-workbook`` gives the same resolved values, hash and outputs as ``--set`` with that value.
The input cells are found here by their colour (blue on yellow), independently of how
models.readback finds them.
"""
import json
import shutil

import openpyxl
import pytest
import yaml

from conftest import require_tool
from models import engine
from models.assumptions import UNITS, apply_override, resolve
from models.cli import main
from models.engine import MODEL_MODULES
from models.readback import override_text, read_back

BLUE = "FF0000FF"


@pytest.fixture(scope="module")
def base_run(default_run):
    return default_run


@pytest.fixture(scope="module")
def h20_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("h20") / "run"
    assert main(["build", "--no-pdf", "--out", str(out), "--scenario", "h20_terms"]) == 0
    return out


def blue_input_cells(ws):
    """(flat key, coordinate) of every blue-on-yellow cell, keyed by column C and the period
    heading above it."""
    found, headings = [], {}
    for row in ws.iter_rows():
        if row[2].value == "Key":
            headings = {c.column: c.value for c in row}
            continue
        for c in row:
            colour = c.font.color.rgb if c.font and c.font.color else None
            if colour == BLUE and c.fill.fgColor.rgb.endswith("FFF2CC"):
                key = row[2].value
                found.append((key if c.column == 4 else f"{key}.{headings[c.column]}",
                              c.coordinate))
    return found


def changed_value(a, flat_key):
    """A valid value different from the current one, as an analyst would type it."""
    item_key = flat_key if flat_key in a.items else flat_key.rpartition(".")[0]
    item = a.items[item_key]
    current = a.flat_values()[flat_key]
    if item.choices:  # the next choice in the list (wrapping round)
        return item.choices[(item.choices.index(current) + 1) % len(item.choices)]
    if UNITS[item.unit].kind == "text":
        return current + " (edited)"
    period = flat_key[len(item_key) + 1:]
    for bound in (item.high, item.low):  # the sheet's own range: valid for the model too
        v = bound.get(period) if isinstance(bound, dict) else bound
        if v is not None and v != current:
            return float(v)
    unit = UNITS[item.unit]
    upper = item.bounds[1] if item.bounds[1] is not None else unit.upper
    if current is None:  # an unknown figure: type a number over the #N/A
        return 1000.0
    if float(current).is_integer() and current >= 1 and (upper is None or current + 1 <= upper):
        return float(current + 1)  # a count of years, units…: one more
    if upper is None:
        new = current * 1.1 if current else 1000.0
    else:
        new = (current + upper) / 2 if current < upper else current * 0.9
    if item.unit == "fraction" and new == 0:
        new = 0.05
    return float(f"{new:.6g}")


def write_edit(src, dst, **cells):
    wb = openpyxl.load_workbook(src)
    ws = wb["Inputs"]
    for coord, value in cells.items():
        ws[coord].value = value
    wb.save(dst)
    return dst


def coord_of(path, flat_key):
    ws = openpyxl.load_workbook(path)["Inputs"]
    return dict(blue_input_cells(ws))[flat_key]


def test_every_input_cell_reads_back_as_the_same_run_as_set(base_run, base, tmp_path):
    """Every blue cell is edited with openpyxl, in one copy of the workbook (one save, one read
    by the real reader), and must come back exactly as typed. Each edit is then applied alone:
    the reader reads cells independently, so the workbook with only that cell edited is the
    unedited workbook's cells with that one replaced. It must resolve to exactly what ``--set``
    with that value resolves to (same values, same hash, set by ``workbook``), and the line items
    of all of them, evaluated in one vectorised batch, must equal the ``--set`` ones. (Full
    round trips through files and the CLI, outputs.json byte for byte, are the next test.)"""
    import copy

    import numpy as np

    from models.lineitems import batch_inputs
    from models.readback import apply_workbook, read_inputs
    wb = openpyxl.load_workbook(base_run / "model.xlsx")
    ws = wb["Inputs"]
    cells = blue_input_cells(ws)
    expected = [k for k in base.flat_values() if k.split(".")[0] in MODEL_MODULES]
    assert sorted(k for k, _ in cells) == sorted(expected)
    typed = {key: changed_value(base, key) for key, _ in cells}
    for key, coord in cells:
        ws[coord].value = typed[key]
    wb.save(tmp_path / "all.xlsx")
    unedited = read_inputs(base_run / "model.xlsx")
    edited = read_inputs(tmp_path / "all.xlsx")
    assert {k: edited.cells[k].value for k in typed} == typed
    via_workbook, via_set = [], []
    for key, coord in cells:
        one = copy.copy(unedited)
        one.cells = {**unedited.cells, key: edited.cells[key]}
        rb = apply_workbook(one, base)
        assert [(e.key, e.cell) for e in rb.edits] == [(key, f"Inputs!{coord}")]
        by_set = apply_override(base, f"{key}={typed[key]}")  # what --set does after loading
        assert rb.assumptions.flat_values() == by_set.flat_values(), key
        assert rb.assumptions.digest() == by_set.digest() != base.digest()
        item_key = key if key in base.items else key.rpartition(".")[0]
        assert rb.assumptions.items[item_key].set_by == "workbook"
        assert rb.assumptions.overrides == [f"{key}={override_text(rb.edits[0].new)}"]
        via_workbook.append(rb.assumptions)
        via_set.append(by_set)
    # the models are a pure function of the values, so equal values give equal outputs; one
    # batch shows every edit reaches the model (all but presentation inputs move a line item)
    n = len(cells)
    columns = [batch_inputs(a) for a in via_workbook]
    inputs = {k: np.concatenate([c[k] for c in columns]) for k in columns[0]}
    specs = engine.build_specs(base)
    ours = engine.evaluate(base, specs=specs, inputs=inputs, n=n).env.values
    start = engine.evaluate(base, specs=specs).env.values
    moved = np.zeros(n, dtype=bool)
    for row, values in ours.items():
        if values.dtype == object:
            continue
        before = np.broadcast_to(start[row], values.shape)
        differ = ~((values == before) | (np.isnan(values) & np.isnan(before)))
        moved |= differ.reshape(n, -1).any(axis=1)
    still = [key for (key, _), m in zip(cells, moved) if not m]
    kinds = {UNITS[base.items[k if k in base.items else k.rpartition(".")[0]].unit].kind
             for k in still}
    assert kinds <= {"period", "text"}, still  # only presentation inputs move no line item


@pytest.mark.parametrize("edits", [
    {"china.levy_rate": 0.2},
    {"china.h200_units.CY2026": 1_250_000, "china.asp_usd": 31_500},
    {"china.levy_treatment": "contra_revenue", "china.tax_rate": 0.21},
], ids=["fraction", "series+scalar", "choice+fraction"])
def test_cli_round_trip_equals_set_byte_for_byte(base_run, tmp_path, capsys, edits):
    src = base_run / "model.xlsx"
    cells = {coord_of(src, k): v for k, v in edits.items()}
    edited = write_edit(src, tmp_path / "edited.xlsx", **cells)
    assert main(["build", "--no-pdf", "--from-workbook", str(edited), "--out", str(tmp_path / "wb")]) == 0
    sets = [x for k, v in edits.items() for x in ("--set", f"{k}={v}")]
    assert main(["build", "--no-pdf", *sets, "--out", str(tmp_path / "set")]) == 0
    err = capsys.readouterr().err
    assert f"{len(edits)} input(s) edited" in err
    a = (tmp_path / "wb" / "outputs.json").read_bytes()
    assert a == (tmp_path / "set" / "outputs.json").read_bytes()
    m_wb = json.loads((tmp_path / "wb" / "manifest.json").read_text())
    m_set = json.loads((tmp_path / "set" / "manifest.json").read_text())
    assert m_wb["assumptions_sha256"] == m_set["assumptions_sha256"]
    assert m_wb["resolved_assumptions"] == m_set["resolved_assumptions"]
    assert {e["key"]: e["value"] for e in m_wb["workbook"]["edits"]} == edits
    for k in edits:
        item = k if k in m_wb["assumption_items"] else k.rpartition(".")[0]
        assert m_wb["assumption_items"][item]["set_by"] == "workbook"
    # the new run's own workbook shows where the value came from
    ws = openpyxl.load_workbook(tmp_path / "wb" / "model.xlsx")["Inputs"]
    set_by = {r[2].value: r[-1].value for r in ws.iter_rows() if r[2].value in edits}
    assert set(set_by.values()) <= {"workbook"}


def test_unchanged_workbook_has_no_edits_and_reproduces_the_run(base_run, base):
    rb = read_back(base_run / "model.xlsx")
    assert rb.edits == []
    assert rb.assumptions.digest() == base.digest()


def test_edits_are_measured_against_the_workbooks_own_scenarios(h20_run, tmp_path):
    src = h20_run / "model.xlsx"
    edited = write_edit(src, tmp_path / "e.xlsx", **{coord_of(src, "china.levy_rate"): 0.18})
    rb = read_back(edited)
    assert rb.baseline.scenarios == ["h20_terms"]
    assert [(e.key, e.old, e.new) for e in rb.edits] == [("china.levy_rate", 0.15, 0.18)]
    assert rb.assumptions.value("china.asp_usd") == 27000  # from the scenario, not an edit
    assert any("workbook's own scenarios" in n for n in rb.notes)
    # --scenario given explicitly wins: against levy_contra, the ASP, the levy rate and the
    # treatment are edits; the values (and so the run) are the workbook's either way
    rb2 = read_back(edited, scenarios=["levy_contra"])
    assert {e.key for e in rb2.edits} == {"china.asp_usd", "china.levy_rate",
                                          "china.levy_treatment"}
    assert rb.assumptions.digest() == rb2.assumptions.digest()


def test_set_applies_after_the_workbook(base_run, tmp_path):
    src = base_run / "model.xlsx"
    edited = write_edit(src, tmp_path / "e.xlsx", **{coord_of(src, "china.levy_rate"): 0.2})
    rb = read_back(edited, overrides=["china.levy_rate=0.1", "china.tax_rate=0.2"])
    assert rb.assumptions.value("china.levy_rate") == 0.1
    assert rb.assumptions.value("china.tax_rate") == 0.2


def test_a_17_digit_value_written_with_16_digits_is_not_an_edit(tmp_path, sheets):
    """XlsxWriter stores 16 significant digits; 0.1 + 0.2 needs 17. Read back against the
    scenario that set it, the cell is not an edit and the run keeps the exact value."""
    (sheets / "scenarios" / "exact.yaml").write_text(
        f"description: t\nset:\n  china.tax_rate: {0.1 + 0.2!r}\n")
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--out", str(out), "--scenario", "exact",
                 "--assumptions", str(sheets)]) == 0
    stored = openpyxl.load_workbook(out / "model.xlsx")["Inputs"][
        coord_of(out / "model.xlsx", "china.tax_rate")].value
    assert stored != 0.1 + 0.2 and abs(stored - (0.1 + 0.2)) < 1e-15  # precision lost
    rb = read_back(out / "model.xlsx", directory=sheets)
    assert rb.edits == []
    assert rb.assumptions.value("china.tax_rate") == 0.1 + 0.2


# --------------------------------------------------------------------------- errors
def run_cli(capsys, tmp_path, *args):
    reports = tmp_path / "reports"
    code = main(["build", "--no-pdf", "--reports", str(reports), *args])
    err = capsys.readouterr().err
    written = list(reports.iterdir()) if reports.exists() else []
    return code, err, written


def assert_user_error(result, *fragments):
    code, err, written = result
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("eqr: error: ")
    for f in fragments:
        assert f in err, err
    assert written == []


def test_text_where_a_number_is_needed_names_workbook_sheet_cell_and_key(
        base_run, tmp_path, capsys):
    src = base_run / "model.xlsx"
    cell = coord_of(src, "china.asp_usd")
    edited = write_edit(src, tmp_path / "e.xlsx", **{cell: "40000"})
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(edited)),
                      f"e.xlsx:Inputs!{cell}: china.asp_usd: wrong type of value",
                      "expected a number in USD per unit", "found '40000'",
                      "the cell holds text")


def test_percentage_typed_as_whole_number(base_run, tmp_path, capsys):
    src = base_run / "model.xlsx"
    cell = coord_of(src, "china.levy_rate")
    edited = write_edit(src, tmp_path / "e.xlsx", **{cell: 25})
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(edited)),
                      f"Inputs!{cell}: china.levy_rate", "percentage", "did you mean 0.25?")


def test_series_value_out_of_bounds_and_blank(base_run, tmp_path, capsys):
    src = base_run / "model.xlsx"
    cell = coord_of(src, "china.h200_units.CY2027")
    edited = write_edit(src, tmp_path / "e.xlsx", **{cell: -5})
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(edited)),
                      f"Inputs!{cell}: china.h200_units.CY2027", "below its lower bound")
    edited = write_edit(src, tmp_path / "f.xlsx", **{cell: None})
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(edited)),
                      f"Inputs!{cell}: china.h200_units.CY2027", "missing value")


def test_cells_outside_the_blue_ones_are_ignored(base_run, tmp_path):
    """Typing into column D of a series row or a period column of a scalar row changes nothing
    in Excel's model, nor here; a series row with no period values at all is an error."""
    src = base_run / "model.xlsx"
    units, asp = coord_of(src, "china.h200_units.CY2025"), coord_of(src, "china.asp_usd")
    edited = write_edit(src, tmp_path / "e.xlsx", **{f"D{units[1:]}": 5, f"F{asp[1:]}": 7})
    assert read_back(edited).edits == []
    wb = openpyxl.load_workbook(src)
    row = units[1:]
    for col in "EFGH":
        wb["Inputs"][f"{col}{row}"].value = None
    wb.save(tmp_path / "f.xlsx")
    from models.errors import EqrError
    with pytest.raises(EqrError, match=f"Inputs!D{row}: china.h200_units: a time series has a "
                                       "value for each period"):
        read_back(tmp_path / "f.xlsx")


def test_bounds_can_be_forced(base_run, tmp_path, capsys):
    src = base_run / "model.xlsx"
    edited = write_edit(src, tmp_path / "e.xlsx", **{coord_of(src, "china.asp_usd"): 500})
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(edited)),
                      "below its lower bound 1000", "--force")
    code, err, written = run_cli(capsys, tmp_path, "--from-workbook", str(edited), "--force")
    assert code == 0 and len([p for p in written if p.name != "latest"]) == 1


def test_unknown_choice(base_run, tmp_path, capsys):
    src = base_run / "model.xlsx"
    cell = coord_of(src, "china.levy_treatment")
    edited = write_edit(src, tmp_path / "e.xlsx", **{cell: "cog"})
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(edited)),
                      f"Inputs!{cell}: china.levy_treatment", "did you mean 'cogs'?")


def test_formula_without_a_computed_value_is_refused(base_run, tmp_path, capsys):
    src = base_run / "model.xlsx"
    cell = coord_of(src, "china.asp_usd")
    edited = write_edit(src, tmp_path / "e.xlsx", **{cell: "=30000+5000"})
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(edited)),
                      f"Inputs!{cell}: china.asp_usd",
                      "a formula in an input cell has no computed value", "=30000+5000",
                      "save it")


def test_excel_error_value_is_refused(base_run, tmp_path, capsys):
    src = base_run / "model.xlsx"
    cell = coord_of(src, "china.tax_rate")
    edited = write_edit(src, tmp_path / "e.xlsx", **{cell: "#DIV/0!"})
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(edited)),
                      f"Inputs!{cell}", "Excel error", "#DIV/0!")


def test_unknown_figures_stay_unknown_and_na_in_a_known_figure_is_refused(
        base_run, base, tmp_path, capsys):
    gaps = [k for k, it in base.items.items() if it.unknown]
    if not gaps:
        pytest.skip("no unknown figure in the sheets")
    src = base_run / "model.xlsx"
    cell = coord_of(src, gaps[0])
    assert openpyxl.load_workbook(src)["Inputs"][cell].value == "=NA()"
    assert read_back(src).edits == []  # still unknown: not an edit
    rb = read_back(write_edit(src, tmp_path / "filled.xlsx", **{cell: 750}))
    assert [(e.key, e.old, e.new) for e in rb.edits] == [(gaps[0], None, 750)]
    assert not rb.assumptions[gaps[0]].unknown
    rate = coord_of(src, "china.levy_rate")
    edited = write_edit(src, tmp_path / "na.xlsx", **{rate: "=NA()"})
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(edited)),
                      f"Inputs!{rate}: china.levy_rate: the cell shows #N/A",
                      "unknown: true")


def test_a_models_own_checks_run_on_workbook_values_and_name_the_cell(
        base_run, base, tmp_path, capsys):
    """As after --set, each model's validate() runs on the resolved set (depreciation refuses a
    salvage above cost); the error names the workbook cell that set the value."""
    key = "depreciation.salvage_fraction"
    if key not in base.items:
        pytest.skip("no depreciation model")
    src = base_run / "model.xlsx"
    cell = coord_of(src, key)
    edited = write_edit(src, tmp_path / "e.xlsx", **{cell: 1.5})
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(edited)),
                      f"e.xlsx:Inputs!{cell}: {key}", "expected a fraction between 0 and 1")
    # past the sheet's bounds (--force), the model's own check still names the cell
    assert_user_error(run_cli(capsys, tmp_path, "--force", "--from-workbook", str(edited)),
                      f"e.xlsx:Inputs!{cell}: {key}: salvage value must lie between zero")
    code, err, _ = run_cli(capsys, tmp_path, "--force", "--set", f"{key}=1.5")
    assert code == 2 and "salvage value must lie between zero" in err  # same check via --set


def test_not_an_eqr_workbook(tmp_path, capsys):
    import xlsxwriter
    path = tmp_path / "budget.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Budget").write(0, 0, "hello")
    book.close()
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(path)),
                      "budget.xlsx: not an eqr workbook", "found \"sheets ['Budget']\"")
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook")
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(text)),
                      "notes.xlsx: cannot read the workbook")
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(tmp_path / "no.xlsx")),
                      "no.xlsx: workbook not found")


def test_workbook_without_inputs_sheet(base_run, tmp_path, capsys):
    wb = openpyxl.load_workbook(base_run / "model.xlsx")
    wb["Inputs"].title = "Inputs (old)"
    wb.save(tmp_path / "e.xlsx")
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(tmp_path / "e.xlsx")),
                      "no Inputs sheet (renamed or deleted?)")


def test_deleted_input_row(base_run, tmp_path, capsys):
    wb = openpyxl.load_workbook(base_run / "model.xlsx")
    ws = wb["Inputs"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 3).value == "china.tax_rate")
    ws.delete_rows(row)
    wb.save(tmp_path / "e.xlsx")
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(tmp_path / "e.xlsx")),
                      "input row missing from the Inputs sheet", "china.tax_rate")


def test_renamed_key_in_column_c(base_run, tmp_path, capsys):
    wb = openpyxl.load_workbook(base_run / "model.xlsx")
    ws = wb["Inputs"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 3).value == "china.tax_rate")
    ws.cell(row, 3).value = "china.tax_rat"
    wb.save(tmp_path / "e.xlsx")
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(tmp_path / "e.xlsx")),
                      f"Inputs!C{row}: china.tax_rat: unknown assumption in column C",
                      "did you mean 'china.tax_rate'?")


def test_duplicated_key_row(base_run, tmp_path, capsys):
    wb = openpyxl.load_workbook(base_run / "model.xlsx")
    ws = wb["Inputs"]
    rows = {ws.cell(r, 3).value: r for r in range(1, ws.max_row + 1)}
    ws.cell(rows["china.opex_ratio"], 3).value = "china.tax_rate"
    wb.save(tmp_path / "e.xlsx")
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(tmp_path / "e.xlsx")),
                      "china.tax_rate: the key appears twice on the Inputs sheet")


def test_sheet_changed_since_the_workbook_was_written(base_run, tmp_path, sheets, capsys):
    # an assumption added to the sheet since: it keeps the sheet's value, with a note
    f = sheets / "china.yaml"
    f.write_text(f.read_text() + "\n  royalty_rate:\n    unit: fraction\n    value: 0.01\n"
                 "    source: \"unknown: test\"\n")
    rb = read_back(base_run / "model.xlsx", directory=sheets)
    assert rb.edits == [] and rb.assumptions.value("china.royalty_rate") == 0.01
    assert any("china.royalty_rate" in n and "added to the sheets" in n for n in rb.notes)
    # an assumption renamed in the sheet since: the workbook's row is unknown now
    f.write_text(f.read_text().replace("  headline_period:", "  memo_period:"))
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook",
                              str(base_run / "model.xlsx"), "--assumptions", str(sheets)),
                      "china.headline_period: the assumption sheets no longer have this "
                      "assumption", "removed or renamed since the workbook was written")


def test_sheets_without_a_model_the_workbook_has(base_run, tmp_path, sheets, capsys):
    for other in sheets.glob("*.yaml"):
        if other.name != "china.yaml":
            other.unlink()
    if len(MODEL_MODULES) == 1:
        pytest.skip("needs a second model on the workbook")
    model = next(m for m in MODEL_MODULES if m != "china")  # the first block on the sheet
    code, err, _ = run_cli(capsys, tmp_path, "--from-workbook", str(base_run / "model.xlsx"),
                           "--assumptions", str(sheets))
    assert code == 2 and f"the assumption sheets have no model '{model}'" in err
    assert len(err) < 600  # a summary, not every row


def test_timeline_changed_since_the_workbook_was_written(base_run, tmp_path, sheets, capsys):
    f = sheets / "china.yaml"
    text = f.read_text().replace("periods: [CY2025, CY2026, CY2027, CY2028]",
                                 "periods: [CY2025, CY2026, CY2027, CY2028, CY2029]")
    text = text.replace("CY2028: 500000}", "CY2028: 500000, CY2029: 0}")
    text = text.replace("CY2028: 0}", "CY2028: 0, CY2029: 0}")
    text = text.replace("CY2028: 2000000}", "CY2028: 2000000, CY2029: 0}")
    f.write_text(text)
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook",
                              str(base_run / "model.xlsx"), "--assumptions", str(sheets)),
                      "the china timeline differs", "CY2029")


# --------------------------------------------------------------------------- --save-scenario
def test_save_scenario_writes_only_the_edits_and_reproduces_the_run(
        h20_run, tmp_path, sheets, capsys):
    src = h20_run / "model.xlsx"
    edited = write_edit(src, tmp_path / "desk.xlsx",
                        **{coord_of(src, "china.levy_rate"): 0.2,
                           coord_of(src, "china.h200_units.CY2027"): 750000})
    code = main(["build", "--no-pdf", "--from-workbook", str(edited), "--save-scenario", "desk_view",
                 "--assumptions", str(sheets), "--out", str(tmp_path / "wb")])
    assert code == 0, capsys.readouterr().err
    overlay = sheets / "scenarios" / "desk_view.yaml"
    text = overlay.read_text()
    data = yaml.safe_load(text)
    assert set(data["set"]) == {"china.levy_rate", "china.h200_units.CY2027"}  # not the ASP
    assert data["set"]["china.levy_rate"]["value"] == 0.2
    assert "workbook edit: desk.xlsx" in data["set"]["china.levy_rate"]["source"]
    assert "desk.xlsx" in data["description"] and "--scenario h20_terms --scenario desk_view" \
        in data["description"]
    import datetime as dt
    assert dt.date.today().isoformat() in text
    # applying the saved overlay gives the same run
    again = resolve(["h20_terms", "desk_view"], directory=sheets)
    manifest = json.loads((tmp_path / "wb" / "manifest.json").read_text())
    assert again.digest() == manifest["assumptions_sha256"]
    assert main(["build", "--no-pdf", "--scenario", "h20_terms", "--scenario", "desk_view",
                 "--assumptions", str(sheets), "--out", str(tmp_path / "sc")]) == 0
    # the run's own figures are identical; the Scenarios sheet's other columns are not: edits
    # (like --set) apply to every compared scenario, an overlay is only its own run
    sc, wb = (json.loads((tmp_path / f / "outputs.json").read_text()) for f in ("sc", "wb"))
    own = [k for k in wb if not k.startswith("scenarios.")]
    assert own and [sc[k] for k in own] == [wb[k] for k in own]
    # never overwritten: a second save under the same name is refused, nothing written
    before = overlay.read_bytes()
    code = main(["build", "--no-pdf", "--from-workbook", str(edited), "--save-scenario", "desk_view",
                 "--assumptions", str(sheets), "--out", str(tmp_path / "wb2")])
    assert code == 2 and "scenario exists already" in capsys.readouterr().err
    assert overlay.read_bytes() == before and not (tmp_path / "wb2").exists()
    assert [p.name for p in (sheets / "scenarios").iterdir() if p.name.startswith(".")] == []


def test_source_typed_in_the_workbook_becomes_the_source(base_run, tmp_path, sheets):
    src = base_run / "model.xlsx"
    rate = coord_of(src, "china.levy_rate")
    ws = openpyxl.load_workbook(src)["Inputs"]
    source_col = next(c.column_letter for c in ws[4] if c.value == "Source")
    row = rate[1:]
    edited = write_edit(src, tmp_path / "e.xlsx", **{rate: 0.2,
                        f"{source_col}{row}": "Reuters, 3 Feb 2026: levy cut to 20%"})
    rb = read_back(edited, directory=sheets)
    assert rb.assumptions["china.levy_rate"].source == "Reuters, 3 Feb 2026: levy cut to 20%"
    path, text = __import__("models.readback", fromlist=["x"]).prepare_overlay(
        rb, "reuters", sheets)
    assert yaml.safe_load(text)["set"]["china.levy_rate"]["source"].startswith("Reuters")


def test_save_scenario_refuses_bad_names_and_empty_edits(base_run, tmp_path, sheets, capsys):
    src = base_run / "model.xlsx"
    edited = write_edit(src, tmp_path / "e.xlsx", **{coord_of(src, "china.levy_rate"): 0.2})
    common = ["--assumptions", str(sheets)]
    before = sorted(p.name for p in (sheets / "scenarios").iterdir())
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(edited),
                              "--save-scenario", "../evil", *common), "bad scenario name")
    assert_user_error(run_cli(capsys, tmp_path, "--from-workbook", str(src),
                              "--save-scenario", "nothing", *common), "no edits to save")
    assert_user_error(run_cli(capsys, tmp_path, "--save-scenario", "x", *common),
                      "--save-scenario needs --from-workbook")
    assert sorted(p.name for p in (sheets / "scenarios").iterdir()) == before


# --------------------------------------------------------------------------- a real spreadsheet
@pytest.fixture(scope="module")
def lo():
    from models.recalc import soffice_path
    require_tool("LibreOffice (soffice)", soffice_path() is not None)


def test_workbook_saved_by_libreoffice_with_a_formula_in_an_input(lo, base_run, tmp_path):
    """Edit, then let LibreOffice recalculate and save (as a user's spreadsheet app would): the
    formula's computed value is used, the other edits read back exactly."""
    from models.recalc import recalculate
    src = base_run / "model.xlsx"
    rate, units = coord_of(src, "china.levy_rate"), coord_of(src, "china.h200_units.CY2026")
    edited = write_edit(src, tmp_path / "edited.xlsx", **{rate: "=0.1+0.1", units: 1_300_000})
    saved = recalculate(edited, tmp_path / "lo")
    rb = read_back(saved)
    assert {e.key: e.new for e in rb.edits} == {"china.levy_rate": 0.2,
                                                 "china.h200_units.CY2026": 1_300_000}
    assert any("=0.1+0.1" in n and "computed value 0.2" in n for n in rb.notes)
    via_set = resolve(overrides=["china.levy_rate=0.2", "china.h200_units.CY2026=1300000"])
    assert engine.run(rb.assumptions).outputs == engine.run(via_set).outputs


def test_copy_of_workbook_elsewhere_still_reads(base_run, tmp_path):
    shutil.copy(base_run / "model.xlsx", tmp_path / "copy.xlsx")
    assert read_back(tmp_path / "copy.xlsx").edits == []


def test_a_cell_at_the_sheets_far_corner_is_refused_before_reading(tmp_path, capsys):
    """Issue 17, case 5: one value at XFD1048576 on the Inputs sheet made the read-only reader
    walk ~17 billion empty cells. The declared dimension is checked first: a clean exit 2."""
    import openpyxl
    from models.cli import main
    run = tmp_path / "run"
    assert main(["build", "--no-pdf", "--no-compare", "--out", str(run)]) == 0
    book = openpyxl.load_workbook(run / "model.xlsx")
    book["Inputs"]["XFD1048576"] = 1
    book.save(tmp_path / "big.xlsx")
    capsys.readouterr()
    assert main(["build", "--no-pdf", "--from-workbook", str(tmp_path / "big.xlsx"),
                 "--out", str(tmp_path / "again")]) == 2
    err = capsys.readouterr().err
    assert "far larger" in err and "1,048,576 rows" in err
    assert not (tmp_path / "again").exists()


def test_save_scenario_and_run_commit_together(tmp_path, sheets, capsys):
    """Issue 17, case 4: the overlay was written after the run, so a failed save left a run
    behind (and a failed run could not leave an overlay). Now the overlay is written first and
    removed again if the run fails: both or neither."""
    import openpyxl
    from models.cli import main
    run = tmp_path / "run"
    assert main(["build", "--no-pdf", "--no-compare", "--assumptions", str(sheets),
                 "--out", str(run)]) == 0
    book = openpyxl.load_workbook(run / "model.xlsx")
    ws = book["Inputs"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 3).value == "china.levy_rate")
    ws.cell(row, 4).value = 0.2
    book.save(tmp_path / "edited.xlsx")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("not empty")
    capsys.readouterr()
    assert main(["build", "--no-pdf", "--no-compare", "--assumptions", str(sheets),
                 "--from-workbook", str(tmp_path / "edited.xlsx"), "--save-scenario", "desk",
                 "--out", str(busy)]) == 2
    assert not (sheets / "scenarios" / "desk.yaml").exists()
    assert main(["build", "--no-pdf", "--no-compare", "--assumptions", str(sheets),
                 "--from-workbook", str(tmp_path / "edited.xlsx"), "--save-scenario", "desk",
                 "--out", str(tmp_path / "ok")]) == 0
    assert (sheets / "scenarios" / "desk.yaml").exists() and (tmp_path / "ok").is_dir()
