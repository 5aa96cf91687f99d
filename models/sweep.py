"""Vectorised scenario sweep: N draws from the assumption sheets' ranges through china → valuation.

Every assumption of the swept models that has both ``low`` and ``high`` is drawn, per its sheet's
``dist``, by inverse transform of one uniform number per scenario:

* uniform:     x = low + u (high − low)
* triangular:  with c = (mode − low)/(high − low), mode = the sheet's value,
               x = low + √(u (high − low)(mode − low))        if u < c
               x = high − √((1 − u)(high − low)(high − mode)) otherwise

A time series uses the same u in every period (a high draw is high in every year: the path moves
as a whole). A choice whose values carry scenario probabilities (China's response: see
:func:`drawn_choices`) is drawn with them. Everything else — other choices, periods, figures
without a range — stays at its resolved value. :func:`tornado` moves each ranged input from its
low to its high with the others at base, in one batch. The draws go through the *same* line-item definitions as a single run (``row.expr``), as
float64 arrays of shape (chunk, P); only the rows the requested outputs depend on are evaluated.
Only the periods needed are evaluated (china runs CY2025-CY2028; valuation needs CY2026-CY2027).
Scenarios are processed in chunks of :data:`CHUNK` (cache-sized arrays; the unit of the
progress bar and of threading); each assumption has its own random stream per chunk, spawned
from the seed, so the same seed and N give the same numbers whatever the number of threads or
the outputs asked for.
"""
from __future__ import annotations

import math
import os
import sys
import textwrap
import zlib
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from models.assumptions import Assumptions
from models.engine import build_specs, finite_or_none
from models.errors import EqrError, did_you_mean
from models.lineitems import (BinOp, Const, Env, Func, InputValue, ModelSpec, Neg, Row, RowRef,
                              SumRows, _align, batch_inputs, find_output, input_deps,
                              model_closure, quiet, row_deps, walk)

CHUNK = 32_768  # scenarios per chunk: arrays stay cache-sized (fixes the random streams)
#: the most scenarios one sweep draws (issue 17). Every reported output keeps one 8-byte
#: number per scenario for its percentiles and histogram, so memory grows with N × outputs:
#: MAX_VALUES numbers are 800 MB. 10 million draws already put the 5th and 95th percentiles
#: within about 0.01 percentile point of their limit, far below what the report shows.
MAX_N = 10_000_000
MAX_VALUES = 100_000_000
PERCENTILES = (5, 25, 50, 75, 95)
TARGET_MODELS = ("valuation",)
HISTOGRAM_BINS = 40


# =========================================================================== what to draw
@dataclass(frozen=True)
class Ranged:
    """An assumption drawn by the sweep: arrays of shape (1,) for scalars, (P,) for series."""

    key: str
    dist: str
    low: np.ndarray
    mode: np.ndarray
    high: np.ndarray
    series: bool


def _as_array(value: Any) -> np.ndarray:
    """A scalar or series as floats (a gap, None, is NaN)."""
    if isinstance(value, dict):
        return np.array([np.nan if v is None else v for v in value.values()], dtype=float)
    return np.array([np.nan if value is None else float(value)])


def ranged_assumptions(a: Assumptions, models: Iterable[str],
                       strict: bool = True) -> list[Ranged]:
    """The numeric assumptions of ``models`` that have a low/high range, in key order. A value
    outside its range is an error, or with ``strict=False`` widens the range to include it
    (a build's risk picture after ``--set``)."""
    out = []
    for model in models:
        for item in a.for_model(model):
            if (item.low is None or item.high is None or item.value is None
                    or isinstance(item.value, str)):
                continue
            low, mode, high = (_as_array(v) for v in (item.low, item.value, item.high))
            if not strict and not np.all(np.isfinite(np.concatenate([low, mode, high]))):
                continue  # a gap in some period: a build's risk picture leaves it at its value
            if not strict:
                low, high = np.minimum(low, mode), np.maximum(high, mode)
            if np.any(low > mode) or np.any(mode > high):
                raise EqrError("value outside its low/high range", file=item.file,
                               line=item.line, key=item.key,
                               expected="low <= value <= high in every period",
                               found=f"low {item.low}, value {item.value}, high {item.high}")
            out.append(Ranged(item.key, item.dist, low, mode, high, item.is_series))
    return sorted(out, key=lambda r: r.key)


