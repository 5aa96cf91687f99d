"""Excel-convention depreciation primitives.

Pure functions, no I/O.  The worksheet functions keep Excel's names, argument
names, argument order and defaults (``SLN``, ``SYD``, ``DDB``, ``DB``, ``VDB``)
so that a value computed here can be written next to the equivalent live
formula in a workbook and agree with it.  On top of them sit two helpers used by
the models: :func:`schedule` (a yearly depreciation schedule with a
first-year convention) and :func:`cumulative_share`.

Every bad input raises :class:`FinInputError` (a :class:`ValueError`) whose
message names the function, the argument, what was expected and what was found.

Conventions shared by every function:

* ``cost``, ``salvage`` and ``life`` describe the asset: ``life > 0`` and
  ``0 <= salvage <= cost``.  This is stricter than Excel's ``SLN`` and ``SYD``,
  which accept ``salvage > cost`` and return a negative charge.
* Periods are counted in the unit of ``life``.  Period ``k`` (``k = 1, 2, ...``)
  covers the interval ``[k - 1, k]`` of the asset's life; :func:`vdb` takes
  window end points ``0 <= start_period <= end_period <= life`` on that axis.
* Scalars in, ``float`` out.  :func:`sln` and :func:`syd` also broadcast over
  NumPy arrays.
"""
from __future__ import annotations

import difflib
import math
import numbers
from typing import Iterable

import numpy as np

__all__ = [
    "FinInputError",
    "METHODS",
    "CONVENTIONS",
    "sln",
    "syd",
    "ddb",
    "db_factor",
    "db",
    "vdb",
    "schedule",
    "cumulative_share",
]

#: Depreciation methods understood by :func:`schedule` and :func:`cumulative_share`.
METHODS: tuple[str, ...] = ("sl", "ddb", "db", "syd")

#: First-year conventions: the fraction of a full year of depreciation taken in
#: the year the asset is placed in service.  Mid-quarter ``q`` assumes service
#: starts in the middle of quarter ``q``: ``(9 - 2q) / 8`` of a year.
CONVENTIONS: dict[str, float] = {
    "full_year": 1.0,
    "half_year": 0.5,
    "mid_quarter_q1": 10.5 / 12,
    "mid_quarter_q2": 7.5 / 12,
    "mid_quarter_q3": 4.5 / 12,
    "mid_quarter_q4": 1.5 / 12,
}

# Relative tolerance used to decide that a period boundary is a whole number
# (the role of rtl::math::approxFloor / approxCeil in LibreOffice).
_SNAP = 1e-12


class FinInputError(ValueError):
    """A bad argument to a function of :mod:`models.fin`.

    Attributes
    ----------
    function, argument : str
        Where the problem is: the public function and the argument name.
    expected : str
        What a valid value looks like.
    found : object
        The value that was passed.
    hint : str or None
        An optional suggestion (e.g. the nearest valid name).
    """

    def __init__(self, function: str, argument: str, expected: str, found: object,
                 hint: str | None = None):
        self.function, self.argument = function, argument
        self.expected, self.found, self.hint = expected, found, hint
        text = f"{function}(): argument '{argument}': expected {expected}; found {found!r}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


# --------------------------------------------------------------------------
# argument checking
# --------------------------------------------------------------------------

