"""The workbook: live formulas with stored values, FAST conventions, names, checks."""
import openpyxl
import pytest

from models.cli import main


@pytest.fixture(scope="module")
def run_dir(default_run):
    return default_run


def formula_cells(path):
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    yield ws.title, cell.coordinate, cell.value, values[ws.title][cell.coordinate].value


def test_every_formula_cell_has_a_stored_value(run_dir):
    cells = list(formula_cells(run_dir / "model.xlsx"))
    assert len(cells) > 100
    missing = [(s, c, f) for s, c, f, v in cells if v is None]
    assert missing == []


def test_pandas_reads_numbers_not_blanks(run_dir):
    import pandas as pd
    df = pd.read_excel(run_dir / "model.xlsx", sheet_name="china", header=3)
    levy = df[df["Key"] == "china.levy"].iloc[0]
    assert levy["CY2026"] == pytest.approx(10_000)


def test_calculations_refer_to_inputs_and_follow_fast_colours(run_dir):
    wb = openpyxl.load_workbook(run_dir / "model.xlsx")
    ws = wb["china"]
    by_key = {ws.cell(r, 3).value: r for r in range(1, ws.max_row + 1)}
    units = by_key["china.h200_units_typed"]
    assert ws.cell(units, 5).value.startswith("=Inputs!")
    assert ws.cell(units, 5).font.color.rgb.endswith("008000")  # green link
    market = by_key["china.h200_units_market"]
    assert ws.cell(market, 5).value.startswith("=china_market!")
    assert ws.cell(market, 5).font.color.rgb.endswith("008000")
    # the units used: a live IF on the units-source choice between the two link rows
    used = ws.cell(by_key["china.h200_units"], 5).value
    assert used.startswith("=IF(") and f"E{market}" in used and f"E{units}" in used
    levy = by_key["china.levy"]
    # one consistent formula across the row: E..H differ only by column letter
    shapes = {ws.cell(levy, c).value.replace(ws.cell(4, c).column_letter, "#")
              for c in range(5, 9)}
    assert len(shapes) == 1
    inputs = wb["Inputs"]
    rate_row = next(r for r in range(1, inputs.max_row + 1)
                    if inputs.cell(r, 3).value == "china.levy_rate")
    assert inputs.cell(rate_row, 4).font.color.rgb.endswith("0000FF")  # blue input
    assert ws.freeze_panes == "E5"


def test_defined_names_and_treatment_dropdown(run_dir):
    wb = openpyxl.load_workbook(run_dir / "model.xlsx")
    names = wb.defined_names
    assert "china.levy_rate" in names and "china.gross_profit" in names
    inputs = wb["Inputs"]
    validations = inputs.data_validations.dataValidation
    assert any('"cogs,contra_revenue"' in (dv.formula1 or "") for dv in validations)


def test_checks_sheet_all_pass(run_dir):
    wb = openpyxl.load_workbook(run_dir / "model.xlsx", data_only=True)
    ws = wb["Checks"]
    total = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "All checks pass")
    assert ws.cell(total, 4).value == 1


def test_cells_json_points_at_the_cell_holding_the_output(run_dir):
    import json
    cells = json.loads((run_dir / "cells.json").read_text())
    outputs = json.loads((run_dir / "outputs.json").read_text())
    wb = openpyxl.load_workbook(run_dir / "model.xlsx", data_only=True)
    for key in ("china.levy.CY2026", "china.gross_margin_contra.CY2026"):
        sheet, coord = cells[key].split("!")
        assert wb[sheet][coord].value == pytest.approx(outputs[key])
    # no China revenue in CY2027: the margin is n/a, null in outputs.json and #N/A in the cell
    sheet, coord = cells["china.gross_margin_contra.CY2027"].split("!")
    assert outputs["china.gross_margin_contra.CY2027"] is None
    assert wb[sheet][coord].value == "#N/A"


def test_fast_formula_preparation_matches_xlsxwriter(run_dir):
    """The workbook's worksheets skip XlsxWriter's 29 dynamic-array substitutions when no such
    function appears: for every formula of a build and for formulas that do use them, the
    text handed to the file is XlsxWriter's own."""
    from xlsxwriter.worksheet import Worksheet

    from models.workbook import _Worksheet
    formulas = ["=A1+B1", "{=SUM(A1:B2)}", "=XLOOKUP(A1,B:B,C:C)", "=IF(A1>0,SINGLE(B1),0)",
                "=_xlfn.SORT(A1:A3)", "=SORTBY(A1:A3,B1:B3)", '=MAX(A1,2)&"FILTER("',
                "=INGLE(1)", "=xlookup(1)", "=UNIQUE(A1:A9)+1"]
    book = openpyxl.load_workbook(run_dir / "model.xlsx")
    formulas += [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and c.value.startswith("=")]
    assert len(formulas) > 1000
    fast, plain = _Worksheet(), Worksheet()
    for f in formulas:
        assert fast._prepare_formula(f) == plain._prepare_formula(f), f
    fast.use_future_functions = plain.use_future_functions = True
    assert fast._prepare_formula("=STDEV.S(A1:A3)") == "_xlfn.STDEV.S(A1:A3)"


def test_risk_sheet_holds_the_engines_tornado_and_distribution(run_dir):
    """Issue 16: the Risk sheet's values are labelled as the engine's, match outputs.json, and
    the multiple's swing is 18 × target-year EPS (PT = multiple × EPS + cash, range 19-37)."""
    import json
    outputs = json.loads((run_dir / "outputs.json").read_text())
    cells = json.loads((run_dir / "cells.json").read_text())
    wb = openpyxl.load_workbook(run_dir / "model.xlsx", data_only=True)
    ws = wb["Risk"]
    assert "computed by the engine (eqr sweep/tornado), not live formulas" in ws["A2"].value
    swing = "risk.tornado.valuation.multiple.swing"
    assert outputs[swing] == pytest.approx(18 * outputs["valuation.eps_target"], rel=1e-9)
    sheet, cell = cells[swing].split("!")
    assert sheet == "Risk" and ws[cell].value == pytest.approx(outputs[swing], rel=1e-12)
    row = ws[cell].row
    assert ws.cell(row, 2).value == "valuation.multiple"
    assert ws.cell(row, 1 + 4).value == pytest.approx(
        outputs["risk.tornado.valuation.multiple.target_at_low"], rel=1e-12)
    assert (outputs["risk.distribution.p5"] < outputs["valuation.price_target"]
            < outputs["risk.distribution.p95"])
    assert (run_dir / "charts" / "valuation_risk.svg").exists()
    memo = (run_dir / "memo.md").read_text()
    assert "charts/valuation_risk.png" in memo and "moves the target most" in memo