def triangular_ppf(u: np.ndarray, low: float, mode: float, high: float,
                   roots: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Inverse CDF of the triangular distribution (degenerate ranges give ``mode``);
    ``roots`` = (√u, √(1 − u)) when already computed for another period."""
    width = high - low
    c = (mode - low) / width if width > 0 else 0.0
    root_u, root_1u = roots if roots is not None else (np.sqrt(u), np.sqrt(1.0 - u))
    left = root_u * math.sqrt(width * (mode - low))
    left += low
    right = root_1u * -math.sqrt(width * (high - mode))
    right += high
    return np.where(u < c, left, right)


def uniform_ppf(u: np.ndarray, low: float, high: float) -> np.ndarray:
    return low + u * (high - low)


def draw_series(r: Ranged, u: np.ndarray) -> np.ndarray:
    """A path for uniforms ``u`` of shape (n,): (n, P), the same u in every period.

    Arrays are column-major (Fortran order): each period's n values are contiguous, so numpy's
    elementwise loops run along the scenarios, not along the 2-5 periods (3-4× faster when a
    series meets a scalar row). Each period is written in place, :func:`triangular_ppf`'s
    formula split by branch: a point range is filled, a mode at an end of the range needs one
    branch only; √u and √(1 − u) are computed once for all periods."""
    n, periods = u.shape[0], r.low.shape[0]
    out = np.empty((n, periods), order="F")
    roots: dict[str, np.ndarray] = {}

    def root(which: str) -> np.ndarray:
        if which not in roots:
            roots[which] = np.sqrt(u if which == "u" else 1.0 - u)
        return roots[which]

    tmp = mask = None
    for p in range(periods):
        low, mode, high = float(r.low[p]), float(r.mode[p]), float(r.high[p])
        col = out[:, p]
        if low == high:
            col.fill(low)
        elif r.dist == "uniform":
            np.multiply(u, high - low, out=col)
            col += low
        elif mode == high:  # c = 1: x = low + √(u (high − low)²)
            np.multiply(root("u"), math.sqrt((high - low) * (mode - low)), out=col)
            col += low
        elif mode == low:  # c = 0: x = high − √((1 − u)(high − low)²)
            np.multiply(root("1-u"), -math.sqrt((high - low) * (high - mode)), out=col)
            col += high
        else:
            if tmp is None:
                tmp, mask = np.empty(n), np.empty(n)
            np.multiply(root("u"), math.sqrt((high - low) * (mode - low)), out=col)
            col += low
            np.multiply(root("1-u"), -math.sqrt((high - low) * (high - mode)), out=tmp)
            tmp += high
            np.greater_equal(u, (mode - low) / (high - low), out=mask)
            tmp -= col  # branch-free blend (a masked copy is several times slower)
            tmp *= mask
            col += tmp
    return out


def key_rng(seed: int, chunk: int, key: str) -> np.random.Generator:
    """The random stream of one assumption in one chunk, spawned from the seed: the same seed,
    N and assumptions give the same numbers, whatever the threads or the outputs asked for."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        seed, spawn_key=(chunk, zlib.crc32(key.encode())))))


def draw(r: Ranged, rng: np.random.Generator, n: int) -> np.ndarray:
    """n values of one assumption: (n, P) for a series, (n, 1) for a scalar ((1, P) when every
    period's range is a single point). Scalars use numpy's triangular/uniform samplers, which
    apply the same inverse CDF as :func:`triangular_ppf` in one C loop (measured 4× faster
    than the numpy expression)."""
    if np.all(r.low == r.high):
        return r.low.reshape(1, -1).copy()
    if r.series:
        return draw_series(r, rng.random(n))
    low, mode, high = float(r.low[0]), float(r.mode[0]), float(r.high[0])
    if r.dist == "uniform":
        return rng.uniform(low, high, n).reshape(n, 1)
    return rng.triangular(low, mode, high, n).reshape(n, 1)


@dataclass(frozen=True)
class Choice:
    """A choice assumption drawn by the sweep: ``values[i]`` with probability ``p[i]``.

    The probabilities are the scenario probabilities of the valuation sheet
    (``valuation.probability_<scenario>``, renormalised to sum to 1): each scenario's overlay sets
    the choice (``china_ban`` → ``continued_ban``); ``base`` stands for the sheet's own value."""

    key: str
    values: tuple[str, ...]
    p: tuple[float, ...]
    scenarios: tuple[tuple[str, ...], ...]  # the scenarios behind each value

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n indices into ``values`` (one uniform each, inverse CDF over the cumulated p)."""
        cut = np.cumsum(self.p)
        cut[-1] = 1.0
        return np.searchsorted(cut, rng.random(n), side="right").astype(np.int8)


def drawn_choices(a: Assumptions, models: Iterable[str],
                  directory=None) -> tuple[list[Choice], str | None]:
    """The choices to draw by the scenario probabilities, and why none are, if none.

    Every scenario with a probability must be ``base`` or an overlay that sets one choice
    assumption, the same one for all; a choice fixed by ``--scenario``, ``--set`` or an edited
    workbook stays fixed (the run asked for that case)."""
    from pathlib import Path

    from models.assumptions import apply_scenario
    from models.valuation import PROBABILITY_PREFIX, probability_names
    if "valuation" not in a.sheets:
        return [], "no valuation sheet (the scenario probabilities live there)"
    names = probability_names(a)
    if not names:
        return [], "no scenario probabilities (valuation.probability_<scenario>)"
    if directory is None:
        directory = Path(a.sheets["valuation"].file).parent
    wanted = set(models)
    keyed: dict[str, str] = {}  # scenario → the choice value it sets
    choice_key = None
    for name in names:
        if name == "base":
            continue
        overlaid = apply_scenario(a, name, directory, force=True)
        keys = [k for k, it in overlaid.items.items() if it.set_by == f"scenario {name}"]
        if len(keys) != 1 or overlaid[keys[0]].unit != "choice":
            return [], (f"scenario {name} sets {len(keys)} assumptions, not one choice: its "
                        "probability does not map onto a choice value")
        if choice_key not in (None, keys[0]):
            return [], f"the probability scenarios set different choices ({choice_key}, {keys[0]})"
        choice_key = keys[0]
        keyed[name] = overlaid.value(choice_key)
    if choice_key is None or choice_key.split(".")[0] not in wanted:
        return [], "no probability scenario sets a choice of the swept models"
    item = a[choice_key]
    if item.set_by != item.file:
        return [], f"{choice_key} is fixed by {item.set_by}"
    if "base" in names:
        keyed["base"] = item.value
    p = {n: float(a.value(f"valuation.{PROBABILITY_PREFIX}{n}")) for n in keyed}
    total = sum(p.values())
    if not all(math.isfinite(v) and v >= 0 for v in p.values()) or total <= 0:
        return [], "the scenario probabilities are not non-negative numbers with a positive sum"
    values = tuple(dict.fromkeys(keyed[n] for n in names if n in keyed))
    return [Choice(choice_key, values,
                   tuple(sum(p[n] for n in keyed if keyed[n] == v) / total for v in values),
                   tuple(tuple(n for n in names if keyed.get(n) == v) for v in values))], None


# =========================================================================== what to evaluate
row_refs = row_deps  # the one dependency walk (models.lineitems)
input_values = input_deps


def needed_rows(specs: dict[str, ModelSpec], outputs: Sequence[str]) -> list[Row]:
    """The rows the output rows depend on, in evaluation (sheet, model) order."""
    by_key = {row.key: row for spec in specs.values() for row in spec.rows}
    needed: set[str] = set()
    stack = [by_key[k] for k in outputs]
    while stack:
        row = stack.pop()
        if row.key in needed:
            continue
        needed.add(row.key)
        stack.extend(row_refs(row.expr))
    return [row for spec in specs.values() for row in spec.rows if row.key in needed]


def evaluate_rows(rows: Sequence[Row], specs: dict[str, ModelSpec],
                  inputs: dict[str, np.ndarray]) -> Env:
    """Evaluate ``rows`` in order; values stay in their broadcastable shapes ((1, P) for rows no
    draw reaches, (n, P) otherwise), which avoids copying constants n times."""
    env = Env(inputs, specs)
    with quiet():  # one errstate for the whole evaluation, not one per node
        _evaluate_rows(rows, specs, env)
    return env


def _evaluate_rows(rows: Sequence[Row], specs: dict[str, ModelSpec], env: Env) -> None:
    for row in rows:
        value = row.expr.evaluate(env)
        if isinstance(row.expr, RowRef) and row.series and row.expr.row.model != row.model:
            value = _align(value, env.periods(row.expr.row.model), specs[row.model].periods)
        value = np.asarray(value)
        if value.ndim == 0:  # a constant row
            width = len(specs[row.model].periods) if row.series else 1
            value = np.broadcast_to(value.reshape(1, 1), (1, width))
        env.values[row.key] = value


# =========================================================================== output keys
@dataclass(frozen=True)
class OutputKey:
    """``model.row`` (a scalar) or ``model.row.PERIOD`` (one period of a series)."""

    key: str
    row: Row
    column: int | None  # None for a scalar

    def take(self, env: Env, n: int) -> np.ndarray:
        v = env.get(self.row.key)
        col = v[:, 0] if self.column is None else v[:, self.column]
        return np.broadcast_to(col, (n,)) if col.shape[0] != n else col


def output_keys(specs: dict[str, ModelSpec], keys: Sequence[str]) -> list[OutputKey]:
    by_key = {row.key: row for spec in specs.values() for row in spec.rows}
    out = []
    for key in keys:
        found = find_output(specs, key)
        if found is not None and (found[1] is not None or not found[0].series):
            row, period = found
            out.append(OutputKey(key, row, None if period is None
                                 else specs[row.model].periods.index(period)))
            continue
        valid = [k for k, r in by_key.items() if not r.series] + [
            f"{k}.{p}" for k, r in by_key.items() if r.series for p in specs[r.model].periods]
        if key in by_key:  # a series named without its period
            hint = f"a series needs its period, e.g. {key}.{specs[by_key[key].model].periods[0]}"
        else:
            hint = did_you_mean(key, valid)
        raise EqrError("unknown output for the sweep", key=key,
                       expected="model.row or model.row.PERIOD of a swept model", hint=hint)
    return out


def default_outputs() -> list[str]:
    from models.valuation import COMPARE_HEADLINES
    return [k for k, _ in COMPARE_HEADLINES]


# =========================================================================== the sweep
@dataclass
class Sweep:
    """What a sweep is about to do: the draws, the rows to evaluate, the outputs to keep."""

    assumptions: Assumptions
    models: list[str]
    specs: dict[str, ModelSpec]
    ranged: list[Ranged]
    rows: list[Row]
    outputs: list[OutputKey]
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    choices: list[Choice] = field(default_factory=list)
    choices_note: str | None = None  # why no choice is drawn, if none

    def chunk_picks(self, seed: int, chunk: int, n: int) -> np.ndarray:
        """The drawn choice indices of a chunk: shape (len(choices), n)."""
        return np.array([c.draw(key_rng(seed, chunk, c.key), n) for c in self.choices],
                        dtype=np.int8).reshape(len(self.choices), n)

    def chunk_inputs(self, seed: int, chunk: int, n: int,
                     picks: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Inputs for chunk number ``chunk`` of ``n`` scenarios."""
        inputs = dict(self.constants)
        for r in self.ranged:
            inputs[r.key] = draw(r, key_rng(seed, chunk, r.key), n)
        if picks is None:
            picks = self.chunk_picks(seed, chunk, n)
        for c, idx in zip(self.choices, picks):
            inputs[c.key] = np.array(c.values)[idx].reshape(n, 1)  # fixed-width text: C compares
        return inputs

    def run_chunk(self, seed: int, chunk: int, n: int, out: np.ndarray,
                  picks_out: np.ndarray | None = None) -> None:
        """Evaluate chunk number ``chunk`` into ``out`` (shape (len(outputs), n)) and its
        choice indices into ``picks_out`` (shape (len(choices), n))."""
        picks = self.chunk_picks(seed, chunk, n)
        if picks_out is not None:
            picks_out[:] = picks
        env = evaluate_rows(self.rows, self.specs, self.chunk_inputs(seed, chunk, n, picks))
        for j, key in enumerate(self.outputs):
            out[j] = key.take(env, n)


def plan(a: Assumptions, outputs: Sequence[str] | None = None,
         targets: Sequence[str] = TARGET_MODELS, strict: bool = True,
         choices: bool = True, specs: dict[str, ModelSpec] | None = None) -> Sweep:
    """Decide what to draw and evaluate for the sweep (no random numbers yet); ``strict``:
    see :func:`ranged_assumptions`; ``choices``: draw the choices that carry scenario
    probabilities (:func:`drawn_choices`), else keep every choice at its value; ``specs``:
    the models already defined from ``a`` (``build_specs(a)``), if at hand."""
    all_specs = specs if specs is not None else build_specs(a)
    keys = list(outputs) if outputs else default_outputs()
    extra_models = {k.split(".", 1)[0] for k in keys}
    unknown = sorted(m for m in extra_models if m not in all_specs)
    if unknown:
        raise EqrError("unknown model in a sweep output", key=unknown[0],
                       expected=f"one of {list(all_specs)}")
    models = model_closure(all_specs, list(targets) + sorted(extra_models))
    specs = {m: all_specs[m] for m in models}
    out_keys = output_keys(specs, keys)
    rows = needed_rows(specs, [k.row.key for k in out_keys])
    keep = needed_periods(specs, rows, out_keys)
    specs = {m: replace(spec, periods=keep[m]) for m, spec in specs.items()}
    out_keys = output_keys(specs, keys)
    ranged = ranged_assumptions(a, models, strict)
    used = {e.key for r in rows for e in input_values(r.expr)}
    ranged = [_restrict_ranged(r, a, keep) for r in ranged if r.key in used]
    base = batch_inputs(a, 1)
    constants = {k: _restrict_input(v, k, a, keep) for k, v in base.items() if k in used}
    drawn, note = drawn_choices(a, models) if choices else ([], "choices kept at their values")
    unused = [c.key for c in drawn if c.key not in used]
    drawn = [c for c in drawn if c.key in used]
    if unused and not drawn:
        note = f"{unused[0]} does not reach the outputs asked for"
    return Sweep(a, models, specs, ranged, rows, out_keys, constants, drawn, note)


#: Excel functions whose numpy twins work period by period (elementwise, broadcasting)
ELEMENTWISE_FUNCTIONS = frozenset({"IF", "MAX", "MIN", "ABS", "MATCH", "CHOOSE", "NA"})


def _elementwise(node) -> bool:
    """True for nodes that combine values of the same period only."""
    if isinstance(node, (Const, BinOp, Neg, RowRef, InputValue, SumRows)):
        return True
    if isinstance(node, Func):
        return node.name in ELEMENTWISE_FUNCTIONS
    return type(node).__name__ == "TextList"  # a constant list of names (models.rowexprs)


def needed_periods(specs: dict[str, ModelSpec], rows: Sequence[Row],
                   out_keys: Sequence[OutputKey]) -> dict[str, tuple[str, ...]]:
    """The periods each model must be evaluated for: those of the requested outputs and of the
    downstream rows that link to its series. A model whose needed rows contain anything but
    period-by-period arithmetic (Prev, Total, At, a running total, a function over a range...)
    or that is referenced across models other than by a link row keeps all its periods."""
    keep: dict[str, set[str]] = {m: set() for m in specs}
    full: set[str] = set()
    for k in out_keys:
        if k.column is not None:
            keep[k.row.model].add(specs[k.row.model].periods[k.column])
    feeds: dict[str, set[str]] = {m: set() for m in specs}  # model → models it feeds series to
    for row in rows:
        for node in walk(row.expr):
            if not _elementwise(node):  # Prev, Total, At, running totals, range functions...
                full.add(row.model)
                full.update(r.model for r in node.rows_read())
            for source in node.rows_read():
                if source.model == row.model or not source.series:
                    continue
                if node is row.expr and isinstance(node, RowRef):
                    feeds[source.model].add(row.model)  # a link row: periods are aligned
                else:
                    full.update({source.model, row.model})
    out: dict[str, tuple[str, ...]] = {}
    for model in reversed(list(specs)):  # downstream models first
        periods = specs[model].periods
        wanted = set(keep[model])
        for user in feeds[model]:
            wanted.update(p for p in out[user] if p in periods)
        if model in full or not wanted:
            out[model] = periods
        else:
            out[model] = tuple(p for p in periods if p in wanted)
    return {m: out[m] for m in specs}


def _columns(key: str, a: Assumptions, keep) -> list[int]:
    model = key.split(".", 1)[0]
    periods = a.periods(model)
    return [periods.index(p) for p in keep[model]]


def _restrict_ranged(r: Ranged, a: Assumptions, keep) -> Ranged:
    if not r.series:
        return r
    idx = _columns(r.key, a, keep)
    return replace(r, low=r.low[idx], mode=r.mode[idx], high=r.high[idx])


def _restrict_input(value: np.ndarray, key: str, a: Assumptions, keep) -> np.ndarray:
    if not a[key].is_series:
        return value
    return np.ascontiguousarray(value[:, _columns(key, a, keep)])


@dataclass
class SweepResult:
    n: int
    seed: int
    outputs: list[str]
    values: np.ndarray  # (len(outputs), n): one contiguous row per output
    ranged: list[Ranged]
    seconds: float
    threads: int
    choices: list[Choice] = field(default_factory=list)
    picks: np.ndarray | None = None  # (len(choices), n): the index of each drawn choice value

    def column(self, key: str) -> np.ndarray:
        return self.values[self.outputs.index(key)]

    def picked(self, key: str) -> np.ndarray:
        """The drawn value of choice ``key`` in each scenario (object array of shape (n,))."""
        j = [c.key for c in self.choices].index(key)
        return np.array(self.choices[j].values, dtype=object)[self.picks[j]]


def check_size(n: int, outputs: int) -> None:
    """Refuse a sweep too large to hold in memory, before drawing anything."""
    limit = min(MAX_N, MAX_VALUES // max(1, outputs))
    if n > limit:
        raise EqrError("too many scenarios", key="--n",
                       expected=f"at most {limit:,} with {outputs} output(s) (each output keeps "
                                f"8 bytes per scenario: at most {MAX_VALUES * 8 // 10**6:,} MB "
                                f"in all, and {MAX_N:,} draws at most)", found=n,
                       hint="percentiles barely move beyond a million draws; run several "
                            "sweeps with different --seed to see the spread")


def run_sweep(a: Assumptions, n: int, seed: int | None = None,
              outputs: Sequence[str] | None = None, threads: int | None = None,
              progress: Callable[[int], None] | None = None,
              sweep: Sweep | None = None) -> SweepResult:
    """Draw ``n`` scenarios and evaluate them; ``progress(k)`` is called as k scenarios finish."""
    if not isinstance(n, int) or n < 1:
        raise EqrError("bad number of scenarios", key="--n", expected="an integer >= 1",
                       found=n)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2 ** 63))
    if seed < 0:
        raise EqrError("bad seed", key="--seed", expected="an integer >= 0", found=seed)
    sweep = sweep or plan(a, outputs)
    check_size(n, len(sweep.outputs))
    threads = max(1, threads or min(2, os.cpu_count() or 1))
    with _reuse_freed_memory():
        return _run(sweep, n, seed, threads, progress)


