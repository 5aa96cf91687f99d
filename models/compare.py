"""Scenarios side by side: several named scenarios evaluated in one build.

A compared scenario is the base sheets + its overlay(s) (``h20_terms``, or ``a+b`` to stack
overlays; ``base`` is no overlay) + the run's ``--set`` overrides. Each is evaluated through the
single-run engine; its headline outputs (``COMPARE_HEADLINES`` of each model module) become outputs
``scenarios.<name>.<output>`` and one column of the workbook's ``Scenarios`` sheet.

A column whose resolved assumptions equal the run's own is written as live formulas linking the
model sheets; the others compute live on sheets of their own from their own inputs
(:mod:`models.scenario_sheets`), or (when a scenario's models have other rows than the run's:
a choice that adds or drops line items) are values from separate evaluations and say so. The
probability-weighted price target is a live formula over the probability row (links to the
Inputs sheet) and the price-target row:

    weight_s = p_s / Σ p        (over the compared scenarios that have a probability)
    probability-weighted target = Σ weight_s × price_target_s
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from models.assumptions import (Assumptions, apply_override, apply_scenario,
                                available_scenarios, load_base)
from models.engine import MODEL_MODULES, Result, flat_outputs, run as run_models
from models.errors import EqrError
from models.registry import optional

BASE = "base"
WEIGHTED = "probability_weighted"
WEIGHTED_OUTPUT = "valuation.price_target"


def headlines() -> list[tuple[str, str]]:
    """(output key, label) declared by the model modules as ``COMPARE_HEADLINES`` (scalar
    outputs), in model order."""
    out: list[tuple[str, str]] = []
    for name in MODEL_MODULES:
        out.extend(optional(name, "COMPARE_HEADLINES", ()))
    return out


def parse_names(text: str | Iterable[str]) -> list[str]:
    """``"base,china_ban,bofa"`` → names; duplicates refused."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    names = [p.strip() for p in parts if p.strip()]
    if not names:
        raise EqrError("no scenarios to compare", key="--compare",
                       expected="comma-separated scenario names, e.g. base,china_ban,bofa",
                       found=text)
    seen = set()
    for n in names:
        if n in seen:
            raise EqrError("scenario named twice", key="--compare", found=n)
        seen.add(n)
    return names


def default_names(a: Assumptions, directory: Path | None = None) -> list[str]:
    """``base`` and every overlay in ``assumptions/scenarios`` that changes an assumption the
    headline outputs depend on (an overlay of an unrelated model would only repeat base)."""
    from models.assumptions import read_yaml, scenario_path
    from models.engine import build_specs
    from models.lineitems import model_closure
    specs = build_specs(a)
    relevant = set(model_closure(specs, sorted({k.split(".")[0] for k, _ in headlines()})))
    names = [BASE]
    for name in available_scenarios(directory):
        data = read_yaml(scenario_path(name, directory))
        keys = data.get("set", {}) if isinstance(data, dict) else {}
        if name != BASE and any(str(k).split(".")[0] in relevant for k in keys):
            names.append(name)
    return names


def resolve_scenarios(names: Sequence[str], overrides: Sequence[str] = (),
                      directory: Path | None = None, force: bool = False
                      ) -> dict[str, Assumptions]:
    """Each name's assumptions: base sheets, its overlay(s), then the run's ``--set``."""
    base = load_base(directory, force=force)
    out: dict[str, Assumptions] = {}
    for name in names:
        a = base.copy()
        for overlay in ([] if name == BASE else name.split("+")):
            a = apply_scenario(a, overlay, directory, force=force)
        for text in overrides:
            a = apply_override(a, text, force=force)
        out[name] = a
    return out


@dataclass
class Column:
    name: str
    description: str
    live: bool
    values: dict[str, float]  # headline key → value
    probability_key: str | None  # the assumption holding its probability, if any
    result: Result | None = field(default=None, repr=False)  # the scenario's own evaluation
    own_sheets: bool = False  # computed live on sheets of its own (models.scenario_sheets)
    label: str = ""  # the short column label (overlay_texts)


