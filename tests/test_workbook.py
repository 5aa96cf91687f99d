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


class _NoInputs:
    """Just enough of Assumptions for a Layout of a model without inputs."""

    def for_model(self, model):
        return []


def test_row_template_formulas_by_hand():
    """A series row's formulas come from one rendering with the column-dependent addresses
    filled in per column (models.lineitems.RowTemplate); a node that reads the column itself
    (models.vintage.CumBefore) is rendered per column, the rest of its row once. Rows on sheet
    t from Excel row 5 (a, b, c), periods in columns E:G, header on row 4."""
    from models.lineitems import (IF, ModelBuilder, PeriodNumber, Prev, RowTemplate,
                                  row_formulas)
    from models.vintage import CumBefore
    from models.workbook import Layout

    specs = {}
    m = ModelBuilder("t", "t", ("FY2024", "FY2025", "FY2026"), _NoInputs(), specs)
    a = m.row("a", "a", "x", PeriodNumber("t"))
    b = m.row("b", "b", "x", a * 2 + Prev(a.row))
    c = m.row("c", "c", "x", (b - CumBefore(b.row)) * 0.5)
    specs["t"] = m.spec
    layout = Layout(specs, _NoInputs())
    cols = (4, 5, 6)
    assert row_formulas(a.row.expr, layout, "t", cols) == [
        "MATCH(E$4,$E$4:$G$4,0)", "MATCH(F$4,$E$4:$G$4,0)", "MATCH(G$4,$E$4:$G$4,0)"]
    assert row_formulas(b.row.expr, layout, "t", cols) == ["E5*2+D5", "F5*2+E5", "G5*2+F5"]
    assert row_formulas(c.row.expr, layout, "t", cols) == [
        "(E6-SUM($D6:D6))*0.5", "(F6-SUM($D6:E6))*0.5", "(G6-SUM($D6:F6))*0.5"]
    template = RowTemplate(layout, "t", c.row.expr, 4)
    assert [question for question, _, _ in template._slots] == ["ref", "render"]
    # a text constant holding the template's marker: the expression is rendered per column
    odd = IF(a.eq("p\x00q"), b, 0)
    assert row_formulas(odd, layout, "t", cols) == [
        'IF(E5="p\x00q",E6,0)', 'IF(F5="p\x00q",F6,0)', 'IF(G5="p\x00q",G6,0)']
    assert [question for question, _, _ in RowTemplate(layout, "t", odd, 4)._slots] == ["render"]


def test_row_templates_render_as_each_cell_alone(base):
    """For every series row of every model sheet, and of a compared scenario's sheets (its own
    layout), the row template gives the text rendering each cell on its own gives."""
    from models.assumptions import resolve
    from models.engine import run
    from models.lineitems import CellContext, Section, row_formulas
    from models.scenario_sheets import ScenarioLayout, make_plan
    from models.workbook import COL_FIRST_PERIOD, Layout

    result = run(base)
    layout = Layout(result.specs, result.assumptions)
    plan = make_plan("h20_terms", 1, result, resolve(["h20_terms"]), layout)
    assert plan.sheets
    checked = 0
    for lay, sheets in ((layout, {m: m for m in result.specs}),
                        (ScenarioLayout(layout, plan), plan.sheets)):
        for model, sheet in sheets.items():
            spec = result.specs[model]
            cols = range(COL_FIRST_PERIOD, COL_FIRST_PERIOD + len(spec.periods))
            answers: dict = {}
            for _, row in layout.sheet_items[model]:
                if isinstance(row, Section) or not row.series:
                    continue
                alone = [row.expr.excel(CellContext(lay, sheet, col)) for col in cols]
                assert row_formulas(row.expr, lay, sheet, cols, answers) == alone, row.key
                checked += 1
    assert checked > 500


