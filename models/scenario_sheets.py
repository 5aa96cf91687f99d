"""Live scenario columns: each compared scenario computes in the workbook from its own inputs.

A compared scenario differs from the run in a few assumptions (its overlay's values). Its sheets
hold only what that changes, generated from the same line-item definitions as the model sheets:

* the assumptions whose value differs from the run's, as input cells (blue on yellow) on the
  scenario's sheet of the model they belong to — edit them there;
* every line item that depends on one of them (directly or through other line items), at the
  same row and column as on the model sheet, its formula referring to the scenario's own cells
  for the rows and inputs it changes and to the model sheets and the Inputs sheet for the rest.

So an edit on the Inputs sheet flows to every scenario column a rerun would change (except the
assumptions a scenario sets itself: its overlay's value wins, as in a rerun without ``--set``),
and the Scenarios sheet's columns and the probability-weighted target recompute. One sheet per
(scenario, affected model), named ``<model>_s<n>`` (n = the scenario's column number
on the Scenarios sheet).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell

from models.lineitems import (CellContext, Row, Section, col_letter, dependency_table,
                              row_formulas, rows_depending_on)
from models.workbook import (COL_FIRST_PERIOD, COL_KEY, COL_LABEL, COL_UNIT, COL_VALUE, GREY,
                             HEADER_ROW, _cached, _header, _text, write_input_cells)


@dataclass
class ScenarioPlan:
    """What one compared scenario's sheets hold."""

    name: str
    number: int
    changed: dict[str, Any]  # assumption key → the scenario's item (value differs from the run's)
    affected: set[str]  # row keys that depend on a changed assumption
    sheets: dict[str, str] = field(default_factory=dict)  # model → sheet name
    input_rows: dict[str, int] = field(default_factory=dict)  # changed key → 0-based row

    def sheet_model(self, sheet: str) -> str | None:
        return next((m for m, s in self.sheets.items() if s == sheet), None)


def changed_items(run_a, scenario_a) -> dict[str, Any]:
    return {k: item for k, item in scenario_a.items.items()
            if k in run_a.items and item.value != run_a.items[k].value}


def affected_rows(specs, keys: set[str]) -> set[str]:
    """Rows that read one of the assumptions ``keys``, directly or through other rows."""
    return rows_depending_on(specs, keys)


def sheet_name(model: str, number: int) -> str:
    """``<model>_s<n>``: the model's sheet for the scenario in column n (≤ 31 characters)."""
    suffix = f"_s{number}"
    return model[:31 - len(suffix)] + suffix


def make_plan(name: str, number: int, run_result, scenario_a, layout) -> ScenarioPlan:
    changed = changed_items(run_result.assumptions, scenario_a)
    affected = affected_rows(run_result.specs, set(changed))
    plan = ScenarioPlan(name, number, changed, affected)
    for model, spec in run_result.specs.items():
        if any(r.key in affected for r in spec.rows):
            plan.sheets[model] = sheet_name(model, number)
    read = {k for key, inputs, _ in dependency_table(run_result.specs) if key in affected
            for k in inputs}
    for key in changed:  # an input read only by another model's rows sits on its own sheet
        if key in read and changed[key].model not in plan.sheets:
            plan.sheets[changed[key].model] = sheet_name(changed[key].model, number)
    last = {m: max(r for r, _ in layout.sheet_items[m]) for m in plan.sheets}
    next_row = {m: last[m] + 4 for m in plan.sheets}
    for key, item in changed.items():
        model = item.model
        if model in plan.sheets:
            plan.input_rows[key] = next_row[model]
            next_row[model] += 1
    return plan


