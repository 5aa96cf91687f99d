"""One definition per line item, yielding both the Python value and the Excel formula.

A model is written as a sequence of rows::

    m.row("levy", "US government levy", "USD m", m.ref("customer_revenue") * m.ref("levy_rate"))

The expression on the right is a small tree (:class:`Expr`). The same tree is

* **evaluated** with numpy on arrays of shape ``(N, P)`` (N scenarios × P periods; a single run
  is N = 1), which is also what makes the scenario sweep vectorised for free, and
* **rendered** as an Excel formula with cell references (``=E12*$D$8``), one consistent formula
  across the row.

So the number in ``outputs.json`` and the formula in ``model.xlsx`` cannot drift apart.

Conventions: a *series* row has one value per period (columns E…); a *scalar* row has one
value in column D. Inputs come onto a model's sheet as green *link* rows (``=Inputs!E7``);
rows from another model's sheet likewise (``=china!F20``).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from models.errors import EqrError

# Excel operator precedence (higher binds tighter); comparison lowest.
_PRECEDENCE = {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1,
               "&": 2, "+": 3, "-": 3, "*": 4, "/": 4, "^": 5}
_NUMPY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power,
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, "<": np.less, ">": np.greater,
    "<=": np.less_equal, ">=": np.greater_equal,
}


# =========================================================================== expressions
class Expr:
    """A node of a line item's definition: evaluates with numpy, renders as Excel."""

    precedence = 9

    # arithmetic builds trees
    def __add__(self, o): return BinOp("+", self, wrap(o))
    def __radd__(self, o): return BinOp("+", wrap(o), self)
    def __sub__(self, o): return BinOp("-", self, wrap(o))
    def __rsub__(self, o): return BinOp("-", wrap(o), self)
    def __mul__(self, o): return BinOp("*", self, wrap(o))
    def __rmul__(self, o): return BinOp("*", wrap(o), self)
    def __truediv__(self, o): return BinOp("/", self, wrap(o))
    def __rtruediv__(self, o): return BinOp("/", wrap(o), self)
    def __pow__(self, o): return BinOp("^", self, wrap(o))
    def __neg__(self): return Neg(self)
    def __lt__(self, o): return BinOp("<", self, wrap(o))
    def __gt__(self, o): return BinOp(">", self, wrap(o))
    def __le__(self, o): return BinOp("<=", self, wrap(o))
    def __ge__(self, o): return BinOp(">=", self, wrap(o))

    def eq(self, o) -> "Expr":
        """Excel ``=`` comparison (``==`` stays Python identity for hashing)."""
        return BinOp("=", self, wrap(o))

    def ne(self, o) -> "Expr":
        return BinOp("<>", self, wrap(o))

    __hash__ = object.__hash__

    def evaluate(self, env: "Env") -> Any:
        raise NotImplementedError

    def excel(self, ctx: "CellContext") -> str:
        raise NotImplementedError

    def is_series(self) -> bool:
        """True if the value varies by period (any series row or Prev underneath)."""
        return any(child.is_series() for child in self.children())

    def children(self) -> Sequence["Expr"]:
        return ()

    def rows_read(self) -> Sequence["Row"]:
        """Rows this node reads directly (not through its children): every :class:`Row` among
        its fields, alone or in a list (``row``, ``rows``, ``scalars``/``series``...), so a node
        type added later is covered without listing it; :func:`row_deps` is the one walk."""
        found: list[Row] = []
        for value in vars(self).values():
            if isinstance(value, Row):
                found.append(value)
            elif isinstance(value, (list, tuple)):
                found.extend(v for v in value if isinstance(v, Row))
        return tuple(found)


def walk(expr: Expr) -> Iterator[Expr]:
    """The expression and every node under it."""
    yield expr
    for child in expr.children():
        yield from walk(child)


def row_deps(expr: Expr) -> list["Row"]:
    """Every row an expression reads, through any node type (RowRef, Prev, Total, At,
    SumRows, Across, SumProduct, running totals...), in order of appearance."""
    return [row for node in walk(expr) for row in node.rows_read()]


def find_output(specs: dict, name: str) -> tuple["Row", str | None] | None:
    """The one output-key parser: ``model.row`` or ``model.row.PERIOD`` → (row, period or
    None), or None if no row matches. Row names may hold dots (``seed_case.gap_low``): the
    whole name is tried as a row first, then the last part as a period of a series row."""
    by_key = {row.key: row for spec in specs.values() for row in spec.rows}
    if name in by_key:
        return by_key[name], None
    head, _, period = name.rpartition(".")
    row = by_key.get(head)
    if row is not None and row.series and period in specs[row.model].periods:
        return row, period
    return None


def model_closure(specs: dict, targets) -> list[str]:
    """``targets`` and every model they link to, in dependency (``specs``) order."""
    needed: set[str] = set()
    stack = list(targets)
    while stack:
        model = stack.pop()
        if model in needed:
            continue
        needed.add(model)
        for row in specs[model].rows:
            stack.extend(r.model for r in row_deps(row.expr) if r.model != model)
    return [m for m in specs if m in needed]


def input_deps(expr: Expr) -> list["InputValue"]:
    """Every assumption reference inside an expression."""
    return [node for node in walk(expr) if isinstance(node, InputValue)]


