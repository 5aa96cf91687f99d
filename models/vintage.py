"""Expression nodes for vintage waterfalls, on top of :mod:`models.lineitems`.

A vintage waterfall needs four things the generic line-item engine does not spell out:

* :class:`HeaderYear` — the fiscal year of each column as a number, read from the sheet's own
  timeline header (``VALUE(RIGHT(E$4,4))``), so no year is typed anywhere.
* :class:`PeriodCell` — one fixed cell of a series row (``$H$30``): the capex of one vintage, the
  year a vintage is placed in service.
* :class:`CumBefore` and :class:`RunningBalance` — a row whose formula uses the sum of a row's
  earlier periods (``SUM($D40:D40)`` in column E, ``SUM($D40:E40)`` in column F, ...). A
  declining net book value is such a row: this year's depreciation is charged on what earlier
  years left. When the row refers to itself, :class:`RunningBalance` computes it one period at
  a time, left to right, as Excel does.
* :class:`SumProduct` — ``SUMPRODUCT($D$30:$D$39,E60:E69)``: a column of scalar rows (capex by
  vintage) times a block of series rows (the share of each vintage's cost depreciated in the
  column's year).

Each node evaluates with numpy on arrays of shape (N, P) or (N, 1), like every other node, and
renders the Excel formula from the same definition.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from models.errors import EqrError
from models.lineitems import Expr, Row, col_letter, wrap


def _prefix(ctx, sheet: str) -> str:
    return "" if sheet == ctx.sheet else f"{sheet}!"


def _first_col(ctx, row: Row) -> int:
    first, _ = ctx.layout.period_span(row)
    return first


def period_years(periods: Sequence[str]) -> np.ndarray:
    """The year each period name ends with (``FY2023`` → 2023) as floats.

    Raises EqrError if a period name does not end in a four-digit year.
    """
    years = []
    for p in periods:
        tail = p[-4:]
        if not (len(p) >= 4 and tail.isdigit()):
            raise EqrError("a period name must end in a four-digit year", key="periods",
                           expected="names such as FY2023", found=p)
        years.append(float(tail))
    return np.array(years)


@dataclass(eq=False)
class HeaderYear(Expr):
    """The column's year, read from the timeline header: ``VALUE(RIGHT(E$4,4))``."""

    model: str

    def is_series(self) -> bool:
        return True

    def evaluate(self, env) -> Any:
        return period_years(env.periods(self.model))[None, :]

    def excel(self, ctx) -> str:
        header = ctx.layout.header_row(ctx.sheet, self.model) + 1
        return f"VALUE(RIGHT({col_letter(ctx.period_col)}${header},4))"


@dataclass(eq=False)
class PeriodCell(Expr):
    """One period's cell of a series row, as an absolute reference (a scalar): ``$H$30``."""

    row: Row
    period: str

    def is_series(self) -> bool:
        return False

    def _index(self, periods: Sequence[str]) -> int:
        return list(periods).index(self.period)

    def evaluate(self, env) -> Any:
        values = env.get(self.row.key)
        j = self._index(env.periods(self.row.model))
        return values[..., j:j + 1]

    def excel(self, ctx) -> str:
        sheet, r = ctx.layout.where(self.row)
        first = _first_col(ctx, self.row)
        j = self._index(ctx.layout.specs[self.row.model].periods)
        return f"{_prefix(ctx, sheet)}${col_letter(first + j)}${r + 1}"


@dataclass(eq=False)
class CumBefore(Expr):
    """Sum of a series row over the periods before the current one (0 in the first period).

    Excel: ``SUM($D12:D12)`` in column E (column D of a series row is blank), ``SUM($D12:E12)``
    in column F. ``row`` may be the row being defined (see :class:`RunningBalance`); it is set after
    the row exists.
    """

    row: Row | None = None

    def is_series(self) -> bool:
        return True

    def evaluate(self, env) -> Any:
        values = env.get(self.row.key)
        return np.cumsum(values, axis=-1) - values

    def excel(self, ctx) -> str:
        sheet, r = ctx.layout.where(self.row)
        blank = col_letter(_first_col(ctx, self.row) - 1)
        previous = col_letter(ctx.period_col - 1)
        return f"SUM({_prefix(ctx, sheet)}${blank}{r + 1}:{previous}{r + 1})"