def _real(func: str, name: str, value: object) -> float:
    """A finite real scalar, as float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise FinInputError(func, name, "a real number", value)
    x = float(value)
    if not math.isfinite(x):
        raise FinInputError(func, name, "a finite number", value)
    return x


def _real_or_array(func: str, name: str, value: object):
    """A finite real scalar (float) or a float ndarray of finite values."""
    if np.ndim(value) == 0:
        return _real(func, name, value.item() if isinstance(value, np.ndarray) else value)
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise FinInputError(func, name, "real numbers", value) from None
    if not np.all(np.isfinite(arr)):
        raise FinInputError(func, name, "finite numbers", value)
    return arr


def _require(ok, func: str, name: str, expected: str, found) -> None:
    """Raise FinInputError unless ``ok`` holds (everywhere, for array inputs)."""
    ok_arr = np.asarray(ok, dtype=bool)
    if ok_arr.all():
        return
    if np.ndim(found):  # report the first offending element, not the whole array
        found = float(np.broadcast_to(found, ok_arr.shape)[~ok_arr][0])
    raise FinInputError(func, name, expected, found)


def _is_whole(x: float) -> bool:
    return abs(x - round(x)) <= _SNAP * max(1.0, abs(x))


def _whole(func: str, name: str, value: object, expected: str) -> int:
    x = _real(func, name, value)
    if not _is_whole(x):
        raise FinInputError(func, name, expected, value)
    return int(round(x))


def _choice(func: str, name: str, value: object, valid: Iterable[str]) -> str:
    """A name from ``valid`` (case-insensitive), else FinInputError with a hint."""
    valid = list(valid)
    key = value.strip().lower() if isinstance(value, str) else None
    if key in valid:
        return key
    expected = "one of " + ", ".join(repr(v) for v in valid)
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.4) if key else []
    hint = f"did you mean {close[0]!r}?" if close else None
    raise FinInputError(func, name, expected, value, hint)


def _check_asset(func: str, cost, salvage, life, *, arrays: bool = False):
    """Validate cost, salvage, life: life > 0 and 0 <= salvage <= cost."""
    conv = _real_or_array if arrays else _real
    c, s, n = conv(func, "cost", cost), conv(func, "salvage", salvage), conv(func, "life", life)
    _require(n > 0, func, "life", "life > 0", n)
    _require(c >= 0, func, "cost", "cost >= 0", c)
    _require(s >= 0, func, "salvage", "salvage >= 0", s)
    _require(s <= c, func, "salvage", "salvage <= cost" + _given(c), s)
    return c, s, n


def _check_factor(func: str, factor) -> float:
    f = _real(func, "factor", factor)
    _require(f > 0, func, "factor", "factor > 0", f)
    return f


def _given(x) -> str:
    """`` (value)`` for a scalar bound in a message; nothing for an array."""
    return f" ({x:g})" if np.ndim(x) == 0 else ""


def _out(x):
    """float for scalars, ndarray otherwise."""
    return float(x) if np.ndim(x) == 0 else np.asarray(x, dtype=float)


def _snap_floor(x: float) -> int:
    return int(round(x)) if _is_whole(x) else math.floor(x)


def _snap_ceil(x: float) -> int:
    return int(round(x)) if _is_whole(x) else math.ceil(x)


# --------------------------------------------------------------------------
# Excel worksheet functions
# --------------------------------------------------------------------------

def sln(cost, salvage, life):
    r"""Straight-line depreciation for one period (Excel ``SLN``).

    Parameters
    ----------
    cost : float or array_like
        Initial cost of the asset, ``>= 0``.
    salvage : float or array_like
        Value at the end of the depreciation, ``0 <= salvage <= cost``.
    life : float or array_like
        Number of periods over which the asset is depreciated, ``> 0``.

    Returns
    -------
    float or ndarray
        The depreciation charge of every period; an array if any input is one.

    Raises
    ------
    FinInputError
        If ``life <= 0``, ``salvage < 0`` or ``salvage > cost``.

    Notes
    -----
    .. math:: \mathrm{SLN} = \frac{cost - salvage}{life}

    References
    ----------
    .. [1] Microsoft Support, "SLN function",
       https://support.microsoft.com/en-us/excel/functions/sln-function

    Examples
    --------
    >>> sln(30000, 7500, 10)
    2250.0
    >>> sln([30000, 1000], [7500, 0], 10).tolist()
    [2250.0, 100.0]
    """
    c, s, n = _check_asset("sln", cost, salvage, life, arrays=True)
    return _out((c - s) / n)


def syd(cost, salvage, life, per):
    r"""Sum-of-years' digits depreciation for period ``per`` (Excel ``SYD``).

    Parameters
    ----------
    cost : float or array_like
        Initial cost of the asset, ``>= 0``.
    salvage : float or array_like
        Value at the end of the depreciation, ``0 <= salvage <= cost``.
    life : float or array_like
        Number of periods over which the asset is depreciated, ``> 0``.
    per : float or array_like
        The period, in the units of ``life``, ``1 <= per <= life``.

    Returns
    -------
    float or ndarray
        Depreciation charged in period ``per``; an array if any input is one.

    Raises
    ------
    FinInputError
        If ``life <= 0``, ``salvage < 0``, ``salvage > cost`` or ``per`` is
        outside ``1..life``.

    Notes
    -----
    .. math::
        \mathrm{SYD} = \frac{(cost - salvage)\,(life - per + 1)\cdot 2}
                            {life\,(life + 1)}

    The formula is evaluated as is for a fractional ``per`` (as Excel does).

    References
    ----------
    .. [1] Microsoft Support, "SYD function",
       https://support.microsoft.com/en-us/excel/functions/syd-function

    Examples
    --------
    >>> round(syd(30000, 7500, 10, 1), 2)
    4090.91
    >>> round(syd(30000, 7500, 10, 10), 2)
    409.09
    >>> syd(2100, 0, 6, [1, 2, 3]).tolist()
    [600.0, 500.0, 400.0]
    """
    c, s, n = _check_asset("syd", cost, salvage, life, arrays=True)
    p = _real_or_array("syd", "per", per)
    _require((p >= 1) & (p <= n), "syd", "per", "a period in 1..life" + _given(n), p)
    return _out((c - s) * (n - p + 1) * 2 / (n * (n + 1)))


def _db_amount(cost: float, salvage: float, life: float, period: float,
               factor: float) -> float:
    """Declining-balance charge of ``period`` in closed form, no checks.

    Book value after k periods is ``cost * (1 - rate)**k`` with
    ``rate = min(factor / life, 1)``; the charge stops at salvage.
    """
    rate = factor / life
    if rate >= 1.0:
        rate = 1.0
        old = cost if period == 1 else 0.0
    else:
        old = cost * (1.0 - rate) ** (period - 1)
    new = cost * (1.0 - rate) ** period
    amount = old - salvage if new < salvage else old - new
    return max(amount, 0.0)


def _declining(func: str, cost, salvage, life, period, factor) -> float:
    c, s, n = _check_asset(func, cost, salvage, life)
    f = _check_factor(func, factor)
    last = math.floor(n + _SNAP * max(1.0, n))
    expected = f"a whole period in 1..{last} (life {n:g})"
    p = _whole(func, "period", period, expected)
    _require(1 <= p <= last, func, "period", expected, period)
    return _db_amount(c, s, n, p, f)


def ddb(cost, salvage, life, period, factor=2):
    r"""Double-declining balance depreciation for one period (Excel ``DDB``).

    Parameters
    ----------
    cost : float
        Initial cost of the asset, ``>= 0``.
    salvage : float
        Value at the end of the depreciation, ``0 <= salvage <= cost``.
    life : float
        Number of periods over which the asset is depreciated, ``> 0``.
    period : int
        The period, a whole number in ``1..life``.
    factor : float, default 2
        The rate at which the balance declines, ``> 0``.

    Returns
    -------
    float
        Depreciation charged in ``period``.

    Raises
    ------
    FinInputError
        If ``life <= 0``, ``salvage < 0``, ``salvage > cost``, ``factor <= 0``
        or ``period`` is not a whole number in ``1..life``.

    Notes
    -----
    With :math:`A_{p-1}` the depreciation accumulated before period ``p``:

    .. math::
        \mathrm{DDB}_p = \max\Bigl(0,\ \min\bigl((cost - A_{p-1})\,
        \tfrac{factor}{life},\ cost - salvage - A_{p-1}\bigr)\Bigr)

    evaluated in closed form with the book value
    :math:`cost\,(1 - factor/life)^{p-1}` (the rate is capped at 1).
    Excel itself evaluates fractional periods through the closed form; this
    function only accepts whole periods -- use :func:`vdb` for partial periods.
    DDB never switches to straight line, so it need not reach ``salvage``.

    References
    ----------
    .. [1] Microsoft Support, "DDB function",
       https://support.microsoft.com/en-us/excel/functions/ddb-function

    Examples
    --------
    >>> round(ddb(2400, 300, 10 * 365, 1), 2)
    1.32
    >>> ddb(2400, 300, 10, 1)
    480.0
    >>> round(ddb(2400, 300, 10, 2, 1.5), 2)
    306.0
    >>> round(ddb(2400, 300, 10, 10), 2)
    22.12
    """
    return _declining("ddb", cost, salvage, life, period, factor)


def db_factor(cost, salvage, life, period, factor):
    r"""Declining-balance depreciation with any factor, DDB form.

    The same computation as :func:`ddb` with a required ``factor`` (e.g. 1.5
    for 150% declining balance).  This is *not* Excel's ``DB`` -- see :func:`db`.

    Parameters
    ----------
    cost : float
        Initial cost of the asset, ``>= 0``.
    salvage : float
        Value at the end of the depreciation, ``0 <= salvage <= cost``.
    life : float
        Number of periods over which the asset is depreciated, ``> 0``.
    period : int
        The period, a whole number in ``1..life``.
    factor : float
        The rate at which the balance declines, ``> 0``.

    Returns
    -------
    float
        Depreciation charged in ``period``.

    Raises
    ------
    FinInputError
        As :func:`ddb`.

    Notes
    -----
    .. math::
        D_p = \max\Bigl(0,\ \min\bigl((cost - A_{p-1})\,
        \tfrac{factor}{life},\ cost - salvage - A_{p-1}\bigr)\Bigr)

    References
    ----------
    .. [1] Microsoft Support, "DDB function" (the ``factor`` argument),
       https://support.microsoft.com/en-us/excel/functions/ddb-function

    Examples
    --------
    >>> round(db_factor(2400, 300, 10, 1, 1.5), 2)
    360.0
    >>> round(db_factor(2400, 300, 10, 2, 1.5), 2)
    306.0
    """
    return _declining("db_factor", cost, salvage, life, period, factor)


def db(cost, salvage, life, period, month=12):
    r"""Fixed-declining balance depreciation (Excel ``DB``).

    Parameters
    ----------
    cost : float
        Initial cost of the asset, ``> 0``.
    salvage : float
        Value at the end of the depreciation, ``0 <= salvage <= cost``.
    life : int
        Number of periods (years), a whole number ``>= 1``.
    period : int
        The period, a whole number in ``1..life + 1``.  Period ``life + 1`` is
        the stub after a short first year; with ``month = 12`` it is ``0.0``.
    month : int, default 12
        Number of months in the first year, a whole number in ``1..12``.

    Returns
    -------
    float
        Depreciation charged in ``period``.

    Raises
    ------
    FinInputError
        If ``cost <= 0``, ``salvage < 0``, ``salvage > cost``, ``life`` is not a
        whole number ``>= 1``, ``month`` is not a whole number in ``1..12`` or
        ``period`` is not a whole number in ``1..life + 1``.

    Notes
    -----
    The rate is rounded half-up to three decimals:

    .. math::
        r = \operatorname{round}_3\bigl(1 - (salvage/cost)^{1/life}\bigr)

    .. math::
        D_1 = cost\,r\,\tfrac{month}{12},\qquad
        D_p = (cost - A_{p-1})\,r \ \ (2 \le p \le life),\qquad
        D_{life+1} = (cost - A_{life})\,r\,\tfrac{12 - month}{12}

    where :math:`A_{p-1}` is the depreciation accumulated before period ``p``.
    Because of the rounded rate the total need not equal ``cost - salvage``.

    References
    ----------
    .. [1] Microsoft Support, "DB function",
       https://support.microsoft.com/en-us/excel/db-function

    Examples
    --------
    >>> round(db(1000000, 100000, 6, 1, 7), 2)
    186083.33
    >>> round(db(1000000, 100000, 6, 7, 7), 2)
    15845.1
    """
    func = "db"
    c = _real(func, "cost", cost)
    s = _real(func, "salvage", salvage)
    _require(c > 0, func, "cost", "cost > 0", c)
    _require(s >= 0, func, "salvage", "salvage >= 0", s)
    _require(s <= c, func, "salvage", f"salvage <= cost ({c:g})", s)
    n = _whole(func, "life", life, "a whole number of periods >= 1")
    _require(n >= 1, func, "life", "a whole number of periods >= 1", life)
    m = _whole(func, "month", month, "a whole number of months in 1..12")
    _require(1 <= m <= 12, func, "month", "a whole number of months in 1..12", month)
    expected = f"a whole period in 1..{n + 1} (life + 1)"
    p = _whole(func, "period", period, expected)
    _require(1 <= p <= n + 1, func, "period", expected, period)

    rate = _snap_floor((1.0 - (s / c) ** (1.0 / n)) * 1000.0 + 0.5) / 1000.0
    first = c * rate * m / 12.0
    if p == 1:
        return first
    accumulated, amount = first, 0.0
    for _ in range(2, min(n, p) + 1):
        amount = (c - accumulated) * rate
        accumulated += amount
    if p > n:
        amount = (c - accumulated) * rate * (12 - m) / 12.0
    return amount


def _vdb_whole_periods(book: float, salvage: float, life: float, remaining: float,
                       periods: int, factor: float) -> float:
    """Depreciation over the next ``periods`` whole periods of an asset.

    ``book`` is the current book value and ``remaining`` the life left.  Each
    period takes the declining-balance charge (computed from ``book`` as if it
    were a new cost) unless straight line over the remaining life is larger;
    from then on the straight-line charge is kept.  This is the ``ScInterVDB``
    step of LibreOffice's ``VDB``.
    """
    terms = []
    depreciable = book - salvage
    straight = 0.0
    switched = False
    for i in range(1, periods + 1):
        if not switched:
            declining = _db_amount(book, salvage, life, i, factor)
            straight = depreciable / (remaining - (i - 1))
            if straight > declining:
                switched = True
                terms.append(straight)
            else:
                depreciable -= declining
                terms.append(declining)
        else:
            terms.append(straight)
    return math.fsum(terms)


def _vdb_period(cost: float, salvage: float, life: float, k: int, factor: float) -> float:
    """Charge of the whole period ``[k, k + 1]`` under VDB with switching."""
    book = cost - _vdb_whole_periods(cost, salvage, life, life, k, factor)
    return _vdb_whole_periods(book, salvage, life, life - k, 1, factor)


def _vdb_switch(cost: float, salvage: float, life: float, start: float, end: float,
                factor: float) -> float:
    """VDB with switching: whole periods covering the window, minus the parts of
    the first and last period that lie outside it (linear within a period)."""
    lo, hi = _snap_floor(start), _snap_ceil(end)
    book = cost - _vdb_whole_periods(cost, salvage, life, life, lo, factor)
    total = _vdb_whole_periods(book, salvage, life, life - lo, hi - lo, factor)
    if not _is_whole(start):
        total -= (start - lo) * _vdb_period(cost, salvage, life, lo, factor)
    if not _is_whole(end):
        total -= (hi - end) * _vdb_period(cost, salvage, life, hi - 1, factor)
    return total


def _vdb_no_switch(cost: float, salvage: float, life: float, start: float, end: float,
                   factor: float) -> float:
    """VDB without switching: declining-balance charges weighted by overlap."""
    lo, hi = _snap_floor(start), _snap_ceil(end)
    terms = []
    for i in range(lo + 1, hi + 1):
        weight = min(end, i) - max(start, i - 1)
        if weight > 0:
            terms.append(weight * _db_amount(cost, salvage, life, i, factor))
    return math.fsum(terms)


def vdb(cost, salvage, life, start_period, end_period, factor=2, no_switch=False):
    r"""Variable declining balance depreciation over a window (Excel ``VDB``).

    Parameters
    ----------
    cost : float
        Initial cost of the asset, ``>= 0``.
    salvage : float
        Value at the end of the depreciation, ``0 <= salvage <= cost``.
    life : float
        Number of periods over which the asset is depreciated, ``> 0``
        (may be fractional).
    start_period, end_period : float
        The window ``[start_period, end_period]`` on the life axis,
        ``0 <= start_period <= end_period <= life``; fractional values select
        partial periods.
    factor : float, default 2
        The rate at which the balance declines, ``> 0``.
    no_switch : bool, default False
        If true, never switch to straight line.

    Returns
    -------
    float
        Depreciation charged in the window.

    Raises
    ------
    FinInputError
        If ``life <= 0``, ``salvage < 0``, ``salvage > cost``, ``factor <= 0``,
        the window is not ``0 <= start_period <= end_period <= life`` or
        ``no_switch`` is not a boolean.

    Notes
    -----
    Whole period ``k`` (covering ``[k - 1, k]``) is charged

    .. math::
        d_k = \begin{cases}
              \max\bigl(0, \min(B_{k-1}\,\tfrac{factor}{life},\ B_{k-1} - salvage)\bigr)
                  & \text{declining balance} \\
              \dfrac{B_{j-1} - salvage}{life - (j - 1)}
                  & \text{straight line from the first period } j
                    \text{ where this exceeds the former}
              \end{cases}

    with :math:`B_{k}` the book value after ``k`` periods (``no_switch`` keeps the
    first line throughout).  A partial period is charged pro rata:

    .. math:: \mathrm{VDB}(s, e) = \sum_k d_k\,\bigl|[s, e] \cap [k-1, k]\bigr|

    This follows LibreOffice's ``ScInterpreter::ScVDB`` (sc/source/core/tool/
    interpr2.cxx), the reference implementation of Excel's semantics.  Hence
    ``VDB(0, life) = cost - salvage`` when switching is on, and windows add up:
    ``VDB(a, b) + VDB(b, c) = VDB(a, c)``.

    References
    ----------
    .. [1] Microsoft Support, "VDB function",
       https://support.microsoft.com/en-us/excel/functions/vdb-function

    Examples
    --------
    >>> round(vdb(2400, 300, 10 * 12, 6, 18), 2)
    396.31
    >>> round(vdb(2400, 300, 10 * 12, 6, 18, 1.5), 2)
    311.81
    >>> round(vdb(2400, 300, 10, 0, 0.875, 1.5), 2)
    315.0
    >>> round(vdb(2400, 300, 10, 0, 10), 2)
    2100.0
    """
    func = "vdb"
    c, s, n = _check_asset(func, cost, salvage, life)
    f = _check_factor(func, factor)
    start = _real(func, "start_period", start_period)
    end = _real(func, "end_period", end_period)
    _require(start >= 0, func, "start_period", "start_period >= 0", start_period)
    _require(end >= start, func, "end_period", f"end_period >= start_period ({start:g})",
             end_period)
    _require(end <= n, func, "end_period", f"end_period <= life ({n:g})", end_period)
    if not isinstance(no_switch, (bool, np.bool_)) and no_switch not in (0, 1):
        raise FinInputError(func, "no_switch", "True or False", no_switch)
    if no_switch:
        return _vdb_no_switch(c, s, n, start, end, f)
    return max(_vdb_switch(c, s, n, start, end, f), 0.0)


# --------------------------------------------------------------------------
# schedules
# --------------------------------------------------------------------------

def _check_method(func: str, method, life: float, factor) -> tuple[str, float]:
    m = _choice(func, "method", method, METHODS)
    f = _check_factor(func, factor)
    if m == "ddb" and f != 2.0:
        raise FinInputError(func, "factor", "2 with method 'ddb'", factor,
                            "use method='db' for other declining-balance factors")
    if m == "syd" and not _is_whole(life):
        raise FinInputError(func, "life", "a whole number of years with method 'syd'", life)
    return m, f


def _window_amount(method: str, cost: float, salvage: float, life: float,
                   a: float, b: float, factor: float) -> float:
    """Depreciation charged over the life window ``[a, b]`` (0 <= a <= b <= life)."""
    if b <= a:
        return 0.0
    if method == "sl":
        return (cost - salvage) * (b - a) / life
    if method in ("ddb", "db"):
        return max(_vdb_switch(cost, salvage, life, a, b, factor), 0.0)
    # syd: whole-period SYD charges, pro rata within a period (life is whole)
    n = int(round(life))
    terms = []
    for k in range(_snap_floor(a) + 1, _snap_ceil(b) + 1):
        weight = min(b, k) - max(a, k - 1)
        if weight > 0:
            terms.append(weight * (n - k + 1))
    return (cost - salvage) * math.fsum(terms) * 2 / (n * (n + 1))


def _year_window(year: int, offset: float, life: float) -> tuple[float, float]:
    """Life window covered by schedule year ``year`` (1-based)."""
    a = min(max(year - 1 - offset, 0.0), life)
    b = min(max(year - offset, 0.0), life)
    return a, b


def schedule(cost, salvage, life, method, convention="full_year", factor=2.0,
             n_periods=None) -> np.ndarray:
    r"""Yearly depreciation schedule under a first-year convention.

    Parameters
    ----------
    cost : float
        Initial cost of the asset, ``>= 0``.
    salvage : float
        Value at the end of the depreciation, ``0 <= salvage <= cost``.
    life : float
        Useful life in years, ``> 0``; may be fractional (e.g. 5.5) except for
        ``method="syd"``, which needs a whole number.
    method : {"sl", "ddb", "db", "syd"}
        ``"sl"`` straight line; ``"ddb"`` double-declining balance and ``"db"``
        declining balance with ``factor``, both switching to straight line when
        that is larger (VDB's default); ``"syd"`` sum-of-years' digits.
    convention : {"full_year", "half_year", "mid_quarter_q1", ..., "mid_quarter_q4"}
        Share of a full year taken in the year placed in service: 1, 1/2,
        10.5/12, 7.5/12, 4.5/12 or 1.5/12 (see :data:`CONVENTIONS`).
    factor : float, default 2.0
        Declining-balance factor, ``> 0``; used by ``"db"``.  ``"ddb"`` requires
        2 and the other methods ignore it.
    n_periods : int, optional
        Length of the result.  Defaults to the number of years the life covers,
        ``ceil(life + 1 - first_year_fraction)``; a longer result is padded with
        zeros, a shorter one is truncated.

    Returns
    -------
    ndarray
        Depreciation per calendar year; sums to ``cost - salvage`` unless
        truncated by ``n_periods``.

    Raises
    ------
    FinInputError
        For bad asset arguments, ``factor <= 0``, an unknown ``method`` or
        ``convention`` (with the nearest valid name), ``factor != 2`` with
        ``"ddb"``, a fractional life with ``"syd"`` or ``n_periods < 1``.

    Notes
    -----
    With first-year fraction :math:`f` and offset :math:`o = 1 - f`, calendar year
    :math:`k` covers the life window

    .. math:: [a_k, b_k] = [\operatorname{clip}(k - 1 - o),\ \operatorname{clip}(k - o)],
              \qquad \operatorname{clip}(x) = \min(\max(x, 0), life)

    and is charged the depreciation of that window: ``(cost - salvage)(b - a)/life``
    for ``"sl"``, :func:`vdb` over ``[a_k, b_k]`` for ``"ddb"``/``"db"``, and the
    SYD charges of the periods it overlaps, pro rata, for ``"syd"``.  The windows
    tile ``[0, life]``, so the schedule sums to ``cost - salvage``.

    Note the half-year declining-balance schedule pro-rates *asset-life* periods;
    it is not the IRS MACRS table, which re-times the straight-line switch to the
    tax year (5-year 200% DB: 20, 32, 19.2, 12.6, 10.8, 5.4 % here against
    20, 32, 19.2, 11.52, 11.52, 5.76 % in the MACRS table).

    References
    ----------
    .. [1] Microsoft Support, "VDB function",
       https://support.microsoft.com/en-us/excel/functions/vdb-function
    .. [2] Microsoft Support, "SYD function",
       https://support.microsoft.com/en-us/excel/functions/syd-function

    Examples
    --------
    >>> schedule(1200, 0, 3, "sl").tolist()
    [400.0, 400.0, 400.0]
    >>> schedule(1200, 0, 3, "sl", "half_year").tolist()
    [200.0, 400.0, 400.0, 200.0]
    >>> np.round(schedule(100, 0, 5, "ddb", "half_year"), 2).tolist()
    [20.0, 32.0, 19.2, 12.6, 10.8, 5.4]
    """
    func = "schedule"
    c, s, n = _check_asset(func, cost, salvage, life)
    m, f = _check_method(func, method, n, factor)
    conv = _choice(func, "convention", convention, CONVENTIONS)
    offset = 1.0 - CONVENTIONS[conv]
    covered = _snap_ceil(n + offset)
    if n_periods is None:
        length = covered
    else:
        length = _whole(func, "n_periods", n_periods, "a whole number of years >= 1")
        _require(length >= 1, func, "n_periods", "a whole number of years >= 1", n_periods)
    out = np.zeros(length)
    for year in range(1, min(length, covered) + 1):
        a, b = _year_window(year, offset, n)
        out[year - 1] = _window_amount(m, c, s, n, a, b, f)
    return out


def cumulative_share(life, method, years, convention="full_year", factor=2.0) -> float:
    r"""Share of cost depreciated after ``years`` calendar years (salvage 0).

    Parameters
    ----------
    life : float
        Useful life in years, ``> 0`` (whole for ``"syd"``).
    method : {"sl", "ddb", "db", "syd"}
        As in :func:`schedule`.
    years : float
        Calendar years elapsed since the year placed in service began, ``>= 0``;
        fractional years are pro rata within the year.
    convention : str, default "full_year"
        As in :func:`schedule`.
    factor : float, default 2.0
        As in :func:`schedule`.

    Returns
    -------
    float
        Cumulative depreciation over cost, in ``[0, 1]``; for whole ``years``
        equal to ``schedule(1, 0, life, ...)[:years].sum()``.

    Raises
    ------
    FinInputError
        As :func:`schedule`, or ``years < 0``.

    Notes
    -----
    .. math:: \mathrm{share}(y) = D\bigl(0,\ \operatorname{clip}(y - (1 - f))\bigr)

    with :math:`D(a, b)` the depreciation of a unit cost over the life window
    ``[a, b]`` and :math:`f` the first-year fraction of the convention.

    References
    ----------
    .. [1] Microsoft Support, "VDB function",
       https://support.microsoft.com/en-us/excel/functions/vdb-function

    Examples
    --------
    >>> cumulative_share(6, "sl", 3)
    0.5
    >>> round(cumulative_share(6, "sl", 3, "half_year"), 4)
    0.4167
    >>> round(cumulative_share(6, "ddb", 3), 4)
    0.7037
    """
    func = "cumulative_share"
    _, _, n = _check_asset(func, 1.0, 0.0, life)
    m, f = _check_method(func, method, n, factor)
    conv = _choice(func, "convention", convention, CONVENTIONS)
    y = _real(func, "years", years)
    _require(y >= 0, func, "years", "years >= 0", years)
    b = min(max(y - (1.0 - CONVENTIONS[conv]), 0.0), n)
    return _window_amount(m, 1.0, 0.0, n, 0.0, b, f)


# --------------------------------------------------------------------------- discounted cash flow
def dcf_cash_flows(first, second, growth, years, terminal_growth, rate):
    """The yearly cash flows of the valuation's DCF, terminal value included in the last year.

    ``[F1, F2, F2(1+g), …, F2(1+g)^N + TV]`` with ``TV = F2 (1+g)^N (1+g_t) / (r − g_t)``: two
    explicit years, ``N`` growth years, then growth ``g_t`` for ever (Gordon). Year ``t`` is
    received at the end of year ``t`` (Excel's ``NPV`` convention: the first flow is discounted
    one period).

    Examples
    --------
    >>> [round(x, 6) for x in dcf_cash_flows(100, 110, 0.1, 2, 0.0, 0.1)]
    [100.0, 110.0, 121.0, 1464.1]
    """
    rate = _real("dcf_cash_flows", "rate", rate)
    terminal_growth = _real("dcf_cash_flows", "terminal_growth", terminal_growth)
    years = _whole("dcf_cash_flows", "years", years, "a whole number of years >= 0")
    _require(rate > terminal_growth, "dcf_cash_flows", "terminal_growth",
             "below the discount rate", terminal_growth)
    flows = [float(first), float(second)] + [float(second) * (1 + growth) ** k
                                             for k in range(1, years + 1)]
    flows[-1] += flows[-1] * (1 + terminal_growth) / (rate - terminal_growth)
    return flows


def dcf_value(first, second, growth, years, terminal_growth, rate) -> float:
    """Present value (at the start of year one) of :func:`dcf_cash_flows`, computed with
    ``numpy_financial.npv``, whose first flow is at t = 0: a leading 0 shifts the flows to the
    end of each year (pyxirr's documentation spells out the same difference from Excel's NPV).

    Examples
    --------
    >>> round(dcf_value(100, 110, 0.1, 2, 0.0, 0.1), 6)  # 3 × 90.909… + 1464.1 / 1.1^4
    1272.727273
    """
    import numpy_financial as npf
    flows = dcf_cash_flows(first, second, growth, years, terminal_growth, rate)
    return float(npf.npv(float(rate), [0.0] + flows))