def _sheet_xml(worksheet_class, write) -> dict[str, bytes]:
    import io
    import zipfile

    import xlsxwriter
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False})
    if worksheet_class is not None:
        book.worksheet_class = worksheet_class
    codes = write(book, book.add_worksheet("s"))
    book.close()
    parts = zipfile.ZipFile(buffer)
    return {"codes": codes, **{name: parts.read(name) for name in
                               ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml")}}


def test_fast_cell_writing_matches_xlsxwriter():
    """The workbook's worksheets store and write formula, number and text cells by a shorter
    path: the sheet's XML and shared strings are XlsxWriter's own for every kind of value,
    format (the cell's, its row's, its column's, none), escape and the cases handed back to
    XlsxWriter (array and dynamic-array formulas, long text, A1 addresses, out of bounds);
    a row of formulas written at once (_Worksheet.write_formulas) as one by one."""
    import numpy as np

    from models.workbook import _Worksheet

    def write(book, ws):
        fmt, row_fmt, col_fmt = (book.add_format({"bold": True}),
                                 book.add_format({"italic": True}),
                                 book.add_format({"font_color": "#808080"}))
        ws.set_row(7, None, row_fmt)
        ws.set_column(5, 5, 12, col_fmt)
        codes = []
        values = [1.5, 2, 0.1 + 0.2, -3e-12, np.float64(7.25), "#N/A", "text", "", True, None]
        for i, v in enumerate(values):
            codes.append(ws.write_formula(i, 0, f"=B{i + 1}*2", fmt, v))
            codes.append(ws.write_formula(i, 5, f"=B{i + 1}*3", None, v))
            codes.append(ws.write_formula(7, 6 + i, f"=C{i + 1}", None, v))
        for i, f in enumerate(['=IF(A1<2,"a&b",0)', "{=SUM(A1:B2)}", "=XLOOKUP(A1,B:B,C:C)",
                               "=SORT(A1:A3)", "=_xlfn.SINGLE(A1)", "=ASORT(A1)", "A1+1",
                               '="x\nSORT("']):
            codes.append(ws.write_formula(12 + i, 1, f, fmt, 4.0))
        codes.append(ws.write_formula("C30", "=A1", fmt, 1.0))
        codes.append(ws.write_formula(2_000_000, 0, "=A1", fmt, 1.0))
        for i, text in enumerate(["plain", " lead", "trail ", "a<b & c>d", "ctl\x01x", "_x0041_",
                                  "x" * 20_000, "plain"]):
            codes.append(ws.write_string(30 + i, 2, text, fmt if i % 2 else None))
            codes.append(ws.write_string(7, 20 + i, text))
            codes.append(ws.write_string(30 + i, 5, text))
        codes.append(ws.write_string("D40", "a1", None))
        codes.append(ws.write_string(-1, 0, "out"))
        for i, n in enumerate([0.1, 1e300, -0.0, 123456789012345678, np.float64(2.5)]):
            codes.append(ws.write_number(40 + i, 3, n, fmt if i % 2 else None))
            codes.append(ws.write_number(40 + i, 5, n))
        rows = [["B1*2", "C1*2", "D1*2"], ["IF(A1<2,B1,0)", "SORT(A1:A3)", "C1"],
                ["{1,2}", "A1", "B1"], ["A1", "B1", "SUM({1,2})"], ["A1", "B1", "C1"]]
        for i, formulas in enumerate(rows):
            cols, values = range(2 + i, 5 + i), [1.0, "#N/A", 3]
            if isinstance(ws, _Worksheet):
                ws.write_formulas(64 + i, cols, formulas, fmt, values)
            else:
                for col, formula, value in zip(cols, formulas, values):
                    ws.write_formula(64 + i, col, "=" + formula, fmt, value)
        ws.write_comment(41, 9, "a comment")
        ws.write_comment(61, 2, "a comment on a row without cells")
        ws.set_row(60, 30)
        ws.set_row(62, None, row_fmt)
        codes.append(ws.write_number(62, 200, 1.0))
        ws.merge_range(50, 0, 50, 3, "merged", fmt)
        ws.write_rich_string(51, 0, "a", fmt, "b")
        ws.write_boolean(52, 0, False)
        ws.write_blank(53, 0, None, fmt)
        return codes

    fast, plain = _sheet_xml(_Worksheet, write), _sheet_xml(None, write)
    assert b"_xlfn._xlws.SORT(A1:A3)" in fast["xl/worksheets/sheet1.xml"]
    assert b't="e"' in fast["xl/worksheets/sheet1.xml"]
    assert fast == plain
