"""Writes ``model.xlsx``: Cover, Inputs, one calculation sheet per model, Checks.

FAST conventions: inputs apart from workings; columns A label, B unit, C key (the output or
assumption name), D constant/scalar value, E… the timeline; blue inputs, black formulas, green
links from other sheets; one formula across a row; frozen panes; a Checks sheet. Every formula
is written with the value Python computed for it (XlsxWriter stores it), so readers that do not
recalculate still show numbers; LibreOffice recalculating the file gets the same numbers
(tests/test_libreoffice_parity.py).

Nothing here is model-specific: rows, units and formulas come from :mod:`models.lineitems`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import xlsxwriter
import xlsxwriter.worksheet
from xlsxwriter.utility import xl_rowcol_to_cell, xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellFormulaTuple as _Formula
from xlsxwriter.worksheet import CellNumberTuple as _Number
from xlsxwriter.worksheet import CellStringTuple as _String

from models.assumptions import Assumptions
from models.engine import Result
from models.formats import DEFAULT_FORMAT, NUMBER_FORMATS  # noqa: F401 (re-exported)
from models.formats import FLAG_FORMAT, excel_format
from models.lineitems import (CellContext, ModelSpec, Row, Section, col_letter,
                              row_formulas)

INPUTS = "Inputs"
SENSITIVITY = "Sensitivity"
CHECKS = "Checks"
COVER = "Cover"
SOURCES = "Sources"
COL_LABEL, COL_UNIT, COL_KEY, COL_VALUE, COL_FIRST_PERIOD = 0, 1, 2, 3, 4
HEADER_ROW = 3  # 0-based row of the timeline header on calculation sheets


BLUE, GREEN, BLACK, GREY = "#0000FF", "#008000", "#000000", "#808080"
INPUT_FILL = "#FFF2CC"


# =========================================================================== layout
class Layout:
    """Where every row and input sits; answers the address questions formulas ask."""

    first_period_col = COL_FIRST_PERIOD

    def __init__(self, specs: dict[str, ModelSpec], a: Assumptions):
        self.specs = specs
        self.assumptions = a
        self.width = max(len(s.periods) for s in specs.values())
        self.rows: dict[str, tuple[str, int]] = {}
        self.inputs: dict[str, int] = {}
        self.input_headers: dict[str, int] = {}
        self.sheet_items: dict[str, list[tuple[int, Any]]] = {}
        self._lay_out_inputs()
        for spec in specs.values():
            self._lay_out_model(spec)

    # -- positions --------------------------------------------------------------
    def _lay_out_inputs(self) -> None:
        r = 3
        for model in self.specs:
            self.input_headers[model] = r
            r += 1
            for item in self.assumptions.for_model(model):
                self.inputs[item.key] = r
                r += 1
            r += 1

    def _lay_out_model(self, spec: ModelSpec) -> None:
        r = HEADER_ROW + 1
        placed: list[tuple[int, Any]] = []
        for item in spec.items:
            if isinstance(item, Section):
                r += 1 if placed else 0
                placed.append((r, item))
            else:
                self.rows[item.key] = (spec.name, r)
                placed.append((r, item))
            r += 1
        self.sheet_items[spec.name] = placed

    @property
    def source_col(self) -> int:
        return COL_FIRST_PERIOD + self.width

    # -- questions asked by CellContext --------------------------------------------
    def where(self, row: Row) -> tuple[str, int]:
        return self.rows[row.key]

    def period_span(self, row: Row) -> tuple[int, int]:
        n = len(self.specs[row.model].periods)
        return COL_FIRST_PERIOD, COL_FIRST_PERIOD + n - 1

    def header_row(self, sheet: str, model: str) -> int:
        return HEADER_ROW

    def column_for(self, row: Row, current_sheet: str, current_col: int) -> int:
        if current_sheet == row.model or current_sheet not in self.specs:
            return current_col
        period = self.specs[current_sheet].periods[current_col - COL_FIRST_PERIOD]
        return COL_FIRST_PERIOD + self.specs[row.model].periods.index(period)

    def input_ref(self, key: str, series: bool, period_col: int | None, sheet: str) -> str:
        r = self.inputs[key] + 1
        if not series:
            return f"{INPUTS}!$D${r}"
        return f"{INPUTS}!{col_letter(period_col)}${r}"

    def cell_of(self, row: Row, period: str | None = None) -> str:
        sheet, r = self.rows[row.key]
        if period is None:
            return f"{sheet}!{xl_rowcol_to_cell(r, COL_VALUE)}"
        col = COL_FIRST_PERIOD + self.specs[row.model].periods.index(period)
        return f"{sheet}!{xl_rowcol_to_cell(r, col)}"


# =========================================================================== writing
@dataclass
class _Formats:
    book: Any

    def __post_init__(self):
        self.cache: dict[tuple, Any] = {}

    def get(self, **props) -> Any:
        key = tuple(sorted(props.items()))
        if key not in self.cache:
            self.cache[key] = self.book.add_format({"font_name": "Arial", "font_size": 10,
                                                    **props})
        return self.cache[key]

    def number(self, unit: str, kind: str, fmt: str | None = None) -> Any:
        colour = {"input": BLUE, "link": GREEN}.get(kind, BLACK)
        props = {"num_format": excel_format(unit, fmt),
                 "font_color": colour}
        if kind == "input":
            props["bg_color"] = INPUT_FILL
            props["border"] = 1
            props["border_color"] = "#BFBFBF"
        return self.get(**props)


# XlsxWriter runs 29 regular expressions over every formula to prefix Excel's dynamic-array
# functions with ``_xlfn.``; the model's formulas use none of them, so one combined search
# decides whether that is needed (a sixth of the build's workbook time). Same output.
_DYNAMIC_NAMES = ("ANCHORARRAY", "BYCOL", "BYROW", "CHOOSECOLS", "CHOOSEROWS", "DROP", "EXPAND",
                  "FILTER", "HSTACK", "LAMBDA", "MAKEARRAY", "MAP", "RANDARRAY", "REDUCE", "SCAN",
                  "SEQUENCE", "SORT", "SORTBY", "SWITCH", "TAKE", "TEXTSPLIT", "TOCOL", "TOROW",
                  "UNIQUE", "VSTACK", "WRAPCOLS", "WRAPROWS", "XLOOKUP")
_DYNAMIC_FUNCTIONS = re.compile(r"\b(?:" + "|".join(_DYNAMIC_NAMES) + r")\(|\SINGLE\(")
# What a match needs: a name (or SINGLE's "INGLE") just before a "(". Checking the text before
# each "(" first spares most formulas the search (which took a tenth of the workbook's time).
_DYNAMIC_TAILS = (*_DYNAMIC_NAMES, "INGLE")


def _dynamic_function(formula: str) -> bool:
    """Whether ``formula`` calls one of Excel's dynamic-array functions (as XlsxWriter's
    search for them decides)."""
    before = formula.split("(")
    del before[-1]
    return any(text.endswith(_DYNAMIC_TAILS) for text in before) and \
        _DYNAMIC_FUNCTIONS.search(formula) is not None


class _Worksheet(xlsxwriter.worksheet.Worksheet):
    """XlsxWriter's worksheet with shorter paths for the cells the model writes most: the same
    cells stored, the same XML written (anything else goes XlsxWriter's own way)."""

    def write_formula(self, *args, **kwargs):
        if (kwargs or not 3 <= len(args) <= 5 or type(args[0]) is not int
                or type(args[1]) is not int or type(args[2]) is not str):
            return super().write_formula(*args, **kwargs)  # e.g. an A1 address
        row, col, formula = args[:3]
        if (not formula.startswith("=") or formula.startswith("={") or formula.endswith("}")
                or self.constant_memory or self.use_future_functions
                or _dynamic_function(formula)):
            return super().write_formula(*args)
        if self._check_dimensions(row, col):
            return -1
        self.table[row][col] = _Formula(formula[1:], args[3] if len(args) > 3 else None,
                                        args[4] if len(args) > 4 else 0)
        return 0

    def write_formulas(self, row: int, cols: range, formulas: Sequence[str], cell_format,
                       values: Sequence[Any]) -> None:
        """``write_formula(row, col, "=" + formula, cell_format, value)`` for each column of
        ``cols`` (adjacent columns): the same cells, with the checks made once for the row."""
        joined = "\x00".join(formulas)  # a formula's text before each "(" stays as it was
        if (type(row) is not int or type(cols) is not range or cols.step != 1
                or len(cols) != len(formulas) or len(values) != len(formulas) or not formulas
                or self.constant_memory or self.use_future_functions
                or joined.startswith("{") or "\x00{" in joined or joined.endswith("}")
                or "}\x00" in joined or _dynamic_function(joined)
                or self._check_dimensions(row, cols[0]) or self._check_dimensions(row, cols[-1])):
            for col, formula, value in zip(cols, formulas, values):
                self.write_formula(row, col, "=" + formula, cell_format, value)
            return
        cells = self.table[row]
        for col, formula, value in zip(cols, formulas, values):
            cells[col] = _Formula(formula, cell_format, value)

    def write_string(self, *args, **kwargs):
        if (kwargs or not 3 <= len(args) <= 4 or type(args[0]) is not int
                or type(args[1]) is not int or type(args[2]) is not str
                or len(args[2]) > self.xls_strmax // 2 or self.constant_memory):
            return super().write_string(*args, **kwargs)
        row, col, string = args[:3]
        if self._check_dimensions(row, col):
            return -1
        self.table[row][col] = _String(self.str_table._get_shared_string_index(string),
                                       args[3] if len(args) > 3 else None)
        return 0

    def _write_cell(self, row, col, cell):
        kind = type(cell)
        if kind is _Formula:
            if isinstance(cell.value, (bool, str)):
                return super()._write_cell(row, col, cell)
        elif kind is not _Number and (kind is not _String or self.constant_memory):
            return super()._write_cell(row, col, cell)
        if cell.format:  # the style attribute, found as XlsxWriter finds it
            style = f' s="{cell.format._get_xf_index()}"'
        elif row in self.row_info and self.row_info[row].row_format:
            style = f' s="{self.row_info[row].row_format._get_xf_index()}"'
        elif col in self.col_info and self.col_info[col].column_format is not None:
            style = f' s="{self.col_info[col].column_format._get_xf_index()}"'
        else:
            style = ""
        ref = xl_rowcol_to_cell_fast(row, col)
        if kind is _Formula:
            self.fh.write(f'<c r="{ref}"{style}><f>{self._escape_data(cell.formula)}</f>'
                          f'<v>{cell.value}</v></c>')
        elif kind is _Number:
            self.fh.write(f'<c r="{ref}"{style}><v>{cell.number:.16G}</v></c>')
        else:
            self.fh.write(f'<c r="{ref}"{style} t="s"><v>{cell.string}</v></c>')

    def _prepare_formula(self, formula, expand_future_functions=False):
        if (self.use_future_functions or expand_future_functions
                or _dynamic_function(formula)):
            return super()._prepare_formula(formula, expand_future_functions)
        if formula.startswith("{"):  # what XlsxWriter strips before its substitutions
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula


def write_workbook(result: Result, path: Path, run_info: dict[str, str],
                   extra_sheets: Sequence[Callable] = ()) -> dict[str, str]:
    """Write the workbook; return ``output name → cell`` (e.g. ``china!F12``) for tracing.

    ``extra_sheets``: callables ``(book, fmts, layout, result) -> {output: cell}`` that add a
    sheet after the model sheets (e.g. the Scenarios sheet), before Checks."""
    layout = Layout(result.specs, result.assumptions)
    # assembled in memory, not in temporary files (a sixth of XlsxWriter's close() went on
    # writing, reading back and deleting them); the zip holds the same parts
    book = xlsxwriter.Workbook(path if hasattr(path, "write") else str(path),
                               {"strings_to_formulas": False, "strings_to_numbers": False,
                                "strings_to_urls": False, "in_memory": True})
    book.worksheet_class = _Worksheet
    fmts = _Formats(book)
    cells: dict[str, str] = {}
    _write_cover(book, fmts, result, run_info)
    _write_inputs(book, fmts, layout, result.assumptions)
    _grey_disconnected_inputs(book.get_worksheet_by_name(INPUTS), fmts, layout, result)
    for spec in result.specs.values():
        cells.update(_write_model(book, fmts, layout, spec, result))
    cells.update(_write_grids(book, fmts, layout, result))
    for write_sheet in extra_sheets:
        cells.update(write_sheet(book, fmts, layout, result))
    _write_sources(book, fmts, result)
    _write_checks(book, fmts, layout, result)
    _define_names(book, layout, result)
    book.set_properties({"title": "eqr model", "subject": run_info.get("run_id", ""),
                         "comments": "Generated by eqr; formulas are live."})
    book.close()
    return cells


def cell_map(result: Result, extra_sheets: Sequence[Callable] = ()) -> dict[str, str]:
    """``output name → cell`` exactly as :func:`write_workbook` returns it, without writing a
    file (``eqr check`` renders the memo with it; a test compares it with cells.json).

    Extra sheets (the Scenarios sheet) place their own cells: the workbook is then written to
    memory and its answer used, so the two cannot drift."""
    if extra_sheets:
        import io
        return write_workbook(result, io.BytesIO(), {}, extra_sheets)
    layout = Layout(result.specs, result.assumptions)
    cells: dict[str, str] = {}
    for spec in result.specs.values():
        for _, item in layout.sheet_items[spec.name]:
            if isinstance(item, Section):
                continue
            if item.series:
                for period in spec.periods:
                    cells[f"{item.key}.{period}"] = layout.cell_of(item, period)
            else:
                cells[item.key] = layout.cell_of(item)
    from models.grids import all_grids
    for grid, _, head in _grid_placement(list(all_grids(result.specs))):
        cells.update(_grid_cells(grid, head))
    return cells


def _print_setup(ws, header_rows: int | None = None) -> None:
    """Landscape, one page wide, header rows repeated: the sheet prints as it reads."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    if header_rows is not None:
        ws.repeat_rows(0, header_rows)
    ws.set_footer("&L&A&R&P / &N")


def _text(ws, r: int, c: int, value: Any, fmt=None) -> None:
    """Text is always written as a string, never interpreted as a formula."""
    ws.write_string(r, c, "" if value is None else str(value), fmt)


def _write_cover(book, fmts, result: Result, info: dict[str, str]) -> None:
    ws = book.add_worksheet(COVER)
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 90)
    _text(ws, 0, 0, "eqr — Nvidia and the AI supply chain", fmts.get(bold=True, font_size=14))
    rows = [("Run", info.get("run_id", "")), ("Built", info.get("created", "")),
            ("Scenarios", info.get("scenarios", "") or "base"),
            ("Overrides", info.get("overrides", "") or "none"),
            ("Package version", info.get("version", ""))]
    for i, (k, v) in enumerate(rows, start=2):
        _text(ws, i, 0, k, fmts.get(bold=True))
        _text(ws, i, 1, v)
    legend = [("Blue on yellow", "input: edit it, the model recomputes", fmts.number("", "input")),
              ("Black", "formula on its own sheet", fmts.get()),
              ("Green", "link to another sheet", fmts.get(font_color=GREEN))]
    _text(ws, 9, 0, "Conventions", fmts.get(bold=True))
    for i, (name, what, f) in enumerate(legend, start=10):
        _text(ws, i, 0, name, f)
        _text(ws, i, 1, what)
    _text(ws, 14, 0, "Sheets", fmts.get(bold=True))
    sheets = [(INPUTS, "every assumption with its unit and source")]
    sheets += [(s.name, s.description) for s in result.specs.values()]
    sheets += [(CHECKS, "identities that must hold (1 = OK)")]
    for i, (name, what) in enumerate(sheets, start=15):
        _text(ws, i, 0, name)
        _text(ws, i, 1, what)
    _text(ws, 16 + len(sheets), 0,
          "Column C holds each row's key: the name used in outputs.json and in the memo.",
          fmts.get(italic=True, font_color=GREY))


def _header(ws, fmts, r: int, first: str, periods, extra=()) -> None:
    head = fmts.get(bold=True, bottom=1, bg_color="#DDEBF7")
    for c, text in enumerate([first, "Unit", "Key", "Value"]):
        _text(ws, r, c, text, head)
    for j, p in enumerate(periods):
        _text(ws, r, COL_FIRST_PERIOD + j, p, fmts.get(bold=True, bottom=1, bg_color="#DDEBF7",
                                                      align="right"))
    for c, text in extra:
        _text(ws, r, c, text, head)


def _write_inputs(book, fmts, layout: Layout, a: Assumptions) -> None:
    ws = book.add_worksheet(INPUTS)
    ws.set_column(COL_LABEL, COL_LABEL, 46)
    ws.set_column(COL_UNIT, COL_UNIT, 14)
    ws.set_column(COL_KEY, COL_KEY, 30, fmts.get(font_color=GREY))
    ws.set_column(COL_VALUE, COL_FIRST_PERIOD + layout.width - 1, 13)
    src = layout.source_col
    ws.set_column(src, src, 70)
    ws.set_column(src + 1, src + 1, 60)
    ws.set_column(src + 2, src + 4, 14)
    _text(ws, 0, 0, "Inputs", fmts.get(bold=True, font_size=14))
    _text(ws, 1, 0, "Blue cells on yellow are inputs: change them and every sheet recomputes. "
                    "Each row cites its source; 'unknown:' marks an analyst assumption.",
          fmts.get(italic=True, font_color=GREY))
    extra = [(src, "Source"), (src + 1, "Note"), (src + 2, "Low"), (src + 3, "High"),
             (src + 4, "Set by")]
    for model, spec in layout.specs.items():
        h = layout.input_headers[model]
        _header(ws, fmts, h, a.sheets[model].title, spec.periods, extra)
        for item in a.for_model(model):
            r = layout.inputs[item.key]
            write_input_cells(ws, fmts, r, item, spec)
            _text(ws, r, src, item.source)
            _text(ws, r, src + 1, item.note)
            for off, v in ((2, item.low), (3, item.high)):
                if isinstance(v, dict):
                    _text(ws, r, src + off, " / ".join(f"{x:g}" for x in v.values()))
                elif v is not None:
                    ws.write_number(r, src + off, v)
            _text(ws, r, src + 4, item.set_by)
    ws.freeze_panes(3, 3)
    _print_setup(ws, 2)


def write_input_cells(ws, fmts, r: int, item, spec) -> None:
    """An input row's label, unit, key and value cells (a series across the periods, a choice
    with its drop-down, an unknown figure as a visible gap): the Inputs sheet and the
    scenario sheets' own input rows (models.scenario_sheets) write them alike."""
    _text(ws, r, COL_LABEL, item.label)
    _text(ws, r, COL_UNIT, item.unit)
    _text(ws, r, COL_KEY, item.key, fmts.get(font_color=GREY))
    fmt = fmts.number(item.unit, "input")
    if item.is_series:
        for j, p in enumerate(spec.periods):
            ws.write_number(r, COL_FIRST_PERIOD + j, item.value[p], fmt)
    elif isinstance(item.value, str):
        ws.write_string(r, COL_VALUE, item.value, fmt)
        if item.choices:
            ws.data_validation(r, COL_VALUE, r, COL_VALUE, {
                "validate": "list", "source": list(item.choices),
                "error_title": "Not a valid choice",
                "error_message": "Choose one of: " + ", ".join(item.choices)})
    elif item.unknown:
        _write_gap(ws, r, COL_VALUE, item.note, fmt)
    else:
        ws.write_number(r, COL_VALUE, item.value, fmt)


def _grey_disconnected_inputs(ws, fmts, layout: Layout, result: Result) -> None:
    """Inputs that reach the results only through one branch of an IF on a choice are greyed
    by a conditional format reading the choice cell (``=$D$5="market"``): switch the choice in
    Excel or LibreOffice and the rows grey or un-grey at once (models.effects)."""
    from models.effects import switch_guards
    grey = fmts.get(font_color="#9a9a9a", bg_color="#eeeeee", italic=True)
    last = layout.source_col + 4
    for guard in switch_guards(result.specs):
        if guard.key not in layout.inputs or guard.switch not in layout.inputs:
            continue
        r = layout.inputs[guard.key]
        switch = f"$D${layout.inputs[guard.switch] + 1}"
        value = guard.value.replace('"', '""')
        ws.conditional_format(r, 0, r, last, {
            "type": "formula", "format": grey,
            "criteria": f'={switch}{"=" if guard.equal else "<>"}"{value}"'})


def _write_model(book, fmts, layout: Layout, spec: ModelSpec, result: Result) -> dict[str, str]:
    ws = book.add_worksheet(spec.name)
    ws.set_column(COL_LABEL, COL_LABEL, 50)
    ws.set_column(COL_UNIT, COL_UNIT, 14)
    ws.set_column(COL_KEY, COL_KEY, 34)
    ws.set_column(COL_VALUE, COL_FIRST_PERIOD + len(spec.periods) - 1, 13)
    _text(ws, 0, 0, spec.title, fmts.get(bold=True, font_size=14))
    _text(ws, 1, 0, spec.description, fmts.get(italic=True, font_color=GREY))
    _header(ws, fmts, HEADER_ROW, "Line item", spec.periods)
    cells: dict[str, str] = {}
    env = result.env
    answers: dict = {}  # cell addresses the sheet's formulas ask for (models.lineitems)
    cols = range(COL_FIRST_PERIOD, COL_FIRST_PERIOD + len(spec.periods))
    letters = [col_letter(col) for col in cols]
    for r, item in layout.sheet_items[spec.name]:
        if isinstance(item, Section):
            _text(ws, r, COL_LABEL, item.title, fmts.get(bold=True, underline=1))
            continue
        row: Row = item
        kind = "link" if row.kind == "link" else "calc"
        label_fmt = fmts.get(font_color=GREEN) if kind == "link" else (
            fmts.get(italic=True) if row.kind == "check" else None)
        _text(ws, r, COL_LABEL, row.label, label_fmt)
        _text(ws, r, COL_UNIT, row.unit)
        _text(ws, r, COL_KEY, row.key, fmts.get(font_color=GREY))
        fmt = fmts.number(row.unit, kind, row.fmt)
        values = env.get(row.key)[0]
        if row.series:
            formulas = row_formulas(row.expr, layout, spec.name, cols, answers)
            ws.write_formulas(r, cols, formulas, fmt, [_cached(v) for v in values])
            for j, period in enumerate(spec.periods):
                cells[f"{row.key}.{period}"] = f"{spec.name}!{letters[j]}{r + 1}"
        else:
            ctx = CellContext(layout, spec.name, COL_VALUE)
            ws.write_formula(r, COL_VALUE, "=" + ctx.render(row.expr), fmt, _cached(values[0]))
            cells[row.key] = f"{spec.name}!{xl_rowcol_to_cell(r, COL_VALUE)}"
    ws.freeze_panes(HEADER_ROW + 1, COL_FIRST_PERIOD)
    _print_setup(ws, HEADER_ROW)
    return cells


def _write_grids(book, fmts, layout: Layout, result: Result) -> dict[str, str]:
    """Sheet ``Sensitivity``: each grid's axis values (blue, editable) and live formulas."""
    from models.grids import all_grids, dependent_rows, formula_template

    grids = list(all_grids(result.specs))
    if not grids:
        return {}
    ws = book.add_worksheet(SENSITIVITY)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 40, 13)
    _text(ws, 0, 0, "Sensitivity", fmts.get(bold=True, font_size=14))
    _text(ws, 1, 0, "Each grid recomputes the output for the axis values (blue, editable) with "
                    "every other input as on the Inputs sheet; formulas are live.",
          fmts.get(italic=True, font_color=GREY))
    cells: dict[str, str] = {}
    for grid, r, head in _grid_placement(grids):
        values = result.grid_values[grid.key]
        dependent = dependent_rows(result.specs, {grid.rows.key, grid.cols.key})
        formula = formula_template(grid, layout, SENSITIVITY, dependent)
        out_fmt = fmts.number(grid.output.unit, "calc", grid.output.fmt)
        _text(ws, r, 0, grid.label, fmts.get(bold=True, underline=1))
        where = f" in {grid.period}" if grid.period else ""
        _text(ws, r + 1, 0, f"Output: {grid.output.label}{where} ({grid.output.unit}), key "
                            f"{grid.output.key}; sheet {grid.output.model}",
              fmts.get(italic=True, font_color=GREY))
        _text(ws, r + 2, 0, f"Rows: {grid.rows.label} ({grid.rows.name}, {grid.rows.unit})")
        _text(ws, r + 3, 0, f"Columns: {grid.cols.label} ({grid.cols.name}, {grid.cols.unit})")
        _text(ws, head, 1, "rows \\ columns", fmts.get(bold=True, align="right"))
        for j, v in enumerate(grid.cols.values):
            _axis_cell(ws, head, 2 + j, v, fmts.number(grid.cols.unit, "input"))
        for i, rv in enumerate(grid.rows.values):
            rr = head + 1 + i
            _axis_cell(ws, rr, 1, rv, fmts.number(grid.rows.unit, "input"))
            for j in range(len(grid.cols.values)):
                col = 2 + j
                ws.write_formula(rr, col, formula(f"$B{rr + 1}", f"{col_letter(col)}${head + 1}"),
                                 out_fmt, _cached(values[i, j]))
        cells.update(_grid_cells(grid, head))
    ws.freeze_panes(3, 0)
    _print_setup(ws)
    return cells