_DEPS_CACHE: list = []  # [(specs, fingerprint, table)]: the last specs' dependency table


def dependency_table(specs: dict) -> list[tuple[str, frozenset, frozenset]]:
    """(row key, assumption keys it reads, row keys it reads) for every row of ``specs`` in
    evaluation order: the one walk (:func:`row_deps`, :func:`input_deps`) done once per set of
    specs and reused (a build asks for it once per compared scenario and per grid)."""
    fingerprint = tuple((id(spec), len(spec.rows)) for spec in specs.values())
    if _DEPS_CACHE and _DEPS_CACHE[0][0] is specs and _DEPS_CACHE[0][1] == fingerprint:
        return _DEPS_CACHE[0][2]
    table = [(row.key, *_reads(row.expr)) for spec in specs.values() for row in spec.rows]
    _DEPS_CACHE[:] = [(specs, fingerprint, table)]
    return table


def _reads(expr: Expr) -> tuple[frozenset, frozenset]:
    """(assumption keys, row keys) an expression reads: :func:`input_deps` and
    :func:`row_deps` in one walk."""
    inputs, rows = set(), set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, InputValue):
            inputs.add(node.key)
        for row in node.rows_read():
            rows.add(row.key)
        stack.extend(node.children())
    return frozenset(inputs), frozenset(rows)


def rows_depending_on(specs: dict, keys: set[str]) -> set[str]:
    """Every row whose value reads one of the assumptions ``keys``, directly or through other
    rows (rows are in evaluation order, so one pass finds them all)."""
    out: set[str] = set()
    for key, inputs, rows in dependency_table(specs):
        if not inputs.isdisjoint(keys) or not rows.isdisjoint(out):
            out.add(key)
    return out


def wrap(x: Any) -> Expr:
    if isinstance(x, Expr):
        return x
    if isinstance(x, (int, float, str, bool, np.floating, np.integer)):
        return Const(x)
    raise TypeError(f"cannot use {type(x).__name__} in a line-item definition")


@dataclass(eq=False)
class Const(Expr):
    """A universal constant (1e6 for $ → $m, 100 for pp). Business numbers are inputs."""

    value: Any

    def rows_read(self):  # holds no row (the generic scan, quicker)
        return ()

    def evaluate(self, env):
        return self.value

    def excel(self, ctx):
        v = self.value
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, str):
            return '"' + v.replace('"', '""') + '"'
        if float(v).is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(float(v))


@dataclass(eq=False)
class BinOp(Expr):
    op: str
    a: Expr
    b: Expr

    def rows_read(self):  # holds no row (the generic scan, quicker)
        return ()

    @property
    def precedence(self):  # type: ignore[override]
        return _PRECEDENCE[self.op]

    def children(self):
        return (self.a, self.b)

    def evaluate(self, env):
        a, b = self.a.evaluate(env), self.b.evaluate(env)
        sa, sb = getattr(a, "shape", ()), getattr(b, "shape", ())
        if (len(sa) == 2 and sa[0] > 1) or (len(sb) == 2 and sb[0] > 1):  # a batch
            if _QUIET.depth:
                out = _column_major(_NUMPY_OPS[self.op], a, b)
            else:
                with quiet():
                    out = _column_major(_NUMPY_OPS[self.op], a, b)
        elif _QUIET.depth:  # a single run: numpy's way (as _column_major does)
            out = _NUMPY_OPS[self.op](a, b)
        else:
            with quiet():
                out = _NUMPY_OPS[self.op](a, b)
        if self.op in _COMPARISONS:
            out = _keep_gaps(out, a, b)
        return out

    def excel(self, ctx):
        left = _paren(self.a, ctx, self.precedence, right=False)
        right = _paren(self.b, ctx, self.precedence, right=True,
                       strict=self.op in ("-", "/", "^"))
        return f"{left}{self.op}{right}"


_COMPARISONS = {"=", "<>", "<", ">", "<=", ">="}


class _Quiet(threading.local):
    depth = 0  # > 0 inside quiet(): this thread already ignores divide/invalid


_QUIET = _Quiet()


@contextmanager
def quiet():
    """numpy's division by zero and invalid operations ignored (an unknown or infinite value is
    the result, not a warning) for a whole evaluation: nodes inside skip their own errstate."""
    with np.errstate(divide="ignore", invalid="ignore"):
        _QUIET.depth += 1
        try:
            yield
        finally:
            _QUIET.depth -= 1


def _batch(args) -> bool:
    """Is any argument a block of several scenarios (an array of 2 dimensions, > 1 row)?"""
    for x in args:
        shape = getattr(x, "shape", None)
        if shape is not None and len(shape) == 2 and shape[0] > 1:
            return True
    return False


