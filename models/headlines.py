"""Headline outputs: the few figures a diff (and a reader) looks at first.

Each model module may declare ``HEADLINES``, a tuple of its own row names (``"gross_profit"``);
a series row stands for one output per period (``china.gross_profit.CY2026``), ``row.PERIOD``
for that period only, a scalar row for one output (``valuation.fair_value``). A model without ``HEADLINES`` has none. This module only
collects them in model order, so a new model adds its headlines in its own file.
"""
from __future__ import annotations

from dataclasses import dataclass

from models.errors import EqrError
from models.lineitems import ModelSpec, find_output
from models.registry import optional


@dataclass(frozen=True)
class Headline:
    """One headline output: its name in outputs.json, its row, unit and period (or None)."""

    output: str
    row: str          # ``model.row``
    label: str
    unit: str
    period: str | None


def declared(model: str) -> tuple[str, ...]:
    """The row names a model module lists in ``HEADLINES`` (empty if it lists none)."""
    names = optional(model, "HEADLINES", ())
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise EqrError(f"models/{model}.py: HEADLINES must be a tuple of row names",
                       found=names)
    return tuple(names)


def rows_to_outputs(spec: ModelSpec, names: tuple[str, ...]) -> list[Headline]:
    """Expand row names of one model into per-period headline outputs; ``row.PERIOD`` names
    one period of a series row (a model with many periods picks the year that matters)."""
    out: list[Headline] = []
    for name in names:
        name, _, period = name.partition(".")
        try:
            row = spec.row(name)
        except KeyError:
            raise EqrError(f"models/{spec.name}.py lists a headline that is not one of its rows",
                           key=f"{spec.name}.{name}",
                           expected=f"a row of {spec.name}") from None
        if period and (not row.series or period not in spec.periods):
            raise EqrError(f"models/{spec.name}.py lists a headline period it does not have",
                           key=f"{spec.name}.{name}.{period}",
                           expected=f"a series row and one of {list(spec.periods)}")
        if row.series:
            out += [Headline(f"{row.key}.{p}", row.key, row.label, row.unit, p)
                    for p in spec.periods if not period or p == period]
        else:
            out.append(Headline(row.key, row.key, row.label, row.unit, None))
    return out


def headlines(specs: dict[str, ModelSpec]) -> list[Headline]:
    """Every model's headline outputs, in model order then in the order each model lists."""
    out: list[Headline] = []
    for model, spec in specs.items():
        out += rows_to_outputs(spec, declared(model))
    return out


def outputs_for(specs: dict[str, ModelSpec], names: list[str]) -> list[Headline]:
    """Headlines for names given by a user: ``model.row`` (every period) or an output name."""
    out: list[Headline] = []
    for name in names:
        model, _, rest = name.partition(".")
        spec = specs.get(model)
        if spec is None or not rest:
            raise EqrError("unknown output", key=name,
                           expected=f"model.row[.PERIOD] with a model in {list(specs)}")
        match = find_output(specs, name)
        rows = [r.name for r in spec.rows]
        if match is None:
            from models.errors import did_you_mean
            head, _, period = rest.rpartition(".")
            if head in rows and spec.row(head).series:
                raise EqrError("unknown period", key=name,
                               expected=f"one of {list(spec.periods)}", found=period)
            raise EqrError("unknown output", key=name, expected=f"a row of model {model}",
                           hint=did_you_mean(rest, rows))
        row, period = match
        found = [Headline(f"{row.key}.{p}", row.key, row.label, row.unit, p)
                 for p in spec.periods if p == period or period is None] if row.series \
            else [Headline(row.key, row.key, row.label, row.unit, None)]
        out += found
    return out