def _grid_placement(grids):
    """(grid, first row, axis-header row) of each grid on the Sensitivity sheet (0-based)."""
    r = 3
    for grid in grids:
        head = r + 4
        yield grid, r, head
        r = head + len(grid.rows.values) + 3


def _grid_cells(grid, head: int) -> dict[str, str]:
    """A grid's outputs → cells (axis header on row ``head``): the numeric axis values
    (``<grid>.col.<j>`` on the header row, ``<grid>.row.<i>`` in column B) and the values
    ``<grid>.<i>.<j>``. Both :func:`write_workbook` and :func:`cell_map` use this."""
    cells: dict[str, str] = {}
    for j, v in enumerate(grid.cols.values):
        if not isinstance(v, str):  # numeric axis values are outputs too
            cells[f"{grid.key}.col.{j}"] = f"{SENSITIVITY}!{xl_rowcol_to_cell(head, 2 + j)}"
    for i, rv in enumerate(grid.rows.values):
        if not isinstance(rv, str):
            cells[f"{grid.key}.row.{i}"] = f"{SENSITIVITY}!{xl_rowcol_to_cell(head + 1 + i, 1)}"
        for j in range(len(grid.cols.values)):
            cells[f"{grid.key}.{i}.{j}"] = \
                f"{SENSITIVITY}!{xl_rowcol_to_cell(head + 1 + i, 2 + j)}"
    return cells