class ScenarioLayout:
    """The workbook's layout as seen from one scenario's sheets: its affected rows and changed
    inputs are on its own sheets, everything else where the run has it."""

    def __init__(self, base, plan: ScenarioPlan):
        self.base = base
        self.plan = plan
        self.assumptions = base.assumptions
        self.first_period_col = base.first_period_col
        self.width = base.width
        self.specs = {**base.specs, **{s: base.specs[m] for m, s in plan.sheets.items()}}
        self._models = {s: m for m, s in reversed(plan.sheets.items())}  # plan.sheet_model's

    def where(self, row: Row) -> tuple[str, int]:
        sheet, r = self.base.where(row)
        if row.key in self.plan.affected:
            return self.plan.sheets[row.model], r
        return sheet, r

    def period_span(self, row: Row) -> tuple[int, int]:
        return self.base.period_span(row)

    def header_row(self, sheet: str, model: str) -> int:
        return HEADER_ROW

    def column_for(self, row: Row, current_sheet: str, current_col: int) -> int:
        model = self._models.get(current_sheet) or current_sheet
        return self.base.column_for(row, model, current_col)

    def input_ref(self, key: str, series: bool, period_col: int | None, sheet: str) -> str:
        if key not in self.plan.input_rows:
            return self.base.input_ref(key, series, period_col, sheet)
        own = self.plan.sheets[self.plan.changed[key].model]
        prefix = "" if own == sheet else f"'{own}'!"
        r = self.plan.input_rows[key] + 1
        return f"{prefix}$D${r}" if not series else f"{prefix}{col_letter(period_col)}${r}"


def write_scenario_sheets(book, fmts, layout, result, plan: ScenarioPlan,
                          scenario_result) -> None:
    """The scenario's sheets: its affected rows as formulas (stored values from its own
    evaluation) and its changed assumptions as input cells."""
    slayout = ScenarioLayout(layout, plan)
    env = scenario_result.env
    for model, sheet in plan.sheets.items():
        spec = result.specs[model]
        ws = book.add_worksheet(sheet)
        ws.set_column(COL_LABEL, COL_LABEL, 50)
        ws.set_column(COL_UNIT, COL_UNIT, 14)
        ws.set_column(COL_KEY, COL_KEY, 34)
        ws.set_column(COL_VALUE, COL_FIRST_PERIOD + len(spec.periods) - 1, 13)
        _text(ws, 0, 0, f"Scenario {plan.name}: {spec.title}", fmts.get(bold=True, font_size=14))
        _text(ws, 1, 0, f"The rows of sheet {model} that scenario {plan.name} changes, as live "
                        "formulas (same rows and columns as sheet " + model + "); its own "
                        "inputs are at the bottom. Blank rows are as on sheet " + model + ".",
              fmts.get(italic=True, font_color=GREY))
        _header(ws, fmts, HEADER_ROW, "Line item", spec.periods)
        answers: dict = {}  # cell addresses the sheet's formulas ask for (models.lineitems)
        for r, item in layout.sheet_items[model]:
            if isinstance(item, Section) or item.key not in plan.affected:
                continue
            _write_row(ws, fmts, slayout, sheet, r, item, spec, env, answers)
        own = [k for k, it in plan.changed.items() if it.model == model and k in plan.input_rows]
        if own:
            first = min(plan.input_rows[k] for k in own)
            _text(ws, first - 1, COL_LABEL, f"Inputs of scenario {plan.name} (edit here; every "
                                            "other input is on sheet Inputs)",
                  fmts.get(bold=True, underline=1))
            for key in own:
                write_input_cells(ws, fmts, plan.input_rows[key], plan.changed[key], spec)
        ws.freeze_panes(HEADER_ROW + 1, COL_FIRST_PERIOD)


def _write_row(ws, fmts, slayout, sheet: str, r: int, row: Row, spec, env,
               answers: dict) -> None:
    kind = "link" if row.kind == "link" else "calc"
    _text(ws, r, COL_LABEL, row.label)
    _text(ws, r, COL_UNIT, row.unit)
    _text(ws, r, COL_KEY, row.key, fmts.get(font_color=GREY))
    fmt = fmts.number(row.unit, kind, row.fmt)
    values = env.get(row.key)[0]
    if row.series:
        cols = range(COL_FIRST_PERIOD, COL_FIRST_PERIOD + len(spec.periods))
        ws.write_formulas(r, cols, row_formulas(row.expr, slayout, sheet, cols, answers), fmt,
                          [_cached(v) for v in values])
    else:
        ctx = CellContext(slayout, sheet, COL_VALUE)
        ws.write_formula(r, COL_VALUE, "=" + ctx.render(row.expr), fmt, _cached(values[0]))


def cell_of(layout, plan: ScenarioPlan, row: Row) -> str:
    """The cell holding a scalar row's value in the scenario (its own sheet if it changes)."""
    sheet, r = ScenarioLayout(layout, plan).where(row)
    quoted = f"'{sheet}'" if sheet in plan.sheets.values() else sheet
    return f"{quoted}!{xl_rowcol_to_cell(r, COL_VALUE, row_abs=True, col_abs=True)}"