def _run(sweep: Sweep, n: int, seed: int, threads: int,
         progress: Callable[[int], None] | None) -> SweepResult:
    started = time.perf_counter()
    values = np.empty((len(sweep.outputs), n))
    picks = np.empty((len(sweep.choices), n), dtype=np.int8)
    starts = list(range(0, n, CHUNK))

    def work(i: int) -> int:
        lo = starts[i]
        hi = min(n, lo + CHUNK)
        sweep.run_chunk(seed, i, hi - lo, values[:, lo:hi], picks[:, lo:hi])
        return hi - lo

    if threads == 1 or len(starts) == 1:
        for i in range(len(starts)):
            done = work(i)
            if progress:
                progress(done)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for done in pool.map(work, range(len(starts))):
                if progress:
                    progress(done)
    seconds = time.perf_counter() - started
    return SweepResult(n, seed, [k.key for k in sweep.outputs], values, sweep.ranged, seconds,
                       threads, sweep.choices, picks)


@contextmanager
def _reuse_freed_memory():
    """While the sweep runs, let glibc's malloc keep freed memory for the next allocation.

    Every row of a chunk is a fresh array of up to chunk × periods float64 (5 MB for a
    20-quarter row); by default glibc returns such blocks to the system on free (mmap/munmap,
    or trimming the heap), so each new array page-faults its memory in again, a third of the
    kernel's time. Raising the mmap and trim thresholds and the top pad keeps the blocks for reuse; they are
    set back to glibc's default values after. Elsewhere than glibc: nothing changes."""
    mallopt = _mallopt()
    if mallopt is None:
        yield
        return
    big = 32 * 1024 * 1024  # glibc's largest mmap threshold on 64-bit
    mallopt(_M_MMAP_THRESHOLD, big)
    mallopt(_M_TRIM_THRESHOLD, 2 * big)
    mallopt(_M_TOP_PAD, 2 * big)
    try:
        yield
    finally:
        mallopt(_M_MMAP_THRESHOLD, _DEFAULT_THRESHOLD)
        mallopt(_M_TRIM_THRESHOLD, _DEFAULT_THRESHOLD)
        mallopt(_M_TOP_PAD, _DEFAULT_THRESHOLD)


