"""Two expression helpers the China models need, built on :mod:`models.lineitems`.

* :func:`pick` — the row named by a text choice (a chip, a scenario), as a live Excel lookup
  ``CHOOSE(MATCH(choice,{"A","B"},0),ref_a,ref_b)``; an unknown name gives ``#N/A`` / NaN.
* :func:`running_total` — a cumulative row, optionally capped each period, written as the
  spreadsheet recurrence ``=MIN(D40+E39,E38)`` (previous total + flow, at most the cap).

Both evaluate with numpy on ``(N, P)`` arrays like every other expression, so the Python value and
the Excel formula still come from one definition.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from models.lineitems import IF, Const, Expr, Func, MIN, ModelBuilder, Prev, Row, RowRef, wrap


# --------------------------------------------------------------------------- pick
@dataclass(eq=False)
class TextList(Expr):
    """A list of names as an Excel array constant: ``{"H20","H100"}``."""

    names: tuple[str, ...]

    def evaluate(self, env):
        return self.names

    def excel(self, ctx):
        return "{" + ",".join(Const(n).excel(ctx) for n in self.names) + "}"


def _match(choice: Any, names: Sequence[str], _exact: Any) -> np.ndarray:
    """Excel ``MATCH(choice, names, 0)``: the 1-based position of ``choice``, NaN if absent."""
    position = {name: i + 1 for i, name in enumerate(names)}
    lookup = np.vectorize(lambda c: float(position.get(c, np.nan)), otypes=[float])
    return lookup(np.asarray(choice, dtype=object))


def _choose(index: Any, *options: Any) -> np.ndarray:
    """Excel ``CHOOSE(index, a, b, ...)`` on arrays; NaN where the index is NaN."""
    index = np.asarray(index, dtype=float)
    shape = np.broadcast_shapes(index.shape, *(np.shape(o) for o in options))
    stacked = np.stack([np.broadcast_to(np.asarray(o, dtype=float), shape) for o in options])
    i = np.broadcast_to(index, shape)
    found = ~np.isnan(i)
    k = np.where(found, i, 1).astype(int) - 1
    out = np.take_along_axis(stacked, k[None, ...], axis=0)[0]
    return np.where(found, out, np.nan)


def pick(choice: Any, options: Mapping[str, Any]) -> Expr:
    """The option whose name equals ``choice`` (a text row):
    ``CHOOSE(MATCH(choice,{names},0),option_1,option_2,...)``."""
    if not options:
        raise ValueError("pick needs at least one option")
    names = tuple(options)
    index = Func("MATCH", [wrap(choice), TextList(names), Const(0)], _match)
    return Func("CHOOSE", [index, *(wrap(v) for v in options.values())], _choose)


# --------------------------------------------------------------------------- recurrences
class _Recurrence(Expr):
    """A series row that refers to its own previous period, which the row-at-a-time engine
    cannot do with ``Prev``: numpy loops over the periods (``evaluate``); Excel gets the one
    formula across the row from ``_formula()``. ``row`` is set by :func:`_recurrent_row` once
    the row exists."""

    row: Row | None

    def is_series(self):
        return True

    def _formula(self) -> Expr:
        raise NotImplementedError

    def excel(self, ctx):
        return self._formula().excel(ctx)


def _recurrent_row(m: ModelBuilder, name: str, label: str, unit: str, expr: _Recurrence,
                   fmt: str | None, note: str) -> RowRef:
    """Add the row defined by ``expr`` and tell the expression which row it is."""
    ref = m.row(name, label, unit, expr, fmt=fmt, note=note)
    expr.row = ref.row
    return ref


@dataclass(eq=False)
class RunningTotal(_Recurrence):
    """``total(t) = MIN(total(t-1) + flow(t), cap(t))``, ``total`` before the first period = 0.

    The row refers to its own previous period, which the row-at-a-time engine cannot do with
    ``Prev``; this node loops over the periods in numpy and renders the recurrence in Excel.
    """

    flow: Expr
    cap: Expr | None = None
    row: Row | None = None

    def children(self):
        return (self.flow,) if self.cap is None else (self.flow, self.cap)

    def _formula(self) -> Expr:
        total = Prev(self.row) + self.flow
        return total if self.cap is None else MIN(total, self.cap)

    def evaluate(self, env):
        flow = np.asarray(self.flow.evaluate(env), dtype=float)
        cap = None if self.cap is None else np.asarray(self.cap.evaluate(env), dtype=float)
        n = max(flow.shape[0], 1 if cap is None else cap.shape[0])
        shape = (n, len(env.periods(self.row.model)))
        flow = np.broadcast_to(flow, shape)
        cap = None if cap is None else np.broadcast_to(cap, shape)
        out = np.empty(shape, order="F")  # column-major, as the sweep's other arrays
        previous = np.zeros(n)
        for j in range(shape[1]):
            total = previous + flow[:, j]
            if cap is not None:
                total = np.minimum(total, cap[:, j])
            out[:, j] = previous = total
        return out


def running_total(m: ModelBuilder, name: str, label: str, unit: str, flow: Any,
                  cap: Any = None, fmt: str | None = None, note: str = "") -> RowRef:
    """Add a cumulative row ``total = MIN(previous total + flow, cap)`` (no cap: a plain
    running sum) and return its reference."""
    return _recurrent_row(m, name, label, unit,
                          RunningTotal(wrap(flow), None if cap is None else wrap(cap)), fmt, note)


# --------------------------------------------------------------------------- compounding
@dataclass(eq=False)
class Compound(_Recurrence):
    """``x(t) = IF(anchor(t) = 1, start(t), x(t-1) × (1 + growth(t)))``: a line that takes a
    reported figure while ``anchor`` is 1 and grows from the previous period after it (a
    forecast rolling forward from the last reported quarter). ``x`` before the first period is 0.

    Like :class:`RunningTotal`, a recurrence on the row's own previous period.
    """

    anchor: Expr
    start: Expr
    growth: Expr
    row: Row | None = None

    def children(self):
        return (self.anchor, self.start, self.growth)

    def _formula(self) -> Expr:
        return IF(self.anchor.eq(1), self.start, Prev(self.row) * (1 + self.growth))

    def evaluate(self, env):
        width = len(env.periods(self.row.model))
        parts = [np.atleast_2d(np.asarray(e.evaluate(env), dtype=float))
                 for e in (self.anchor, self.start, self.growth)]
        n = max(p.shape[0] for p in parts)
        anchor, start, growth = (np.broadcast_to(p, (n, width)) for p in parts)
        out = np.empty((n, width), order="F")
        previous = np.zeros(n)
        for j in range(width):
            grown = previous * (1 + growth[:, j])
            value = np.where(anchor[:, j] == 1, start[:, j], grown)
            out[:, j] = previous = np.where(np.isnan(anchor[:, j]), np.nan, value)
        return out


def compound(m: ModelBuilder, name: str, label: str, unit: str, anchor: Any, start: Any,
             growth: Any, fmt: str | None = None, note: str = "") -> RowRef:
    """Add a row that takes ``start`` where ``anchor`` is 1 and grows by ``growth`` after."""
    return _recurrent_row(m, name, label, unit,
                          Compound(wrap(anchor), wrap(start), wrap(growth)), fmt, note)