def _column_major(ufunc: Any, *args: Any) -> Any:
    """``ufunc(*args)``, written column-major when the result is a block of scenarios × periods.

    numpy lays out ``(n, 1) × (1, P)`` (a drawn scalar times a constant series) row-major, and
    every later operation with a column-major drawn series then walks one of them with a
    stride: the sweep's arrays are column-major throughout (:mod:`models.sweep`). Same values."""
    if not _batch(args) or not isinstance(ufunc, np.ufunc):
        return ufunc(*args)  # a single run (every array one row): numpy's way
    shape = np.broadcast_shapes(*(np.shape(x) for x in args))
    if len(shape) != 2 or shape[1] < 2:
        return ufunc(*args)
    if not all(np.asarray(x).dtype.kind in "fiub" for x in args):
        return ufunc(*args)
    dtype = np.result_type(*args)
    if dtype.kind != "f" or "dd->d" not in ufunc.types:  # e.g. a comparison: its own dtype
        return ufunc(*args)
    return ufunc(*args, out=np.empty(shape, dtype=dtype, order="F"))


def _gaps(x: Any) -> Any:
    """Where ``x`` is NaN (an unknown figure; ``#N/A`` in Excel); False for text and flags."""
    arr = np.asarray(x)
    return np.isnan(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, dtype=bool)


def _keep_gaps(result: Any, *operands: Any) -> Any:
    """A comparison with an unknown operand is unknown, as ``#N/A>=1`` is ``#N/A`` in Excel
    (numpy would say False)."""
    if not any(_gaps(o).any() for o in operands):
        return result
    gap = False
    for o in operands:
        gap = np.logical_or(gap, _gaps(o))
    return np.where(gap, np.nan, result)


def _if(cond: Any, then: Any, other: Any) -> Any:
    """Excel IF: an unknown condition gives an unknown result; the branch not taken is never
    looked at (so an unknown there does not matter, as in Excel)."""
    known = np.nan_to_num(cond, nan=0.0) if _gaps(cond).any() else cond
    batch = _batch((cond, then, other))
    shape = np.broadcast_shapes(*(np.shape(x) for x in (cond, then, other))) if batch else ()
    if len(shape) == 2 and shape[1] > 1 and all(
            np.asarray(x).dtype.kind in "fiub" for x in (cond, then, other)):
        out = np.empty(shape, dtype=np.result_type(then, other), order="F")  # as _column_major
        np.copyto(out, other)
        np.copyto(out, then, where=np.asarray(known, dtype=bool))
    else:
        out = np.where(known, then, other)
    return _keep_gaps(out, cond)


def _paren(e: Expr, ctx, outer: int, right: bool, strict: bool = False) -> str:
    text = ctx.render(e)
    inner = e.precedence
    if inner < outer or (right and strict and inner == outer) or (
            isinstance(e, Neg) and outer >= 5):
        return f"({text})"
    return text


@dataclass(eq=False)
class Neg(Expr):
    a: Expr
    precedence = 6

    def rows_read(self):  # holds no row (the generic scan, quicker)
        return ()

    def children(self):
        return (self.a,)

    def evaluate(self, env):
        return -self.a.evaluate(env)

    def excel(self, ctx):
        return f"-{_paren(self.a, ctx, 6, right=True)}"


@dataclass(eq=False)
class Func(Expr):
    """An Excel function with its numpy twin, e.g. ``Func("MAX", [a, b], np.maximum)``."""

    name: str
    args: Sequence[Expr]
    py: Callable[..., Any]

    def rows_read(self):  # holds no row (the generic scan, quicker)
        return ()

    def children(self):
        return tuple(self.args)

    def evaluate(self, env):
        if _QUIET.depth:
            return _column_major(self.py, *[a.evaluate(env) for a in self.args])
        with quiet():
            return _column_major(self.py, *[a.evaluate(env) for a in self.args])

    def excel(self, ctx):
        return f"{self.name}({','.join(a.excel(ctx) for a in self.args)})"


def IF(cond, then, other) -> Expr:
    return Func("IF", [wrap(cond), wrap(then), wrap(other)], _if)


def MAX(a, b) -> Expr:
    return Func("MAX", [wrap(a), wrap(b)], np.maximum)


def MIN(a, b) -> Expr:
    return Func("MIN", [wrap(a), wrap(b)], np.minimum)


def ABS(a) -> Expr:
    return Func("ABS", [wrap(a)], np.abs)


def NA() -> Expr:
    """Excel ``NA()``: a value that does not exist (NaN in numpy, ``null`` in outputs.json)."""
    return Func("NA", [], lambda: np.nan)


def div_or_na(num, den) -> Expr:
    """``num/den``, unknown (``#N/A``; n/a in the note) where ``den`` is 0: a margin of no
    revenue is not 0%."""
    return IF(wrap(den).eq(0), NA(), wrap(num) / wrap(den))


def safe_div(num, den) -> Expr:
    """``num/den``, 0 where ``den`` is 0 (Excel: ``IF(den=0,0,num/den)``)."""
    return IF(wrap(den).eq(0), 0, wrap(num) / wrap(den))


@dataclass(eq=False)
class RowRef(Expr):
    """The value of a row: same column for a series, ``$D$r`` for a scalar."""

    row: "Row"

    def rows_read(self):
        return (self.row,)

    def is_series(self):
        return self.row.series

    def evaluate(self, env):
        return env.get(self.row.key)

    def excel(self, ctx):
        return ctx.ref(self.row)