_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3  # mallopt parameters (malloc.h)
_DEFAULT_THRESHOLD = 128 * 1024


def _mallopt():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        return mallopt
    except (OSError, AttributeError):
        return None


# =========================================================================== summaries
def summarise(result: SweepResult, bins: int = HISTOGRAM_BINS) -> dict[str, Any]:
    """Percentiles, mean, spread and a histogram of each output, over the draws where it
    exists; ``na_share`` is the share of draws where it does not (n/a: an unknown figure, or a
    ratio of a zero base such as a margin without revenue)."""
    out: dict[str, Any] = {}
    for j, key in enumerate(result.outputs):
        x = result.values[j]
        finite = x[np.isfinite(x)]
        na_share = 1 - finite.size / x.size if x.size else 0.0
        if finite.size == 0:
            out[key] = {"finite": 0, "na_share": na_share}
            continue
        pct = np.percentile(finite, PERCENTILES)
        lo, hi = float(finite.min()), float(finite.max())
        counts, edges = np.histogram(finite, bins=bins, range=(lo, hi if hi > lo else lo + 1))
        out[key] = {
            **{f"p{p}": float(v) for p, v in zip(PERCENTILES, pct)},
            "mean": float(finite.mean()), "std": float(finite.std()),
            "min": lo, "max": hi, "finite": int(finite.size), "na_share": na_share,
            "histogram": {"edges": [float(e) for e in edges],
                          "counts": [int(c) for c in counts]},
        }
    return out