def _axis_cell(ws, r: int, c: int, value: Any, fmt) -> None:
    if isinstance(value, str):
        ws.write_string(r, c, value, fmt)
    else:
        ws.write_number(r, c, value, fmt)


GAP = "#N/A"  # Excel's "value not available": what an unknown figure and its dependants show


def _write_gap(ws, r: int, c: int, note: str, fmt) -> None:
    """An unknown input: ``=NA()`` (type a number over it to fill the gap) with the reason as
    a cell comment."""
    ws.write_formula(r, c, "=NA()", fmt, GAP)
    ws.write_comment(r, c, "Unknown: " + note, {"x_scale": 2, "y_scale": 2})


def _cached(v: Any) -> Any:
    if isinstance(v, str):
        return v
    if v is None:  # an unknown figure
        return GAP
    f = float(v)
    return f if math.isfinite(f) else GAP


def check_value(result: Result, row: Row) -> Any:
    """The Checks sheet's cell as Python computes it: 1, 0, or #N/A when the check row rests
    on an unknown figure (Excel's ABS/SUMPRODUCT pass the #N/A on)."""
    values = np.asarray(result.env.get(row.key)[0], dtype=float)
    if np.isnan(values).any():
        return GAP
    return 1 if check_passes(result, row) else 0


def check_passes(result: Result, row: Row) -> bool:
    """The Python twin of the Checks sheet formula ``SUMPRODUCT(ABS(range))<=tolerance``."""
    return bool(np.sum(np.abs(result.env.get(row.key)[0])) <= row.tolerance)


