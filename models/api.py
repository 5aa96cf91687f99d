"""A Python API for notebooks: the runs the CLI makes, as pandas objects (issue 19).

    >>> from models import api as eqr
    >>> run = eqr.run(scenarios=["china_open"], overrides={"china.levy_rate": 0.15})
    >>> run.value("valuation.price_target")            # doctest: +SKIP
    >>> run.frame("nvda").loc["revenue", "Q3FY2027"]   # doctest: +SKIP

Nothing is written until :meth:`Run.write`, which writes exactly the run folder
``eqr build --out DIR`` writes (the CLI's ``build`` calls the same functions). Bad input raises
:class:`EqrError` with the CLI's message (file/line or key, expected, found), never
``SystemExit``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from models.assumptions import Assumptions, resolve
from models.paths import assumptions_dir
from models.engine import Result, finite_or_none
from models.errors import EqrError

__all__ = ["EqrError", "Run", "run", "compare", "assumptions", "sweep", "diff"]


def _override_texts(overrides: Mapping[str, Any] | None) -> list[str]:
    """``{"china.levy_rate": 0.15}`` → ``["china.levy_rate=0.15"]``: the same text ``--set``
    takes, so the same checks and messages apply."""
    out = []
    for key, value in (overrides or {}).items():
        text = value if isinstance(value, str) else repr(value)
        out.append(f"{key}={text}")
    return out


@dataclass
class Run:
    """One evaluated run, nothing written: outputs, tables per model, and the assumptions."""

    assumptions: Assumptions
    result: Result
    compare_names: Sequence[str] | None = None  # None: the CLI's default comparison
    _outputs: dict | None = field(default=None, repr=False)

    @property
    def outputs(self) -> dict[str, float | None]:
        """The flat mapping of ``outputs.json`` for this run's own figures (``model.row`` and
        ``model.row.PERIOD``; sensitivity grids included; scenario columns only after
        :meth:`write`)."""
        if self._outputs is None:
            self._outputs = self.result.outputs
        return self._outputs

    def value(self, key: str, period: str | None = None) -> float | None:
        """One output: ``value("valuation.price_target")``, ``value("nvda.revenue",
        "Q3FY2027")`` or ``value("nvda.revenue.Q3FY2027")``."""
        name = f"{key}.{period}" if period else key
        if name not in self.outputs:
            from models.errors import did_you_mean
            raise EqrError("unknown output", key=name, hint=did_you_mean(name, self.outputs))
        return self.outputs[name]

    def frame(self, model: str) -> pd.DataFrame:
        """A model's line items: index = row names, columns = its periods (a scalar row has
        its value in every column's place under ``value``), with ``label`` and ``unit``
        columns in ``.attrs`` and as the first two columns."""
        specs = self.result.specs
        if model not in specs:
            from models.errors import did_you_mean
            raise EqrError("unknown model", key=model, expected=f"one of {list(specs)}",
                           hint=did_you_mean(model, specs))
        spec = specs[model]
        records = []
        for row in spec.rows:
            values = self.result.env.get(row.key)[0]
            text = values.dtype == object
            if not row.series:
                cells = {"value": values[0] if text else finite_or_none(values[0])}
            else:
                cells = {p: v if text else finite_or_none(v) for p, v in zip(spec.periods, values)}
            records.append({"row": row.name, "label": row.label, "unit": row.unit, **cells})
        frame = pd.DataFrame.from_records(records).set_index("row")
        columns = ["label", "unit", *(["value"] if "value" in frame else []), *spec.periods]
        frame = frame.reindex(columns=columns)
        frame.attrs["model"], frame.attrs["title"] = model, spec.title
        return frame

    def write(self, out: str | Path, pdf: bool = True, paper: str = "a4",
              templates: str | Path | None = None) -> Path:
        """Write the run folder ``eqr build --out OUT`` writes (the same function)."""
        from models.runs import write_run
        return write_run(self.assumptions, out=Path(out), pdf=pdf, paper=paper,
                         templates_dir=Path(templates) if templates else None,
                         scenarios=_comparison(self.assumptions, self.compare_names))

    def _repr_html_(self) -> str:
        a = self.assumptions
        head = [("scenarios", ", ".join(a.scenarios) or "base"),
                ("overrides", ", ".join(a.overrides) or "none")]
        for key in ("valuation.price_target", "valuation.upside", "valuation.eps_target",
                    "valuation.dcf_value_per_share"):
            if key in self.outputs and self.outputs[key] is not None:
                head.append((key, f"{self.outputs[key]:,.4g}"))
        rows = "".join(f"<tr><th style='text-align:left'>{_html(k)}</th><td>{_html(v)}</td></tr>"
                       for k, v in head)
        return f"<table><caption>eqr run</caption>{rows}</table>"


def _html(text: Any) -> str:
    import html
    return html.escape(str(text))


def _comparison(a: Assumptions, names: Sequence[str] | None) -> dict:
    """The scenarios compared side by side, as ``eqr build`` picks them (``--compare``)."""
    from models.compare import default_names, resolve_scenarios
    if names is not None and not names:
        return {}
    directory = assumptions_dir()
    chosen = list(names) if names is not None else default_names(a, directory)
    return resolve_scenarios(chosen, a.overrides, directory)


def run(scenarios: Iterable[str] = (), overrides: Mapping[str, Any] | None = None,
        workbook: str | Path | None = None, compare: Sequence[str] | None = None) -> Run:
    """Resolve the sheets, overlays and overrides (or read a workbook's edits) and evaluate.

    ``compare`` lists the scenarios :meth:`Run.write` puts side by side (``[]`` for none; by
    default the CLI's). Raises :class:`EqrError` for bad input.
    """
    from models.runs import prepare_run
    texts = _override_texts(overrides)
    if workbook is not None:
        from models.readback import read_back
        a = read_back(Path(workbook), scenarios=list(scenarios), overrides=texts).assumptions
    else:
        a = resolve(list(scenarios), texts)
    return Run(a, prepare_run(a), compare)


def compare(scenarios: Sequence[str] = ("base",), overrides: Mapping[str, Any] | None = None
            ) -> pd.DataFrame:
    """Headline outputs × scenarios (the Scenarios sheet's content), e.g.
    ``compare(["base", "nvda_bear", "nvda_bull"])``; ``a+b`` stacks overlays."""
    from models.compare import compare as compare_scenarios, resolve_scenarios
    from models.engine import run as run_models
    texts = _override_texts(overrides)
    directory = assumptions_dir()
    resolved = resolve_scenarios(list(scenarios), texts, directory)
    comparison = compare_scenarios(run_models(resolve((), texts)), resolved, directory)
    frame = pd.DataFrame({c.name: c.values for c in comparison.columns})
    frame.insert(0, "label", [label for _, label in comparison.headlines])
    return frame


def assumptions(scenarios: Iterable[str] = (), overrides: Mapping[str, Any] | None = None,
                model: str | None = None) -> pd.DataFrame:
    """Every resolved assumption: key, value, unit, source, who set it, its range, and whether
    it reaches any result under the current choices (``active``)."""
    from models.effects import inactive_inputs
    from models.engine import run as run_models
    a = resolve(list(scenarios), _override_texts(overrides))
    result = run_models(a)
    inactive = {i.key for i in inactive_inputs(result, list(a.items)) if i.switches}
    rows = []
    for key, item in a.items.items():
        if model and item.model != model:
            continue
        rows.append({"key": key, "value": item.value, "unit": item.unit, "source": item.source,
                     "set_by": item.set_by, "low": item.low, "high": item.high,
                     "active": key not in inactive})
    return pd.DataFrame(rows).set_index("key")


@dataclass
class SweepResult:
    """A sweep's summary (percentiles per output) and, on request, its draws."""

    summary: pd.DataFrame
    draws: pd.DataFrame | None = None


def sweep(n: int, seed: int = 0, outputs: Sequence[str] | None = None,
          scenarios: Iterable[str] = (), overrides: Mapping[str, Any] | None = None,
          keep_draws: bool = False) -> SweepResult:
    """Monte Carlo over the assumptions' low/high ranges, as ``eqr sweep``: percentiles and
    mean over the draws where an output exists (NaN where it exists in none), and ``n/a
    share``, the share of draws where it does not (a margin of no revenue)."""
    from models.sweep import PERCENTILES, run_sweep, summarise
    a = resolve(list(scenarios), _override_texts(overrides))
    result = run_sweep(a, n, seed, list(outputs) if outputs else None)
    stats = summarise(result)
    nan = float("nan")
    summary = pd.DataFrame({k: {**{f"P{p}": s.get(f"p{p}", nan) for p in PERCENTILES},
                                "mean": s.get("mean", nan), "n/a share": s["na_share"]}
                            for k, s in stats.items()}).T
    draws = pd.DataFrame(result.values.T, columns=result.outputs) if keep_draws else None
    return SweepResult(summary, draws)


def diff(run_a: str | Path, run_b: str | Path, outputs: Sequence[str] = ()) -> pd.DataFrame:
    """What changed between two run folders and why (as ``eqr diff``): one row per headline
    output and each changed assumption's Shapley share of its change, plus ``other`` (model or
    sheet version) and the recorded values. RUN is a folder, a run name or ``latest``."""
    from models.diff import compute, is_gap, player_label
    from models.reproduce import load_run
    d = compute(load_run(str(run_a)), load_run(str(run_b)), extra_outputs=list(outputs))
    records = []
    for row in d.rows:
        record = {"output": row.headline.output, "A": row.a, "B": row.b,
                  "change": row.change, "other": row.other}
        for key, share in zip(d.players, row.shapley):
            record[player_label(d, key)] = float(share)
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    frame.attrs["notes"] = list(d.notes)
    # n/a in A or B, or in a mix between them (e.g. a margin without revenue): NaN shares
    frame.attrs["not_attributed"] = [r.headline.output for r in d.rows if is_gap(r)]
    return frame.set_index("output") if records else frame