def _percentiles(x: np.ndarray) -> dict[str, Any]:
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return {"finite": 0}
    pct = np.percentile(finite, PERCENTILES)
    return {**{f"p{p}": float(v) for p, v in zip(PERCENTILES, pct)},
            "mean": float(finite.mean()), "finite": int(finite.size)}


def summarise_choices(result: SweepResult) -> dict[str, Any]:
    """Per drawn choice: each value's probability, its share of the draws, the scenarios behind
    it and the percentiles of every output over the draws that picked it."""
    out: dict[str, Any] = {}
    for j, c in enumerate(result.choices):
        picks = result.picks[j]
        per_value = {}
        for i, value in enumerate(c.values):
            mask = picks == i
            per_value[value] = {
                "probability": c.p[i], "share": float(mask.mean()) if result.n else 0.0,
                "draws": int(mask.sum()), "scenarios": list(c.scenarios[i]),
                "outputs": {key: _percentiles(result.values[k][mask])
                            for k, key in enumerate(result.outputs)}}
        out[c.key] = per_value
    return out


def text_histogram(stats: dict[str, Any], width: int = 50) -> str:
    """A horizontal bar histogram in plain text."""
    hist = stats["histogram"]
    counts = hist["counts"]
    edges = hist["edges"]
    top = max(counts) or 1
    lines = []
    for c, lo, hi in zip(counts, edges[:-1], edges[1:]):
        bar = "#" * int(round(width * c / top))
        lines.append(f"{lo:>12,.3f} – {hi:>12,.3f} | {bar:<{width}} {c:,}")
    return "\n".join(lines)