def _write_sources(book, fmts, result: Result) -> None:
    """The source documents the sheets cite, with the assumptions citing each (the note's key
    sources and sources.html list the same, from :func:`models.sources.documents`)."""
    from models.sources import analyst_figures, documents
    items = [it for it in result.assumptions.items.values() if it.model in result.specs]
    ws = book.add_worksheet(SOURCES)
    for c, width in enumerate((60, 12, 70, 70)):
        ws.set_column(c, c, width)
    _text(ws, 0, 0, "Sources", fmts.get(bold=True, font_size=14))
    _text(ws, 1, 0, "Each document the assumption sheets cite; every input's full source text is "
                    "in the Source column of the Inputs sheet.", fmts.get(italic=True,
                                                                         font_color=GREY))
    head = fmts.get(bold=True, bottom=1, bg_color="#DDEBF7")
    for c, text in enumerate(["Document", "Assumptions", "Cited by", "Reference-file keys"]):
        _text(ws, 3, c, text, head)
    wrap = fmts.get(text_wrap=True, valign="top")
    r = 4
    for doc in documents(items):
        _text(ws, r, 0, doc["document"], wrap)
        ws.write_number(r, 1, len(doc["keys"]), fmts.get(num_format="0", valign="top"))
        _text(ws, r, 2, ", ".join(doc["keys"]), wrap)
        _text(ws, r, 3, "; ".join(doc["references"]), wrap)
        r += 1
    analyst = analyst_figures(items)
    _text(ws, r + 1, 0, "Figures no document gives (the analyst's; the Inputs sheet says why)",
          fmts.get(bold=True))
    ws.write_number(r + 1, 1, len(analyst), fmts.get(num_format="0"))
    _text(ws, r + 1, 2, ", ".join(analyst), wrap)
    ws.freeze_panes(4, 0)
    _print_setup(ws, 3)