@dataclass(eq=False)
class Prev(Expr):
    """The row's value one period earlier; 0 before the first period (Excel: the cell to the
    left, whose first instance is the blank constant column)."""

    row: "Row"

    def rows_read(self):
        return (self.row,)

    def is_series(self):
        return True

    def evaluate(self, env):
        v = env.get(self.row.key)
        out = np.zeros_like(v, dtype=float)
        out[..., 1:] = v[..., :-1]
        return out

    def excel(self, ctx):
        return ctx.ref(self.row, shift=-1)


@dataclass(eq=False)
class Total(Expr):
    """Sum of a series row over all its periods (a scalar): ``SUM($E12:$H12)``."""

    row: "Row"

    def rows_read(self):
        return (self.row,)

    def is_series(self):
        return False

    def evaluate(self, env):
        return np.sum(env.get(self.row.key), axis=-1, keepdims=True)

    def excel(self, ctx):
        return ctx.total(self.row)


@dataclass(eq=False)
class At(Expr):
    """A series row's value in one period, chosen by a text row (e.g. the target year):
    ``INDEX($E12:$H12,MATCH($D$9,$E$4:$H$4,0))``."""

    row: "Row"
    period: Expr

    def rows_read(self):
        return (self.row,)

    def is_series(self):
        return False

    def children(self):
        return (self.period,)

    def evaluate(self, env):
        values = env.get(self.row.key)
        periods = env.periods(self.row.model)
        chosen = np.asarray(self.period.evaluate(env), dtype=object)
        chosen = chosen.reshape(chosen.shape[:-1] + (1,)) if chosen.ndim else chosen.reshape(1, 1)
        # look each period up once (the sweep passes one (1, 1) period for N scenarios)
        index = np.vectorize(lambda p: _period_index(periods, p), otypes=[int])(chosen)
        if index.size == 1:  # one period for every scenario: a view of that column
            i = int(index.reshape(-1)[0])
            return values[..., i:i + 1]
        lead = np.broadcast_shapes(values.shape[:-1], index.shape[:-1])
        return np.take_along_axis(np.broadcast_to(values, lead + values.shape[-1:]),
                                  np.broadcast_to(index, lead + (1,)), axis=-1)

    def excel(self, ctx):
        return ctx.at(self.row, self.period)


def _period_index(periods: Sequence[str], p: str) -> int:
    try:
        return list(periods).index(p)
    except ValueError:
        raise EqrError("period not on the model's timeline", expected=f"one of {list(periods)}",
                       found=p) from None


@dataclass(eq=False)
class SumRows(Expr):
    """Sum of several rows in the same column: ``SUM(E10:E14)`` when they are contiguous."""

    rows: Sequence["Row"]

    def rows_read(self):
        return tuple(self.rows)

    def is_series(self):
        return any(r.series for r in self.rows)

    def evaluate(self, env):
        total = 0.0
        for r in self.rows:
            total = total + env.get(r.key)
        return total

    def excel(self, ctx):
        return ctx.sum_rows(self.rows)


@dataclass(eq=False)
class Across(Expr):
    """A row of another timeline, mapped period by period: each period of this model takes
    the sum (or the average, or the single value) of the source periods ``mapping`` gives it.

    Fiscal years from quarters (``SUM(nvda!E12:H12)``), a calendar year relabelled as the
    fiscal year it is mapped to (``nvda_fy!G12``), a quarter picking its calendar year's figure.
    A period that maps to no source period is unknown (``NA()``); the branch of an ``IF`` that
    is not taken may hold one, as in Excel.
    """

    row: "Row"
    model: str  # the model this expression is in (its timeline is the target)
    mapping: dict  # target period -> tuple of source periods (contiguous, in order)
    how: str = "sum"  # sum | mean

    def __post_init__(self):
        if self.how not in ("sum", "mean"):
            raise ValueError(f"Across: unknown aggregation {self.how!r}")

    def rows_read(self):
        return (self.row,)

    def is_series(self):
        return True

    def evaluate(self, env):
        src = np.asarray(env.get(self.row.key), dtype=float)
        source = list(env.periods(self.row.model))
        target = env.periods(self.model)
        out = np.full(src.shape[:-1] + (len(target),), np.nan, order="F")
        for j, period in enumerate(target):
            cols = [source.index(p) for p in self.mapping.get(period, ()) if p in source]
            if cols and len(cols) == len(self.mapping.get(period, ())):
                block = src[..., cols]
                out[..., j] = block.sum(-1) if self.how == "sum" else block.mean(-1)
        return out

    def excel(self, ctx):
        return ctx.across(self)


@dataclass(eq=False)
class PeriodNumber(Expr):
    """The position of the current period on a model's timeline (1, 2, …), or with ``of`` the
    position of the period a text row names (e.g. the last reported quarter):
    ``MATCH(E$4,$E$4:$X$4,0)`` / ``MATCH($D$7,$E$4:$X$4,0)``. Comparing the two gives a flag
    (actual quarter or forecast) that moves when the text input changes."""

    model: str
    of: Expr | None = None

    def children(self):
        return () if self.of is None else (self.of,)

    def is_series(self):
        return self.of is None or self.of.is_series()

    def evaluate(self, env):
        periods = list(env.periods(self.model))
        if self.of is None:
            return np.arange(1, len(periods) + 1, dtype=float).reshape(1, -1)
        chosen = np.asarray(self.of.evaluate(env), dtype=object)
        return np.vectorize(lambda p: periods.index(p) + 1.0 if p in periods else np.nan,
                            otypes=[float])(chosen)

    def excel(self, ctx):
        return ctx.period_number(self)