class ProgressBar:
    """A progress bar on stderr: tqdm when it is installed, else a plain one."""

    def __init__(self, total: int, stream=None):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        try:
            from tqdm import tqdm
        except ImportError:
            self._tqdm = None
        else:
            self._tqdm = tqdm(total=total, unit="scen", unit_scale=True, file=self.stream,
                              desc="sweep", leave=False)

    def __call__(self, k: int) -> None:
        self.done += k
        if self._tqdm is not None:
            self._tqdm.update(k)
            return
        filled = int(30 * self.done / self.total)
        self.stream.write(f"\rsweep [{'#' * filled}{'.' * (30 - filled)}] "
                          f"{self.done:,}/{self.total:,}")
        self.stream.flush()

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
        else:
            self.stream.write("\n")
            self.stream.flush()


def label_of(key: str, specs: dict[str, ModelSpec]) -> tuple[str, str]:
    """(label, unit) of an output key."""
    for spec in specs.values():
        for row in spec.rows:
            if key == row.key or key.startswith(row.key + "."):
                period = key[len(row.key) + 1:]
                return (f"{row.label} {period}".strip(), row.unit)
    return key, ""



# =========================================================================== report files
def report(result: SweepResult, sweep: Sweep, stats: dict[str, Any],
           swings: Tornado | None = None) -> dict[str, Any]:
    """The JSON written to ``sweep.json``: what was drawn, how, the distribution of each
    output and (with ``swings``) its tornado."""
    a = sweep.assumptions
    return {
        "n": result.n, "seed": result.seed, "chunk": CHUNK, "threads": result.threads,
        "seconds": result.seconds,
        "scenarios_per_second": result.n / result.seconds if result.seconds else None,
        "models": sweep.models, "scenarios": list(a.scenarios), "overrides": list(a.overrides),
        "assumptions_sha256": a.digest(),
        "drawn": [{"key": r.key, "dist": r.dist, "low": r.low.tolist(), "base": r.mode.tolist(),
                   "high": r.high.tolist(), "series": r.series,
                   "periods": list(a.periods(r.key.split(".")[0])) if r.series else None}
                  for r in result.ranged],
        "outputs": {key: {"label": label_of(key, sweep.specs)[0],
                          "unit": label_of(key, sweep.specs)[1], **stats[key]}
                    for key in result.outputs},
        "choices": {key: {"share": {v: d["share"] for v, d in per.items()},
                          "probability": {v: d["probability"] for v, d in per.items()},
                          "by_value": per}
                    for key, per in summarise_choices(result).items()},
        "choices_note": sweep.choices_note,
        **({"tornado": tornado_report(swings, a)} if swings is not None else {}),
    }


