"""Sensitivity grids: one output against two inputs, as live formulas and as numbers.

Declared in a model's ``define``::

    m.grid("pt_units_asp", "Price target: H200 units × ASP", m.ref("price_target"),
           rows="china.h200_units.CY2027", cols="china.asp_usd")

Axis values come from the assumptions' ``low``/``high`` range (``steps`` points, evenly
spaced) or, for a choice, its choices. Python values come from one vectorised batch run of the
models with the two inputs varied (N = rows × cols scenarios; every grid of a run in the same
batch, each grid's points a block of its rows: :func:`all_grid_values`). In the workbook (sheet
``Sensitivity``) each cell is a live formula: the output's definition with every line item that
depends on the two inputs *inlined* down to the axis cells, and every other line item referenced
by its cell — so the grid recomputes in Excel or LibreOffice when any input or axis value is
edited. Not Excel data tables, which other programs cannot recompute.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

# the grid's declaration (Axis, Grid, make_grid) sits with ModelBuilder.grid in lineitems
from models.lineitems import (At, Axis, CellContext, Env, Expr, Grid, InputValue, Prev, Row,
                              RowRef, SumRows, Total, batch_inputs, col_letter, evaluate_spec,
                              input_deps, make_grid, row_deps,  # noqa: F401 (Axis, make_grid)
                              model_closure, rows_depending_on)

MAX_FORMULA = 8000  # Excel's limit is 8,192 characters


# --------------------------------------------------------------------------- values
def grid_values(grid: Grid, assumptions, specs) -> np.ndarray:
    """The output for every (row, column) pair: one batch evaluation of R × C scenarios."""
    return all_grid_values(assumptions, specs, [grid])[grid.key]


def all_grid_values(assumptions, specs, grids=None) -> dict[str, np.ndarray]:
    """Every grid's values (``grids``, by default all of ``specs``'), from ONE batch evaluation:
    each grid's R × C points are a block of rows (scenarios) of the batch, every other input
    at its value. Rows are independent scenarios, so each grid's values are those of a batch
    run of its own points (a grid of one point is evaluated alone, as the single run it was)."""
    grids = list(all_grids(specs)) if grids is None else list(grids)
    if not grids:
        return {}
    singles = [g for g in grids if len(g.rows.values) * len(g.cols.values) == 1]
    if singles and len(grids) > 1:  # a one-point grid is a single run (N = 1)
        out = {g.key: all_grid_values(assumptions, specs, [g])[g.key] for g in singles}
        out.update(all_grid_values(assumptions, specs, [g for g in grids if g not in singles]))
        return {g.key: out[g.key] for g in grids}
    sizes = [len(g.rows.values) * len(g.cols.values) for g in grids]
    n = sum(sizes)
    inputs = batch_inputs(assumptions, n)
    starts = np.cumsum([0] + sizes[:-1]).tolist()
    for grid, start, size in zip(grids, starts, sizes):
        r, c = len(grid.rows.values), len(grid.cols.values)
        block = slice(start, start + size)
        _set_axis(inputs, assumptions, specs, grid.rows, np.repeat(grid.rows.values, c), block)
        _set_axis(inputs, assumptions, specs, grid.cols, np.tile(grid.cols.values, r), block)
    env = Env(inputs, specs)
    for model in model_closure(specs, {g.model for g in grids}):  # only what the grids read
        evaluate_spec(specs[model], env, n)
    out: dict[str, np.ndarray] = {}
    for grid, start, size in zip(grids, starts, sizes):
        values = env.get(grid.output.key)
        col = specs[grid.model].periods.index(grid.period) if grid.period else 0
        out[grid.key] = values[start:start + size, col].astype(float).reshape(
            len(grid.rows.values), len(grid.cols.values))
    return out


def _set_axis(inputs, assumptions, specs, axis: Axis, values, block=slice(None)) -> None:
    arr = inputs[axis.key]
    if axis.period is None:
        if arr.dtype == object:
            arr[block, 0] = np.asarray(values, dtype=object)
        else:
            arr[block, 0] = np.asarray(values, dtype=float)
    else:
        periods = list(assumptions[axis.key].value)
        arr[block, periods.index(axis.period)] = np.asarray(values, dtype=float)


def all_grids(specs) -> Iterator[Grid]:
    for spec in specs.values():
        yield from spec.grids


def grid_outputs(grid: Grid, values: np.ndarray) -> dict[str, float]:
    """Output names for a grid: axis values and cells (``<model>.<grid>.<i>.<j>``)."""
    out: dict[str, float] = {}
    for label, axis in (("row", grid.rows), ("col", grid.cols)):
        for i, v in enumerate(axis.values):
            if not isinstance(v, str):
                out[f"{grid.key}.{label}.{i}"] = float(v)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = float(values[i, j])  # NaN where an unknown figure feeds it: null, as in outputs
            out[f"{grid.key}.{i}.{j}"] = v if np.isfinite(v) else None
    return out


def grid_frame(result, key: str):
    """A grid as a pandas DataFrame: index = row-axis values, columns = column-axis values."""
    import pandas as pd

    grid = next(g for g in all_grids(result.specs) if g.key == key)
    values = result.grid_values[key]
    return pd.DataFrame(values, index=pd.Index(grid.rows.values, name=grid.rows.name),
                        columns=pd.Index(grid.cols.values, name=grid.cols.name))


# --------------------------------------------------------------------------- formulas
def dependent_rows(specs, varied: set[str]) -> set[str]:
    """Every row whose value depends on one of the ``varied`` assumption keys."""
    return rows_depending_on(specs, varied)


class InlineContext(CellContext):
    """Renders a formula for a grid cell: dependent rows inlined, others referenced."""

    def __init__(self, layout, sheet: str, period: str | None, subst: dict, dependent: set[str]):
        super().__init__(layout, sheet, None)
        self.period = period
        self.subst = subst
        self.dependent = dependent

    def _at(self, period: str | None) -> "InlineContext":
        return InlineContext(self.layout, self.sheet, period, self.subst, self.dependent)

    def _periods(self, model: str) -> tuple[str, ...]:
        return self.layout.specs[model].periods

    def ref(self, row: Row, shift: int = 0) -> str:
        if not row.series:
            if row.key in self.dependent:
                return _inline(row.expr, self._at(None))
            return super().ref(row)
        periods = self._periods(row.model)
        i = periods.index(self.period) + shift
        if i < 0:
            return "0"
        if row.key in self.dependent:
            return _inline(row.expr, self._at(periods[i]))
        sheet, r = self.layout.where(row)
        return f"{self._prefix(sheet)}{col_letter(self.layout.first_period_col + i)}{r + 1}"

    def input_ref(self, key: str, series: bool) -> str:
        sub = self.subst.get((key, self.period if series else None))
        if sub:
            return sub
        model = key.split(".", 1)[0]
        col = (self.layout.first_period_col + self._periods(model).index(self.period)
               if series else None)
        return self.layout.input_ref(key, series, col, self.sheet)

    def total(self, row: Row) -> str:
        if row.key not in self.dependent:
            return super().total(row)
        parts = [self._at(p).ref(row) for p in self._periods(row.model)]
        return "(" + "+".join(parts) + ")"

    def at(self, row: Row, period: Expr) -> str:
        if row.key not in self.dependent:
            return super().at(row, period)
        choices = ",".join(self._at(p).ref(row) for p in self._periods(row.model))
        return (f"CHOOSE(MATCH({period.excel(self)},{self.header_range(row)},0),"
                f"{choices})")

    def sum_rows(self, rows) -> str:
        return "(" + "+".join(self.ref(r) for r in rows) + ")"

    def period_number(self, node) -> str:
        if node.of is not None:
            return super().period_number(node)
        return str(self._periods(node.model).index(self.period) + 1)

    def across(self, node) -> str:
        wanted = node.mapping.get(self.period, ())
        source = self._periods(node.row.model)
        if not wanted or any(p not in source for p in wanted):
            return "NA()"
        parts = [self._at(p).ref(node.row) for p in wanted]
        if len(parts) == 1:
            return parts[0]
        return ("(" + "+".join(parts) + ")" if node.how == "sum"
                else "AVERAGE(" + ",".join(parts) + ")")


def _inline(expr: Expr, ctx: InlineContext) -> str:
    """A row's definition in place of its cell; parenthesised unless it is atomic."""
    text = expr.excel(ctx)
    return f"({text})" if expr.precedence < 9 else text


ROW_CELL, COL_CELL = "\x01row\x01", "\x02col\x02"  # stand-ins: no formula text holds them


def formula_template(grid: Grid, layout, sheet: str, dependent: set[str]):
    """``(row cell, column cell) → formula`` for the grid's cells: the output's definition is
    rendered once, with stand-ins for the two axis cells, and each cell fills them in (the axis
    cells are the only thing that differs between a grid's formulas)."""
    subst = {(grid.rows.key, grid.rows.period): ROW_CELL,
             (grid.cols.key, grid.cols.period): COL_CELL}
    ctx = InlineContext(layout, sheet, grid.period, subst, dependent)
    template = "=" + ctx.ref(grid.output)

    def fill(row_cell: str, col_cell: str) -> str:
        text = template.replace(ROW_CELL, row_cell).replace(COL_CELL, col_cell)
        if len(text) > MAX_FORMULA:
            raise ValueError(f"grid {grid.key}: formula of {len(text)} characters exceeds "
                             f"Excel's limit; reference an intermediate row instead")
        return text

    return fill


def excel_value(v: Any) -> Any:
    return v if isinstance(v, str) else float(v)
