"""Writes the ``Scenarios`` sheet: one column per compared scenario (see :mod:`models.compare`).

Live columns are green links: the run's own column to the model sheets, another scenario's to its
own sheets (:mod:`models.scenario_sheets`); value columns (a scenario whose models have other rows
than the run's) hold numbers from separate evaluations (grey on light grey, labelled as such). The probability row links the Inputs sheet,
so the weights and the probability-weighted target are live formulas:

    weight   = IF(SUM(probabilities)=0, 0, probability / SUM(probabilities))
    weighted = SUMPRODUCT(weights, price targets)
"""
from __future__ import annotations

from typing import Callable

from xlsxwriter.utility import xl_rowcol_to_cell

from models.compare import WEIGHTED, WEIGHTED_OUTPUT, Comparison
from models.lineitems import col_letter
from models.formats import excel_format
from models.scenario_sheets import cell_of, make_plan, write_scenario_sheets
from models.workbook import GAP, INPUTS, _cached, _text

SHEET = "Scenarios"
FIRST_COL = 3  # scenarios start in column D
HEADER = 3
GREY, GREEN, VALUE_FILL = "#595959", "#008000", "#F2F2F2"


def sheet_writer(comparison: Comparison) -> Callable:
    """A callable for :func:`models.workbook.write_workbook`'s ``extra_sheets``."""

    def write(book, fmts, layout, result) -> dict[str, str]:
        return write_scenarios(book, fmts, layout, result, comparison)

    return write


def num(unit: str, fmt: str | None = None) -> str:
    return excel_format(unit, fmt)