@dataclass(eq=False)
class InputValue(Expr):
    """An assumption's value, taken from the run's inputs; in Excel a cell of the Inputs sheet."""

    key: str
    series: bool

    def rows_read(self):  # holds no row (the generic scan, quicker)
        return ()

    def is_series(self):
        return self.series

    def evaluate(self, env):
        return env.inputs[self.key]

    def excel(self, ctx):
        return ctx.input_ref(self.key, self.series)


# =========================================================================== rows and models
@dataclass(eq=False)
class Row:
    """A line item: the workbook row and the output(s) it produces."""

    model: str
    name: str
    label: str
    unit: str
    expr: Expr
    series: bool
    kind: str = "calc"  # calc | link | check | header-free
    fmt: str | None = None
    note: str = ""
    tolerance: float = 0.0  # checks only

    @cached_property
    def key(self) -> str:  # computed once: the engine looks rows up by key constantly
        return f"{self.model}.{self.name}"

    def ref(self) -> RowRef:
        return RowRef(self)


@dataclass
class Section:
    title: str


@dataclass
class ModelSpec:
    """A model's rows in sheet order, with section headers between them."""

    name: str
    title: str
    periods: tuple[str, ...]
    description: str = ""
    items: list = field(default_factory=list)  # Row | Section
    grids: list = field(default_factory=list)  # Grid (below)
    #: the earlier models its definition looked at (ModelBuilder.model / link)
    reads: set = field(default_factory=set, repr=False, compare=False)

    @property
    def rows(self) -> list[Row]:
        return [i for i in self.items if isinstance(i, Row)]

    @property
    def checks(self) -> list[Row]:
        return [r for r in self.rows if r.kind == "check"]

    def row(self, name: str) -> Row:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"{self.name}.{name}")


class ModelBuilder:
    """What a model's ``define`` function writes its rows with."""

    def __init__(self, name: str, title: str, periods: Sequence[str], assumptions,
                 registry: dict[str, ModelSpec], description: str = ""):
        self.spec = ModelSpec(name, title, tuple(periods), description)
        self.assumptions = assumptions
        self._registry = registry
        self._by_name: dict[str, Row] = {}

    # -- structure ---------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def periods(self) -> tuple[str, ...]:
        return self.spec.periods

    def section(self, title: str) -> None:
        self.spec.items.append(Section(title))

    def _add(self, row: Row) -> RowRef:
        if row.name in self._by_name:
            raise ValueError(f"line item {row.key} defined twice")
        self._by_name[row.name] = row
        self.spec.items.append(row)
        return row.ref()

    def ref(self, name: str) -> RowRef:
        return self._by_name[name].ref()

    def model(self, name: str) -> ModelSpec:
        """A model defined before this one (its rows can be linked or rolled up)."""
        if name != self.name:
            self.spec.reads.add(name)
        return self._registry[name]

    # -- rows ----------------------------------------------------------------
    def input(self, name: str, label: str | None = None, row_name: str | None = None, *,
              unit: str | tuple[str, ...] | None = None, series: bool | None = None) -> RowRef:
        """Bring assumption ``<model>.<name>`` onto this sheet as a green link row (named
        ``row_name`` if given, e.g. ``tflops.H20`` for assumption ``tflops_H20``).

        ``unit`` and ``series`` (optional) state what the model's formulas assume: a sheet that
        gives another unit (``USD m`` for a fraction: the 25-for-25% check would not apply) or a
        single number for a time series is refused with the sheet's file and line.
        """
        key = f"{self.name}.{name}"
        if key not in self.assumptions.items:  # a sheet without an assumption its model uses
            from models.errors import did_you_mean
            sheet = self.assumptions.sheets.get(self.name)
            raise EqrError(f"model {self.name!r} needs assumption {name!r}, which its sheet "
                           f"does not define", file=getattr(sheet, "file", None), key=key,
                           expected=f"an entry '{name}:' under 'assumptions:'",
                           hint=did_you_mean(key, self.assumptions.items))
        item = self.assumptions[key]
        _check_input_shape(item, unit, series)
        if item.is_series and tuple(item.value) != self.periods:
            raise ValueError(f"{item.key}: periods differ from the model's timeline")
        return self._add(Row(self.name, row_name or name, label or item.label, item.unit,
                             InputValue(item.key, item.is_series), item.is_series, kind="link"))

    def link(self, key: str, name: str | None = None, label: str | None = None) -> RowRef:
        """Bring another model's row onto this sheet as a green link row."""
        model, _, row_name = key.partition(".")
        if model != self.name:
            self.spec.reads.add(model)
        source = self._registry[model].row(row_name)
        if source.series:
            missing = [p for p in self.periods if p not in self._registry[model].periods]
            if missing:  # the sheets' periods no longer line up: bad input, not a bug
                sheets = getattr(self.assumptions, "sheets", {})
                theirs = getattr(sheets.get(model), "file", f"the {model} sheet")
                raise EqrError(f"model {self.name!r} uses {key}, which has no value for "
                               f"{', '.join(missing)}", file=getattr(sheets.get(self.name),
                                                                    "file", None),
                               key=key, expected=f"periods that {theirs} also has",
                               found=list(self._registry[model].periods))
        return self._add(Row(self.name, name or f"{model}_{row_name}", label or source.label,
                             source.unit, source.ref(), source.series, kind="link",
                             fmt=source.fmt))

    def row(self, name: str, label: str, unit: str, expr, fmt: str | None = None,
            note: str = "") -> RowRef:
        """A calculated line item defined once by ``expr``."""
        expr = wrap(expr)
        return self._add(Row(self.name, name, label, unit, expr, expr.is_series(), fmt=fmt,
                             note=note))

    def grid(self, name: str, label: str, output: RowRef, rows: str, cols: str,
             period: str | None = None, steps: int = 5) -> None:
        """A two-input sensitivity grid of ``output`` (see :mod:`models.grids`)."""
        grid = make_grid(self, name, label, output.row, rows, cols, period, steps)
        self.spec.grids.append(grid)
        self.spec.reads.update(axis.key.split(".", 1)[0] for axis in (grid.rows, grid.cols)
                               if not axis.key.startswith(f"{self.name}."))

    def check(self, name: str, label: str, difference, tolerance: float = 1e-6) -> RowRef:
        """A row that must be (close to) zero in every period; listed on the Checks sheet."""
        expr = wrap(difference)
        return self._add(Row(self.name, name, label, "difference", expr, expr.is_series(),
                             kind="check", tolerance=tolerance))


