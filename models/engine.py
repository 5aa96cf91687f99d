"""Builds every model's line items from the assumptions and evaluates them.

The models run in the order of :data:`models.registry.MODELS` (a model may link to the rows of
any model before it); the registry states what a model module provides.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from models.assumptions import Assumptions
from models.errors import EqrError
from models.expects import check_outputs
from models.headlines import headlines
from models.lineitems import Env, ModelBuilder, ModelSpec, batch_inputs, evaluate_spec

from models.registry import MODELS as MODEL_MODULES, model_module  # noqa: F401 (re-exported)


@dataclass
class Result:
    """One evaluated run: the model definitions, every row's values, and the flat outputs."""

    assumptions: Assumptions
    specs: dict[str, ModelSpec]
    env: Env
    _grids: dict | None = None

    @property
    def line_outputs(self) -> dict[str, float]:
        """The line items' outputs only (no sensitivity grids, which cost a batch run each)."""
        return flat_outputs(self.specs, self.env)

    @property
    def outputs(self) -> dict[str, float]:
        """Every output: the line items' and each sensitivity grid's (axes and values)."""
        out = flat_outputs(self.specs, self.env)
        from models.grids import all_grids, grid_outputs
        for grid in all_grids(self.specs):
            out.update(grid_outputs(grid, self.grid_values[grid.key]))
        return out

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


def build_specs(a: Assumptions) -> dict[str, ModelSpec]:
    """Define every model's rows (structure only; no values yet)."""
    specs: dict[str, ModelSpec] = {}
    for name in MODEL_MODULES:
        if name not in a.sheets:
            raise EqrError(f"no assumption sheet for model {name!r}", key=name,
                           expected=f"assumptions/{name}.yaml (a sheet with 'model: {name}')")
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


def run(a: Assumptions) -> Result:
    return evaluate(a)


def flat_outputs(specs: dict[str, ModelSpec], env: Env,
                 scenario: int = 0) -> dict[str, float | None]:
    """``model.item.PERIOD`` (series) and ``model.item`` (scalars) → number, for one scenario.

    Text rows (a linked choice such as the levy treatment) are not numbers and are left out;
    they are assumptions and are listed in the manifest. A value that rests on an unknown
    figure is ``None`` (``null`` in outputs.json, ``#N/A`` on the workbook).
    """
    out: dict[str, float | None] = {}
    for spec in specs.values():
        for row in spec.rows:
            values = env.get(row.key)[scenario]
            if values.dtype == object:
                continue
            if row.series:
                for period, v in zip(spec.periods, values):
                    out[f"{row.key}.{period}"] = finite_or_none(v)
            else:
                out[row.key] = finite_or_none(values[0])
    return out


def finite_or_none(v: Any) -> float | None:
    """A value as a float, or None where it is missing or not finite (an unknown figure)."""
    if v is None:
        return None
    f = float(v)
    return f if np.isfinite(f) else None