def write_scenarios(book, fmts, layout, result, comparison: Comparison) -> dict[str, str]:

    ws = book.add_worksheet(SHEET)
    cols = comparison.columns
    last = FIRST_COL + len(cols) - 1
    ws.set_column(0, 0, 46)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 2, 34, fmts.get(font_color="#808080"))
    ws.set_column(FIRST_COL, last, 16)
    _text(ws, 0, 0, "Scenarios side by side", fmts.get(bold=True, font_size=14))
    _text(ws, 1, 0, "Green columns are live formulas and recompute when the Inputs change: the "
                    "run's own column links the model sheets; another scenario's column links "
                    "its own sheets (<model>_s<column number>), which hold the rows its overlay "
                    "changes, computed from its own inputs (at the bottom of those sheets) and "
                    "the Inputs sheet. Grey columns (if any) are VALUES from a separate run; "
                    "they do not recompute. Probabilities, weights and the weighted target are "
                    "live.", fmts.get(italic=True, font_color="#808080"))
    head = fmts.get(bold=True, bottom=1, bg_color="#DDEBF7")
    for c, text in enumerate(["Output", "Unit", "Key"]):
        _text(ws, HEADER, c, text, head)
    for j, col in enumerate(cols):
        _text(ws, HEADER, FIRST_COL + j, col.name, fmts.get(bold=True, bottom=1,
                                                            bg_color="#DDEBF7", align="right"))
        _text(ws, HEADER + 1, FIRST_COL + j, col.description,
              fmts.get(text_wrap=True, valign="top", font_size=8))
        _text(ws, HEADER + 2, FIRST_COL + j,
              "live formulas" if col.live else
              "live (own sheets)" if col.own_sheets else "values (separate run)",
              fmts.get(italic=True, align="right",
                       font_color=GREEN if col.live or col.own_sheets else GREY))
    _text(ws, HEADER + 1, 0, "Scenario")
    _text(ws, HEADER + 2, 0, "Column holds")
    ws.set_row(HEADER + 1, 48)

    plans = {col.name: make_plan(col.name, j + 1, result, col.result.assumptions, layout)
             for j, col in enumerate(cols) if col.own_sheets}
    cells: dict[str, str] = {}
    rows: dict[str, int] = {}
    r = HEADER + 3
    for key, label in comparison.headlines:
        model, _, name = key.partition(".")
        row = result.specs[model].row(name)
        rows[key] = r
        _text(ws, r, 0, label)
        _text(ws, r, 1, row.unit)
        _text(ws, r, 2, key)
        for j, col in enumerate(cols):
            c = FIRST_COL + j
            if col.live:
                sheet, rr = layout.where(row)
                fmt = fmts.number(row.unit, "link", row.fmt)
                ws.write_formula(r, c, f"={sheet}!$D${rr + 1}", fmt, _cached(col.values[key]))
            elif col.own_sheets:
                fmt = fmts.number(row.unit, "link", row.fmt)
                ws.write_formula(r, c, "=" + cell_of(layout, plans[col.name], row), fmt,
                                 _cached(col.values[key]))
            else:
                fmt = fmts.get(num_format=num(row.unit, row.fmt),
                               font_color=GREY, bg_color=VALUE_FILL)
                if col.values[key] is None:  # rests on an unknown figure: #N/A, as in the model
                    ws.write_formula(r, c, "=NA()", fmt, GAP)
                else:
                    ws.write_number(r, c, col.values[key], fmt)
            cells[f"scenarios.{col.name}.{key}"] = f"{SHEET}!{xl_rowcol_to_cell(r, c)}"
        r += 1

    for col in cols:
        if col.own_sheets:
            write_scenario_sheets(book, fmts, layout, result, plans[col.name], col.result)
    if not comparison.probabilities:
        _text(ws, r + 1, 0, "No compared scenario has a probability (valuation.probability_<name>"
                            " on the Inputs sheet), so there is no probability-weighted target.",
              fmts.get(italic=True, font_color="#808080"))
        ws.freeze_panes(HEADER + 1, FIRST_COL)
        return cells

    p_row, w_row, t_row = r + 1, r + 2, r + 4
    span = f"${col_letter(FIRST_COL)}${{r}}:${col_letter(last)}${{r}}"
    p_span = span.format(r=p_row + 1)
    _text(ws, p_row, 0, "Probability (sheet Inputs; blank = not weighted)")
    _text(ws, p_row, 1, "fraction")
    _text(ws, w_row, 0, "Weight (probability / sum over compared scenarios)")
    _text(ws, w_row, 1, "fraction")
    weights = comparison.weights()
    pct = fmts.number("fraction", "calc")
    for j, col in enumerate(cols):
        if col.name not in weights:
            continue
        c = FIRST_COL + j
        input_cell = f"{INPUTS}!$D${layout.inputs[col.probability_key] + 1}"
        ws.write_formula(p_row, c, f"={input_cell}", fmts.number("fraction", "link"),
                         comparison.probabilities[col.name])
        here = xl_rowcol_to_cell(p_row, c)
        ws.write_formula(w_row, c, f"=IF(SUM({p_span})=0,0,{here}/SUM({p_span}))", pct,
                         weights[col.name])
        cells[f"scenarios.{col.name}.probability"] = f"{SHEET}!{here}"
        cells[f"scenarios.{col.name}.weight"] = f"{SHEET}!{xl_rowcol_to_cell(w_row, c)}"
    pt_row = rows[WEIGHTED_OUTPUT]
    target_key = f"scenarios.{WEIGHTED}.{WEIGHTED_OUTPUT}"
    _text(ws, t_row, 0, "Probability-weighted price target", fmts.get(bold=True))
    _text(ws, t_row, 1, result.specs["valuation"].row("price_target").unit)
    _text(ws, t_row, 2, target_key)
    ws.write_formula(t_row, FIRST_COL,
                     f"=SUMPRODUCT({span.format(r=w_row + 1)},{span.format(r=pt_row + 1)})",
                     fmts.get(num_format=num("USD per share"),
                              bold=True, top=1, bottom=6),
                     _cached(comparison.weighted()))
    cells[target_key] = f"{SHEET}!{xl_rowcol_to_cell(t_row, FIRST_COL)}"
    ws.freeze_panes(HEADER + 1, FIRST_COL)
    return cells