def _check_input_shape(item, unit, series) -> None:
    """The assumption is what the model's formulas were written for (unit, series or not)."""
    units = (unit,) if isinstance(unit, str) else tuple(unit or ())
    if units and item.unit not in units:
        raise EqrError(f"the {item.model} model reads this assumption in another unit",
                       file=item.file or None, line=item.line, key=item.key,
                       expected=f"unit {' or '.join(repr(u) for u in units)}",
                       found=item.unit)
    if series is not None and item.is_series != series:
        raise EqrError("the model needs a value for each period (a time series)" if series
                       else "the model needs a single value, not a time series",
                       file=item.file or None, line=item.line, key=item.key,
                       expected="{PERIOD: number, ...} for every period" if series
                       else "one number", found=item.value)


# =========================================================================== evaluation
class Env:
    """Values of every row evaluated so far, as arrays of shape (N, P) or (N, 1)."""

    def __init__(self, inputs: dict[str, Any], specs: dict[str, ModelSpec]):
        self.inputs = inputs
        self.values: dict[str, np.ndarray] = {}
        self._specs = specs

    def get(self, key: str) -> np.ndarray:
        return self.values[key]

    def periods(self, model: str) -> tuple[str, ...]:
        return self._specs[model].periods


def evaluate_spec(spec: ModelSpec, env: Env, n: int) -> None:
    """Evaluate every row of a model in sheet order into ``env.values``."""
    evaluate_rows_of(spec, spec.rows, env, n)


def evaluate_rows_of(spec: ModelSpec, rows: Sequence[Row], env: Env, n: int) -> None:
    """Evaluate ``rows`` (of model ``spec``, in sheet order) into ``env.values``."""
    width = len(spec.periods)
    values = env.values
    with quiet():
        for row in rows:
            value = row.expr.evaluate(env)
            if isinstance(row.expr, RowRef) and row.series and row.expr.row.model != row.model:
                value = _align(value, env.periods(row.expr.row.model), spec.periods)
            arr = np.asarray(value)
            shape = (n, width) if row.series else (n, 1)
            values[row.key] = np.broadcast_to(arr, shape).copy() if arr.shape != shape else arr


def _align(value: np.ndarray, source: Sequence[str], target: Sequence[str]) -> np.ndarray:
    """Pick the source timeline's columns that match the target timeline's periods."""
    idx = [list(source).index(p) for p in target]
    return np.asarray(value)[..., idx]


def batch_inputs(assumptions, n: int = 1) -> dict[str, Any]:
    """Assumption values as arrays: scalars (n, 1), series (n, P), text as object arrays."""
    out: dict[str, Any] = {}
    for key, item in assumptions.items.items():
        if item.is_series:
            out[key] = np.tile(np.array(list(item.value.values()), dtype=float), (n, 1))
        elif isinstance(item.value, str):
            out[key] = np.full((n, 1), item.value, dtype=object)
        else:  # an unknown figure (value None) is NaN: #N/A on the workbook
            out[key] = np.full((n, 1), np.nan if item.value is None else float(item.value))
    return out


