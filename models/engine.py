"""Builds every model's line items from the assumptions and evaluates them.

The models run in the order of :data:`models.registry.MODELS` (a model may link to the rows of
any model before it); the registry states what a model module provides.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from models.assumptions import Assumptions
from models.errors import EqrError
from models.expects import check_outputs
from models.headlines import headlines
from models.lineitems import (Env, ModelBuilder, ModelSpec, Row, batch_inputs, dependency_table,
                              evaluate_rows_of, evaluate_spec)

from models.registry import MODELS as MODEL_MODULES, model_module  # noqa: F401 (re-exported)


@dataclass
class Result:
    """One evaluated run: the model definitions, every row's values, and the flat outputs."""

    assumptions: Assumptions
    specs: dict[str, ModelSpec]
    env: Env
    _grids: dict | None = None
    _outputs: dict | None = None
    _row_reads: dict | None = None  # see _row_reads()

    @property
    def line_outputs(self) -> dict[str, float]:
        """The line items' outputs only (no sensitivity grids, which cost a batch run each)."""
        return flat_outputs(self.specs, self.env)

    @property
    def outputs(self) -> dict[str, float]:
        """Every output: the line items' and each sensitivity grid's (axes and values); a new
        dict each time (callers add to it), computed once."""
        if self._outputs is None:
            out = flat_outputs(self.specs, self.env)
            from models.grids import all_grids, grid_outputs
            for grid in all_grids(self.specs):
                out.update(grid_outputs(grid, self.grid_values[grid.key]))
            self._outputs = out
        return dict(self._outputs)

    @property
    def grid_values(self) -> dict[str, np.ndarray]:
        """Each sensitivity grid's values (rows × columns), computed once."""
        if self._grids is None:
            from models.grids import all_grid_values
            self._grids = all_grid_values(self.assumptions, self.specs)
        return self._grids

    def value(self, key: str, period: str | None = None) -> Any:
        model, _, name = key.partition(".")
        spec = self.specs[model]
        arr = self.env.get(key)
        if period is None:
            return arr[0, 0] if arr.shape[-1] == 1 and not spec.row(name).series else arr[0]
        return arr[0, spec.periods.index(period)]


def build_specs(a: Assumptions, reuse: Callable[[str, dict], ModelSpec | None] | None = None
                ) -> dict[str, ModelSpec]:
    """Define every model's rows (structure only; no values yet). ``reuse(name, specs so far)``
    may give a model's rows already defined from the same inputs (see :func:`run`)."""
    specs: dict[str, ModelSpec] = {}
    for name in MODEL_MODULES:
        if name not in a.sheets:
            raise EqrError(f"no assumption sheet for model {name!r}", key=name,
                           expected=f"assumptions/{name}.yaml (a sheet with 'model: {name}')")
        reused = reuse(name, specs) if reuse else None
        if reused is not None:
            specs[name] = reused
            continue
        module = model_module(name)
        builder = ModelBuilder(name, module.TITLE, a.periods(name), a, specs,
                               description=module.DESCRIPTION)
        module.define(builder)
        specs[name] = builder.spec
    if a.declared:  # the overlays' ``expects`` name headline outputs of these models
        names = {h.output for h in headlines(specs)}
        for declared in a.declared.values():
            check_outputs(declared, names)
    return specs


def evaluate(a: Assumptions, specs: dict[str, ModelSpec] | None = None,
             inputs: dict[str, Any] | None = None, n: int = 1) -> Result:
    """Evaluate all models; ``inputs`` (arrays of N rows) lets the sweep run N scenarios."""
    specs = specs or build_specs(a)
    env = Env(inputs if inputs is not None else batch_inputs(a, n), specs)
    for spec in specs.values():
        evaluate_spec(spec, env, n)
    return Result(a, specs, env)