def summary_table(rep: dict[str, Any]) -> str:
    """Percentiles and mean of each output over the draws where it exists, one line each, and
    the share of draws where it is n/a (percentiles of the rest; a margin of no revenue is not
    0%)."""
    head = (f"{'output':<40} {'P5':>11} {'P25':>11} {'P50':>11} {'P75':>11} {'P95':>11} "
            f"{'mean':>11} {'n/a':>6}")
    lines = [head, "-" * len(head)]
    for key, s in rep["outputs"].items():
        if not s.get("finite"):
            lines.append(f"{key:<40} (n/a in every draw)")
            continue
        na = s.get("na_share", 0.0)
        lines.append(f"{key:<40} " + " ".join(f"{s[c]:>11,.3f}" for c in
                                              ("p5", "p25", "p50", "p75", "p95", "mean"))
                     + f" {na:>6.1%}")
    return "\n".join(lines)


def choices_table(rep: dict[str, Any]) -> str:
    """Per drawn choice value: probability, share of the draws, the first output's P5/P50/P95."""
    if not rep.get("choices"):
        return f"\nno choice drawn: {rep.get('choices_note')}"
    first = next(iter(rep["outputs"]))
    lines = []
    for key, c in rep["choices"].items():
        lines.append(f"\n{key} (drawn by the scenario probabilities); {first} given the value:")
        lines.append(f"{'value':<24} {'prob.':>7} {'share':>7} {'P5':>11} {'P50':>11} {'P95':>11}")
        for value, d in c["by_value"].items():
            st = d["outputs"][first]
            cells = " ".join(f"{st[q]:>11,.3f}" if st.get("finite") else f"{'-':>11}"
                             for q in ("p5", "p50", "p95"))
            lines.append(f"{value:<24} {d['probability']:>7.3f} {d['share']:>7.3f} {cells}")
    return "\n".join(lines)