def _write_checks(book, fmts, layout: Layout, result: Result) -> None:
    ws = book.add_worksheet(CHECKS)
    ws.set_column(0, 0, 60)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 2, 40)
    ws.set_column(3, 3, 10)
    _text(ws, 0, 0, "Checks", fmts.get(bold=True, font_size=14))
    _text(ws, 1, 0, "1 = the identity holds in every period (within tolerance); 0 = broken.",
          fmts.get(italic=True, font_color=GREY))
    head = fmts.get(bold=True, bottom=1, bg_color="#DDEBF7")
    for c, text in enumerate(["Check", "Model", "Key", "OK"]):
        _text(ws, 3, c, text, head)
    checks = [row for spec in result.specs.values() for row in spec.checks]
    ok_fmt = fmts.get(num_format=FLAG_FORMAT, font_color=BLACK, align="center")
    first = 4
    for i, row in enumerate(checks):
        r = first + i
        sheet, rr = layout.where(row)
        if row.series:
            a, b = layout.period_span(row)
            rng = f"{sheet}!${col_letter(a)}${rr + 1}:${col_letter(b)}${rr + 1}"
        else:
            rng = f"{sheet}!$D${rr + 1}"
        _text(ws, r, 0, row.label)
        _text(ws, r, 1, row.model)
        _text(ws, r, 2, row.key, fmts.get(font_color=GREY))
        ws.write_formula(r, 3, f"=IF(SUMPRODUCT(ABS({rng}))<={row.tolerance!r},1,0)", ok_fmt,
                         check_value(result, row))
    total_r = first + len(checks) + 1
    _text(ws, total_r, 0, "All checks pass", fmts.get(bold=True))
    values = [check_value(result, row) for row in checks]
    if checks:
        ws.write_formula(total_r, 3, f"=MIN(D{first + 1}:D{first + len(checks)})",
                         fmts.get(num_format=FLAG_FORMAT, bold=True, align="center"),
                         GAP if GAP in values else min(values))
        ws.conditional_format(first, 3, total_r, 3, {
            "type": "cell", "criteria": "==", "value": 0,
            "format": fmts.get(bg_color="#F8CBAD")})
        ws.conditional_format(first, 3, total_r, 3, {
            "type": "cell", "criteria": "==", "value": 1,
            "format": fmts.get(bg_color="#C6EFCE")})
    ws.freeze_panes(4, 0)
    _print_setup(ws, 3)


def excel_name(key: str) -> str:
    """An Excel defined name for a key: ``china.levy_rate`` stays as it is."""
    return key


def _define_names(book, layout: Layout, result: Result) -> None:
    for key, r in layout.inputs.items():
        item = result.assumptions.items[key]
        if item.is_series:
            n = len(result.specs[item.model].periods)
            ref = f"={INPUTS}!$E${r + 1}:${col_letter(COL_FIRST_PERIOD + n - 1)}${r + 1}"
        else:
            ref = f"={INPUTS}!$D${r + 1}"
        _name(book, key, ref)
    for spec in result.specs.values():
        for row in spec.rows:
            if row.kind == "link":
                continue
            sheet, rr = layout.where(row)
            if row.series:
                a, b = layout.period_span(row)
                ref = f"={sheet}!${col_letter(a)}${rr + 1}:${col_letter(b)}${rr + 1}"
            else:
                ref = f"={sheet}!$D${rr + 1}"
            _name(book, row.key, ref)


def _name(book, key: str, ref: str) -> None:
    """Define an Excel name; XlsxWriter only warns on an invalid one, so fail loudly."""
    if book.define_name(excel_name(key), ref) == -1:
        raise ValueError(f"{key!r} is not a valid Excel defined name")