# =========================================================================== Excel rendering
class CellContext:
    """Turns row references into cell addresses for one cell being written."""

    def __init__(self, layout, sheet: str, period_col: int | None):
        self.layout = layout
        self.sheet = sheet
        self.period_col = period_col  # 0-based column of the cell being written

    def render(self, expr: Expr) -> str:
        """``expr`` as Excel text in this cell (:class:`RowTemplate` renders some nodes per
        column instead)."""
        return expr.excel(self)

    def _prefix(self, sheet: str) -> str:
        return "" if sheet == self.sheet else f"{_quote_sheet(sheet)}!"

    def ref(self, row: Row, shift: int = 0) -> str:
        sheet, r = self.layout.where(row)
        if not row.series:
            return f"{self._prefix(sheet)}$D${r + 1}"
        col = self.layout.column_for(row, self.sheet, self.period_col) + shift
        return f"{self._prefix(sheet)}{col_letter(col)}{r + 1}"

    def row_range(self, row: Row) -> str:
        sheet, r = self.layout.where(row)
        first, last = self.layout.period_span(row)
        return (f"{self._prefix(sheet)}${col_letter(first)}${r + 1}:"
                f"${col_letter(last)}${r + 1}")

    def header_range(self, row: Row) -> str:
        sheet, _ = self.layout.where(row)
        first, last = self.layout.period_span(row)
        h = self.layout.header_row(sheet, row.model)
        return f"{self._prefix(sheet)}${col_letter(first)}${h + 1}:${col_letter(last)}${h + 1}"

    def sum_rows(self, rows: Sequence[Row]) -> str:
        placed = sorted(((self.layout.where(r), r) for r in rows), key=lambda p: p[0][1])
        sheets = {sheet for (sheet, _), _ in placed}
        numbers = [n for (_, n), _ in placed]
        contiguous = numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        same_kind = len({r.series for r in rows}) == 1
        if len(sheets) == 1 and contiguous and same_kind:
            first, last = self.ref(placed[0][1]), self.ref(placed[-1][1])
            return f"SUM({first}:{last.split('!')[-1]})"
        return "(" + "+".join(self.ref(r) for r in rows) + ")"

    def input_ref(self, key: str, series: bool) -> str:
        return self.layout.input_ref(key, series, self.period_col, self.sheet)

    def timeline(self, model: str) -> str:
        """The model's own period headings, ``$E$4:$X$4`` (on its sheet)."""
        h = self.layout.header_row(model, model) + 1
        first = self.layout.first_period_col
        last = first + len(self.layout.specs[model].periods) - 1
        return f"{self._prefix(model)}${col_letter(first)}${h}:${col_letter(last)}${h}"

    def period_number(self, node: "PeriodNumber") -> str:
        if node.of is not None:
            return f"MATCH({self.render(node.of)},{self.timeline(node.model)},0)"
        h = self.layout.header_row(node.model, node.model) + 1
        return f"MATCH({self._prefix(node.model)}{col_letter(self.period_col)}${h}," \
               f"{self.timeline(node.model)},0)"

    def across(self, node: "Across") -> str:
        target = self.layout.specs[self.sheet].periods[self.period_col
                                                        - self.layout.first_period_col]
        wanted = node.mapping.get(target, ())
        source = self.layout.specs[node.row.model].periods
        if not wanted or any(p not in source for p in wanted):
            return "NA()"
        sheet, r = self.layout.where(node.row)
        cols = [self.layout.first_period_col + source.index(p) for p in wanted]
        first = f"{self._prefix(sheet)}{col_letter(cols[0])}{r + 1}"
        if len(cols) == 1:
            return first
        if cols != list(range(cols[0], cols[0] + len(cols))):
            raise ValueError(f"Across: periods {wanted} are not adjacent on sheet {sheet}")
        return (f"{'SUM' if node.how == 'sum' else 'AVERAGE'}("
                f"{first}:{col_letter(cols[-1])}{r + 1})")

    def total(self, row: Row) -> str:
        return f"SUM({self.row_range(row)})"

    def at(self, row: Row, period: Expr) -> str:
        return (f"INDEX({self.row_range(row)},"
                f"MATCH({self.render(period)},{self.header_range(row)},0))")


_SLOT = "\x00"  # marks a column-dependent piece in a row template; no formula text holds it