@dataclass(eq=False)
class RunningBalance(Expr):
    """A row charged on what is left of a base: ``value_t = (base - earlier values) * rate_t``.

    Excel: ``=(base-SUM($D40:D40))*rate`` in column E, ``(base-SUM($D40:E40))*rate`` in F, ...
    (the row refers to its own earlier cells, as a net-book-value roll-forward does). Python
    computes the same left to right. ``rate`` must not depend on this row.
    """

    base: Expr
    rate: Expr
    cum: CumBefore

    def is_series(self) -> bool:
        return True

    def children(self):
        return (self.base, self.rate)

    @property
    def _formula(self) -> Expr:
        return (self.base - self.cum) * self.rate

    def evaluate(self, env) -> Any:
        width = len(env.periods(self.cum.row.model))
        base = np.asarray(self.base.evaluate(env), dtype=float)
        rate = np.asarray(self.rate.evaluate(env), dtype=float)
        shape = np.broadcast_shapes(base.shape, rate.shape, (1, width))
        base, rate = np.broadcast_to(base, shape), np.broadcast_to(rate, shape)
        out = np.zeros(shape)
        before = np.zeros(shape[:-1])
        for j in range(width):
            out[..., j] = (base[..., j] - before) * rate[..., j]
            before = np.add.reduce(out[..., :j + 1], axis=-1)  # np.sum's own reduction
        return out

    def excel(self, ctx) -> str:
        return self._formula.excel(ctx)

    @property
    def precedence(self):  # type: ignore[override]
        return self._formula.precedence


def running_balance_row(m, name: str, label: str, unit: str, base, rate, fmt: str | None = None):
    """Define a row ``(base - this row's earlier periods summed) * rate`` (see RunningBalance)."""
    cum = CumBefore()
    ref = m.row(name, label, unit, RunningBalance(wrap(base), wrap(rate), cum), fmt=fmt)
    cum.row = ref.row
    return ref


@dataclass(eq=False)
class SumProduct(Expr):
    """``Σ_i scalar_i × series_i`` in the current column.

    Excel: ``SUMPRODUCT($D$30:$D$39,E60:E69)``; both lists must be contiguous blocks of rows
    of the same length on the same sheet, in the same order.
    """

    scalars: Sequence[Row]
    series: Sequence[Row]

    def __post_init__(self):
        if len(self.scalars) != len(self.series) or not self.scalars:
            raise ValueError("SumProduct needs two lists of rows of the same length")

    def is_series(self) -> bool:
        return True

    def rows_read(self):
        return (*self.scalars, *self.series)

    def evaluate(self, env) -> Any:
        total = 0.0
        for s, v in zip(self.scalars, self.series):
            total = total + env.get(s.key) * env.get(v.key)
        return total

    def _block(self, ctx, rows: Sequence[Row]) -> tuple[str, int, int]:
        placed = [ctx.layout.where(r) for r in rows]
        sheet = placed[0][0]
        numbers = [n for _, n in placed]
        if {s for s, _ in placed} != {sheet} or numbers != list(
                range(numbers[0], numbers[0] + len(numbers))):
            raise ValueError("SumProduct rows must be contiguous on one sheet")
        return sheet, numbers[0] + 1, numbers[-1] + 1

    def excel(self, ctx) -> str:
        s_sheet, s0, s1 = self._block(ctx, self.scalars)
        v_sheet, v0, v1 = self._block(ctx, self.series)
        col = col_letter(ctx.period_col)
        return (f"SUMPRODUCT({_prefix(ctx, s_sheet)}$D${s0}:$D${s1},"
                f"{_prefix(ctx, v_sheet)}{col}{v0}:{col}{v1})")


def INT(x) -> Expr:
    """Excel ``INT`` (round down)."""
    from models.lineitems import Func
    return Func("INT", [wrap(x)], np.floor)


def MOD1(x) -> Expr:
    """Fractional part of a non-negative number: Excel ``MOD(x,1)``."""
    from models.lineitems import Func
    return Func("MOD", [wrap(x), wrap(1)], np.mod)