def histogram_text(rep: dict[str, Any]) -> str:
    parts = []
    for key, s in rep["outputs"].items():
        if s.get("finite"):
            na = f" (n/a in {s['na_share']:.1%} of draws)" if s.get("na_share") else ""
            parts.append(f"{key} — {s['label']} ({s['unit']}), n = {s['finite']:,}{na}\n"
                         + text_histogram(s))
    return "\n\n".join(parts) + "\n"


def histogram_png(result: SweepResult, rep: dict[str, Any], path) -> None:
    """One panel per output: the histogram with P5/P50/P95 marked."""
    from models.plots import PALETTE, STYLE
    import matplotlib.pyplot as plt
    keys = [k for k, s in rep["outputs"].items() if s.get("finite")]
    cols = 2
    rows = max(1, math.ceil(len(keys) / cols))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(7.2, 2.3 * rows), dpi=100, squeeze=False)
        for ax, key in zip(axes.ravel(), keys):
            s = rep["outputs"][key]
            edges = np.array(s["histogram"]["edges"])
            ax.stairs(s["histogram"]["counts"], edges, fill=True, color=PALETTE[0], alpha=0.85)
            for p, style in (("p5", ":"), ("p50", "-"), ("p95", ":")):
                ax.axvline(s[p], color=PALETTE[1], linestyle=style, linewidth=1.2)
            na = f"; n/a in {s['na_share']:.0%}" if s.get("na_share") else ""
            ax.set_title(textwrap.fill(f"{s['label']} ({s['unit']}{na})", 48), fontsize=7.5)
            ax.set_yticks([])
        for ax in axes.ravel()[len(keys):]:
            ax.set_visible(False)
        fig.suptitle(f"Sweep of {result.n:,} scenarios (seed {result.seed}); "
                     "orange: P5, P50, P95", fontsize=9)
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=150)
        plt.close(fig)


# =========================================================================== tornado
@dataclass(frozen=True)
class TornadoBar:
    """One swept input moved from its low to its high, every other input at base."""

    key: str
    low: Any  # the input's low (a list for a series)
    high: Any
    at_low: dict[str, float | None]  # output key → value with this input at its low
    at_high: dict[str, float | None]

    def swing(self, output: str) -> float | None:
        lo, hi = self.at_low[output], self.at_high[output]
        return None if lo is None or hi is None else hi - lo


@dataclass
class Tornado:
    base: dict[str, float | None]  # output key → value with every input at base
    bars: list[TornadoBar]

    def ranked(self, output: str) -> list[TornadoBar]:
        """Bars by absolute swing of ``output``, largest first (unknown swings last)."""
        return sorted(self.bars, key=lambda b: -abs(b.swing(output) or 0.0))


def tornado(a: Assumptions, outputs: Sequence[str] | None = None,
            sweep: Sweep | None = None) -> Tornado:
    """The swing of each output when each swept input moves from its low to its high with the
    others at base, in one vectorised evaluation of 2 × inputs + 1 scenarios: scenario 2i has
    input i at its low, 2i + 1 at its high, the last every input at base."""
    sweep = sweep or plan(a, outputs)
    k = len(sweep.ranged)
    n = 2 * k + 1
    inputs = dict(sweep.constants)
    for i, r in enumerate(sweep.ranged):
        values = np.tile(r.mode, (n, 1))
        values[2 * i], values[2 * i + 1] = r.low, r.high
        inputs[r.key] = values
    env = evaluate_rows(sweep.rows, sweep.specs, inputs)
    columns = {key.key: key.take(env, n) for key in sweep.outputs}
    base = {o: finite_or_none(v[-1]) for o, v in columns.items()}
    bars = [TornadoBar(r.key, _plain(r.low, r.series), _plain(r.high, r.series),
                       {o: finite_or_none(v[2 * i]) for o, v in columns.items()},
                       {o: finite_or_none(v[2 * i + 1]) for o, v in columns.items()})
            for i, r in enumerate(sweep.ranged)]
    return Tornado(base, bars)


def _plain(values: np.ndarray, series: bool) -> Any:
    return values.tolist() if series else float(values[0])


def tornado_report(t: Tornado, a: Assumptions) -> dict[str, Any]:
    """``sweep.json``'s ``tornado``: per output, the base value and the bars by swing."""
    return {o: {"base": t.base[o],
                "bars": [{"key": b.key, "label": a[b.key].label, "low": b.low, "high": b.high,
                          "at_low": b.at_low[o], "at_high": b.at_high[o],
                          "swing": b.swing(o)} for b in t.ranked(o)]}
            for o in t.base}