def run(a: Assumptions, like: Result | None = None) -> Result:
    """Evaluate ``a``. With ``like`` (an evaluated single run of other assumptions: the build's
    own run when comparing scenarios), the same numbers come out, with less work: a model whose
    definition cannot come out differently (:func:`_reusable`) keeps ``like``'s rows, and each of
    its rows that reads no changed assumption and no recomputed row keeps ``like``'s values."""
    if like is None or any(v.shape[0] != 1 for v in list(like.env.values.values())[:1]):
        return evaluate(a)  # nothing to reuse, or not a single run
    changed = _changed_inputs(a, like.assumptions)

    def reuse(name: str, specs: dict[str, ModelSpec]) -> ModelSpec | None:
        return like.specs[name] if _reusable(name, a, specs, like, changed) else None

    specs = build_specs(a, reuse=reuse)
    env = Env(batch_inputs(a, 1), specs)
    reads = _row_reads(like)
    dirty: set[str] = set()  # rows whose value may differ from like's
    for name, spec in specs.items():
        if spec is not like.specs.get(name):
            evaluate_spec(spec, env, 1)
            dirty.update(row.key for row in spec.rows)
            continue
        for row in spec.rows:
            inputs, rows = reads[row.key]
            if inputs.isdisjoint(changed) and rows.isdisjoint(dirty):
                env.values[row.key] = like.env.values[row.key]  # same row, same inputs
            else:
                evaluate_rows_of(spec, [row], env, 1)
                dirty.add(row.key)
    return Result(a, specs, env)


def _changed_inputs(a: Assumptions, other: Assumptions) -> set[str]:
    """Assumption keys whose item differs (or exists in only one of the two)."""
    mine, theirs = a.items, other.items
    out = {k for k, item in mine.items() if theirs.get(k) != item}
    out.update(k for k in theirs if k not in mine)
    return out


def _reusable(name: str, a: Assumptions, specs: dict[str, ModelSpec], like: Result,
              changed: set[str]) -> bool:
    """Would ``define`` give model ``name`` the rows it has in ``like``? A definition reads its
    own assumptions and those of the earlier models it looks at (links, rolls up, takes a grid
    axis from: :attr:`ModelSpec.reads`; ``tests/test_compare.py`` checks that no definition
    reads another sheet), and those models' rows. It does if none of those assumptions (nor
    their sheets) changed and every model it looks at has the same shape (rows, labels, units,
    periods, grids) as in ``like``."""
    spec = like.specs.get(name)
    if spec is None:
        return False
    looked_at = {name, *spec.reads}
    if any(a.sheets.get(m) != like.assumptions.sheets.get(m) for m in looked_at) or \
            any(k.split(".", 1)[0] in looked_at for k in changed):
        return False
    return all(specs[m] is like.specs[m] or _shape(specs[m]) == _shape(like.specs[m])
               for m in spec.reads)


def _shape(spec: ModelSpec) -> tuple:
    """Everything of a model another model's ``define`` can see, but its rows' expressions."""
    return (spec.name, spec.title, spec.periods, spec.description, tuple(
        (type(i).__name__, i.title) if not isinstance(i, Row) else
        (i.key, i.label, i.unit, i.series, i.kind, i.fmt, i.note, i.tolerance)
        for i in spec.items), tuple(g.key for g in spec.grids))


def _row_reads(result: Result) -> dict[str, tuple[frozenset, frozenset]]:
    """Row key → (assumption keys, row keys) it reads directly, for ``result``'s specs (once)."""
    if result._row_reads is None:
        result._row_reads = {key: (inputs, rows)
                             for key, inputs, rows in dependency_table(result.specs)}
    return result._row_reads


def flat_outputs(specs: dict[str, ModelSpec], env: Env, scenario: int = 0,
                 keys=None) -> dict[str, float | None]:
    """``model.item.PERIOD`` (series) and ``model.item`` (scalars) → number, for one scenario.

    Text rows (a linked choice such as the levy treatment) are not numbers and are left out;
    they are assumptions and are listed in the manifest. A value that rests on an unknown
    figure is ``None`` (``null`` in outputs.json, ``#N/A`` on the workbook). With ``keys``, only
    the rows that can give one of those outputs are read (all of their outputs are returned).
    """
    rows = None if keys is None else {k for key in keys for k in (key, key.rpartition(".")[0])}
    out: dict[str, float | None] = {}
    for spec in specs.values():
        for row in spec.rows:
            if rows is not None and row.key not in rows:
                continue  # only ``keys`` asked for: a row that cannot give one
            values = env.get(row.key)[scenario]
            if values.dtype == object:
                continue
            if row.series:
                for period, v in zip(spec.periods, values.tolist()):
                    out[f"{row.key}.{period}"] = finite_or_none(v)
            else:
                out[row.key] = finite_or_none(values[0])
    return out


def finite_or_none(v: Any) -> float | None:
    """A value as a float, or None where it is missing or not finite (an unknown figure)."""
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None