class RowTemplate(CellContext):
    """A series row's formula rendered once for all its columns.

    The formulas of a row differ only where a cell address depends on the column, so the
    expression tree is walked once: each question whose answer may depend on the column (a
    series row's or an input's cell, a period number, an ``Across`` mapping, a sum of rows)
    becomes a numbered slot, and :meth:`fill` answers the slots for each column with an
    ordinary :class:`CellContext`, asking exactly what rendering that cell asks. A node that
    reads the column itself (``ctx.period_col``, e.g. models.vintage's) becomes one slot as a
    whole, rendered per column. Same text as rendering each cell on its own."""

    def __init__(self, layout, sheet: str, expr: Expr, first_col: int):
        self.layout = layout
        self.sheet = sheet
        self._first_col = first_col
        self._slots: list[tuple[str, tuple, tuple]] = []  # question, its arguments, cache key
        self._read_column = False
        parts = self.render(expr).split(_SLOT)
        if len(parts) != 2 * len(self._slots) + 1:  # a constant holding the marker
            del self._slots[:]
            parts = ["", self._slot("render", expr).strip(_SLOT), ""]
        self._parts = parts

    @property
    def period_col(self) -> int:  # type: ignore[override]
        self._read_column = True  # the node is rendered again per column: any column will do
        return self._first_col

    def _slot(self, question: str, *args) -> str:
        key = (question, *(tuple(a) if isinstance(a, list) else a for a in args))
        self._slots.append((question, args, key))
        return f"{_SLOT}{len(self._slots) - 1}{_SLOT}"

    def render(self, expr: Expr) -> str:
        mark, outer = len(self._slots), self._read_column
        self._read_column = False
        text = expr.excel(self)
        if self._read_column:  # the node reads the column itself: render it per column
            del self._slots[mark:]
            text = self._slot("render", expr)
        self._read_column = outer
        return text

    def ref(self, row: Row, shift: int = 0) -> str:
        if not row.series:  # $D$r whatever the column
            return super().ref(row, shift)
        return self._slot("ref", row, shift)

    def input_ref(self, key: str, series: bool) -> str:
        return self._slot("input_ref", key, series)

    def sum_rows(self, rows: Sequence[Row]) -> str:
        return self._slot("sum_rows", rows)

    def period_number(self, node: "PeriodNumber") -> str:
        return self._slot("period_number", node)

    def across(self, node: "Across") -> str:
        return self._slot("across", node)

    def fill(self, cols: Sequence[int], answers: dict | None = None) -> list[str]:
        """The formula text (without ``=``) of the cell in each column of ``cols``.
        ``answers`` keeps the slots' answers for the other rows on the same sheet (with the
        same layout and columns): a cell address asked by several rows is worked out once."""
        answers = {} if answers is None else answers.setdefault(tuple(cols), {})
        cells = None
        by_slot = []
        for question, args, key in self._slots:
            texts = answers.get(key)
            if texts is None:
                if cells is None:
                    cells = [CellContext(self.layout, self.sheet, col) for col in cols]
                texts = answers[key] = [getattr(cell, question)(*args) for cell in cells]
            by_slot.append(texts)
        parts = self._parts[:]
        if len(parts) == 1:
            return parts * len(cols)
        out = []
        for texts in zip(*[by_slot[int(i)] for i in parts[1::2]]):
            parts[1::2] = texts
            out.append("".join(parts))
        return out


def row_formulas(expr: Expr, layout, sheet: str, cols: Sequence[int],
                 answers: dict | None = None) -> list[str]:
    """The formula text (without ``=``) of ``expr`` in each of the columns ``cols`` of a row
    on ``sheet``: the same as ``CellContext(layout, sheet, col).render(expr)`` for each.
    ``answers``: a dict kept for the sheet's other rows (see :meth:`RowTemplate.fill`)."""
    if len(cols) == 1:
        return [CellContext(layout, sheet, cols[0]).render(expr)]
    return RowTemplate(layout, sheet, expr, cols[0]).fill(cols, answers)


def col_letter(col: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _quote_sheet(name: str) -> str:
    if name.replace("_", "").isalnum() and not name[0].isdigit():
        return name
    return "'" + name.replace("'", "''") + "'"


# =========================================================================== sensitivity grids
# What ModelBuilder.grid declares; the values and formulas are models.grids'.
@dataclass(frozen=True)
class Axis:
    key: str  # assumption key
    period: str | None  # the period varied, for a time series
    label: str
    unit: str
    values: tuple

    @property
    def name(self) -> str:
        return f"{self.key}.{self.period}" if self.period else self.key


@dataclass(frozen=True)
class Grid:
    model: str
    name: str
    label: str
    output: Row
    period: str | None
    rows: Axis
    cols: Axis

    @property
    def key(self) -> str:
        return f"{self.model}.{self.name}"


def _axis(assumptions, text: str, steps: int) -> Axis:
    key, period = text, None
    if key not in assumptions.items:
        key, _, period = text.rpartition(".")
    item = assumptions[key]
    if item.is_series != (period is not None):
        raise _axis_error(item, text, "give a period for a time series, none otherwise")
    if item.choices and item.unit == "choice":
        return Axis(key, period, item.label, item.unit, tuple(item.choices))
    # low/high each a number or a {period: number} series (the sheet may mix them)
    low, high = (v[period] if isinstance(v, dict) and period is not None else v
                 for v in (item.low, item.high))
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
        raise _axis_error(item, text, "the assumption needs a low/high range",
                          found=f"low {low!r}, high {high!r}")
    if low == high:  # a figure the sheet pins (e.g. no licences yet in CY2025): one point
        return Axis(key, period, item.label, item.unit, (float(f"{low:.12g}"),))
    # 12 significant digits: evenly spaced points without float noise (0.1 not 0.09999…)
    return Axis(key, period, item.label, item.unit,
                tuple(float(f"{v:.12g}") for v in np.linspace(low, high, steps)))


def _axis_error(item, text: str, problem: str, found=None) -> EqrError:
    """A sheet that no longer gives what a sensitivity grid needs is bad input (issue 9)."""
    return EqrError(f"sensitivity grid axis {text}: {problem}", file=item.file or None,
                    line=item.line, key=item.key, expected="low: and high: (numbers)"
                    if "range" in problem else None, found=found)


def make_grid(builder, name, label, output: Row, rows: str, cols: str, period, steps) -> Grid:
    if output.series and period not in builder.periods:
        raise EqrError(f"sensitivity grid {name}: a series output needs a period",
                       key=f"{builder.name}.{name}", expected=f"one of {list(builder.periods)}",
                       found=period)
    a = builder.assumptions
    return Grid(builder.name, name, label, output, period if output.series else None,
                _axis(a, rows, steps), _axis(a, cols, steps))