@dataclass
class Comparison:
    """The compared scenarios' headline values and the probability-weighted target."""

    headlines: list[tuple[str, str]]
    columns: list[Column]
    probabilities: dict[str, float] = field(default_factory=dict)  # name → p (run's values)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def weights(self) -> dict[str, float]:
        """Probabilities renormalised over the compared scenarios that have one."""
        total = sum(self.probabilities.values())
        return {n: (p / total if total else 0.0) for n, p in self.probabilities.items()}

    def weighted(self, key: str = WEIGHTED_OUTPUT) -> float | None:
        """The probability-weighted value; None without probabilities, or when a weighted
        scenario's value rests on an unknown figure (then the target is unknown too)."""
        if not self.probabilities:
            return None
        by_name = {c.name: c for c in self.columns}
        values = [(w, by_name[n].values[key]) for n, w in self.weights().items()]
        if any(v is None for _, v in values):
            return None
        return sum(w * v for w, v in values)

    def outputs(self) -> dict[str, float]:
        """``scenarios.<name>.<output>``, ``scenarios.<name>.probability`` and the weighted
        target ``scenarios.probability_weighted.valuation.price_target``."""
        out: dict[str, float] = {}
        for col in self.columns:
            for key, _ in self.headlines:
                out[f"scenarios.{col.name}.{key}"] = col.values[key]
        for name, w in self.weights().items():
            out[f"scenarios.{name}.probability"] = self.probabilities[name]
            out[f"scenarios.{name}.weight"] = w
        if self.probabilities:  # null when it rests on an unknown figure
            out[f"scenarios.{WEIGHTED}.{WEIGHTED_OUTPUT}"] = self.weighted()
        return out


def overlay_texts(name: str, directory: Path) -> tuple[str, str]:
    """A scenario's short column label and its description, from one read of each overlay:
    the overlay's ``label`` (its name if it has none) and ``description``, joined for stacked
    overlays ("China ban + Levy contra"; "...; ...")."""
    if name == BASE:
        return "Base", "base assumption sheets"
    from models.assumptions import read_yaml, scenario_path
    labels, texts = [], []
    for overlay in name.split("+"):
        data = read_yaml(scenario_path(overlay, directory))
        labels.append(str(data.get("label") or overlay))
        texts.append(str(data.get("description", overlay)))
    return " + ".join(labels), "; ".join(texts)


def scenario_folder(result: Result) -> Path:
    """The folder the run's assumption sheets came from (its ``scenarios/`` holds overlays)."""
    return Path(next(iter(result.assumptions.sheets.values())).file).parent


def same_structure(run_result: Result, scenario_result: Result) -> bool:
    """Do the scenario's models have the run's rows and periods (so the run's formulas, fed
    the scenario's inputs, compute the scenario)?"""
    for model, spec in run_result.specs.items():
        other = scenario_result.specs.get(model)
        if other is None or other.periods != spec.periods:
            return False
        if [r.key for r in other.rows] != [r.key for r in spec.rows]:
            return False
    return True


def compare(result: Result, scenarios: dict[str, Assumptions],
            directory: Path | None = None) -> Comparison:
    """Evaluate each scenario and collect its headline outputs. ``directory`` (for the
    overlays' descriptions) defaults to the folder the run's assumption sheets came from."""
    if directory is None:
        directory = scenario_folder(result)
    from models.valuation import PROBABILITY_PREFIX
    keys = headlines()
    main_digest = result.assumptions.digest()
    columns = []
    for name, a in scenarios.items():
        live = a.digest() == main_digest
        single = result if live else run_models(a, like=result)  # unchanged models reused
        values = flat_outputs(single.specs, single.env, keys=[k for k, _ in keys])  # no grids
        missing = [k for k, _ in keys if k not in values]
        if missing:
            raise EqrError(f"scenario {name} has no output {missing[0]}")
        prob_key = f"valuation.{PROBABILITY_PREFIX}{name}"
        label, description = overlay_texts(name, directory)
        columns.append(Column(name, description, live, {k: values[k] for k, _ in keys},
                              prob_key if prob_key in result.assumptions.items else None,
                              single, not live and same_structure(result, single), label))
    probabilities = {c.name: float(result.assumptions.value(c.probability_key))
                     for c in columns if c.probability_key}
    for name, p in probabilities.items():
        if not math.isfinite(p):
            raise EqrError("bad scenario probability", key=f"valuation.probability_{name}",
                           found=p)
    return Comparison(keys, columns, probabilities)
