"""The risk picture of a run: what drives the price target and how it is distributed.

Both come from the sweep engine (:mod:`models.sweep`) on the run's own assumptions:

* the tornado: the target with each swept input at its low and at its high, every other input
  at base (one vectorised evaluation of 2 × inputs + 1 scenarios); swing = at high − at low;
* the distribution: :data:`DRAWS` draws (seed :data:`SEED`, so every build of the same
  assumptions shows the same numbers) from the assumption sheets' ranges.

They become outputs ``risk.tornado.<input>.{target_at_low,target_at_high,swing}`` and
``risk.distribution.{p5,…,p95,mean,n}`` (:func:`risk_outputs`), the workbook's ``Risk`` sheet
(values, labelled as computed by the engine: they do not recompute when the Inputs change) and
the valuation section's risk chart (:mod:`models.plots.risk`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from xlsxwriter.utility import xl_rowcol_to_cell

from models.engine import finite_or_none
from models.sweep import (PERCENTILES, Tornado, label_of, plan, run_sweep, summarise,
                          summarise_choices, tornado)

OUTPUT = "valuation.price_target"
DRAWS = 20_000
SEED = 0
SHEET = "Risk"
ENGINE_NOTE = ("Values computed by the engine (eqr sweep/tornado), not live formulas: they do "
               "not recompute when the Inputs change; rebuild (or run eqr sweep) to refresh.")


@dataclass
class Risk:
    output: str
    label: str
    unit: str
    tornado: Tornado
    stats: dict[str, Any]  # models.sweep.summarise of the output: percentiles, histogram
    n: int
    seed: int
    labels: dict[str, str]  # input key → its label on the Inputs sheet
    choices: dict[str, Any]  # models.sweep.summarise_choices: the choices drawn, by value

    def bars(self):
        return self.tornado.ranked(self.output)


def analyse(result, output: str = OUTPUT, n: int = DRAWS, seed: int = SEED) -> Risk | None:
    """The tornado and distribution of ``output`` for a run: None without the valuation model,
    or when the output rests on an unknown figure (every draw would be unknown too). A value
    set outside its sheet range (``--set``) widens the range to include it."""
    if output.split(".")[0] not in result.specs or result.outputs.get(output) is None:
        return None
    a = result.assumptions
    sweep = plan(a, [output], strict=False, specs=result.specs)  # the run's own models
    with np.errstate(all="ignore"):  # extreme (in-bounds) inputs may overflow: inf, not noise
        swings = tornado(a, sweep=sweep)
        drawn = run_sweep(a, n, seed, sweep=sweep, threads=1)
        stats = summarise(drawn)[output]
        choices = summarise_choices(drawn)
    label, unit = label_of(output, sweep.specs)
    labels = {b.key: a[b.key].label for b in swings.bars}
    return Risk(output, label, unit, swings, stats, n, seed, labels, choices)


def risk_outputs(risk: Risk) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for bar in risk.bars():
        prefix = f"risk.tornado.{bar.key}"
        out[f"{prefix}.target_at_low"] = bar.at_low[risk.output]
        out[f"{prefix}.target_at_high"] = bar.at_high[risk.output]
        out[f"{prefix}.swing"] = bar.swing(risk.output)
    for p in PERCENTILES:
        out[f"risk.distribution.p{p}"] = finite_or_none(risk.stats.get(f"p{p}"))
    out["risk.distribution.mean"] = finite_or_none(risk.stats.get("mean"))
    out["risk.distribution.n"] = float(risk.n)
    return out


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return " / ".join(f"{v:,.4g}" for v in value)
    return f"{value:,.6g}"


def sheet_writer(risk: Risk) -> Callable:
    """A callable for :func:`models.workbook.write_workbook`'s ``extra_sheets``."""

    def write(book, fmts, layout, result) -> dict[str, str]:
        return write_risk(book, fmts, risk)

    return write


def write_risk(book, fmts, risk: Risk) -> dict[str, str]:
    """The Risk sheet; its figures are :func:`risk_outputs`' (one definition each)."""
    from models.formats import excel_format
    values = risk_outputs(risk)
    from models.workbook import _text
    ws = book.add_worksheet(SHEET)
    grey = fmts.get(italic=True, font_color="#808080")
    head = fmts.get(bold=True, bottom=1, bg_color="#DDEBF7")
    money = fmts.get(num_format=excel_format(risk.unit),
                     font_color="#595959", bg_color="#F2F2F2")
    ws.set_column(0, 0, 52)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 3, 26)
    ws.set_column(4, 6, 15)
    _text(ws, 0, 0, f"Risk: what drives the {risk.label.lower()} and how it is distributed",
          fmts.get(bold=True, font_size=14))
    _text(ws, 1, 0, ENGINE_NOTE, grey)
    _text(ws, 2, 0, f"Base {risk.label.lower()}: {risk.tornado.base[risk.output]:,.2f} "
                    f"({risk.unit}). Tornado: each input at its low, then at its high (the "
                    "Inputs sheet's Low/High columns), every other input at base; series "
                    "move as a whole path (values listed by period).", grey)
    cells: dict[str, str] = {}
    r = 4
    for c, text in enumerate(["Input", "Key", "Low", "High", "Target at low",
                              "Target at high", "Swing (high − low)"]):
        _text(ws, r, c, text, head)
    for bar in risk.bars():
        r += 1
        _text(ws, r, 0, risk.labels[bar.key])
        _text(ws, r, 1, bar.key)
        _text(ws, r, 2, _shown(bar.low))
        _text(ws, r, 3, _shown(bar.high))
        for c, name in enumerate(("target_at_low", "target_at_high", "swing"), start=4):
            key = f"risk.tornado.{bar.key}.{name}"
            _number(ws, r, c, values[key], money)
            cells[key] = f"{SHEET}!{xl_rowcol_to_cell(r, c)}"
    r += 2
    _text(ws, r, 0, f"Distribution of the {risk.label.lower()}: {risk.n:,} draws from the "
                    f"assumption ranges (seed {risk.seed})", fmts.get(bold=True))
    stats = [(f"P{p}", f"p{p}") for p in PERCENTILES] + [("Mean", "mean")]
    for label, name in stats:
        r += 1
        _text(ws, r, 0, label)
        _number(ws, r, 4, values[f"risk.distribution.{name}"], money)
        cells[f"risk.distribution.{name}"] = f"{SHEET}!{xl_rowcol_to_cell(r, 4)}"
    for key, per in risk.choices.items():
        r += 1
        _text(ws, r, 0, f"{key} drawn by the scenario probabilities (share of draws; median "
                        "target given the value): " + "; ".join(
                            f"{v} {d['share']:.1%} ({d['outputs'][risk.output].get('p50', 0):,.2f})"
                            for v, d in per.items()), grey)
    r += 1
    _text(ws, r, 0, "Draws")
    ws.write_number(r, 4, values["risk.distribution.n"],
                    fmts.get(num_format="#,##0", font_color="#595959", bg_color="#F2F2F2"))
    cells["risk.distribution.n"] = f"{SHEET}!{xl_rowcol_to_cell(r, 4)}"
    hist = risk.stats.get("histogram")
    if hist:
        r += 2
        for c, text in enumerate(["Histogram bin", "", "", "", "From", "To", "Draws"]):
            _text(ws, r, c, text, head)
        for i, (lo, hi, count) in enumerate(zip(hist["edges"][:-1], hist["edges"][1:],
                                                hist["counts"])):
            r += 1
            _text(ws, r, 0, f"bin {i + 1}")
            _number(ws, r, 4, lo, money)
            _number(ws, r, 5, hi, money)
            ws.write_number(r, 6, count)
    ws.freeze_panes(5, 0)
    return cells


def _number(ws, r: int, c: int, v: float | None, fmt) -> None:
    if v is None:
        ws.write_formula(r, c, "=NA()", fmt, "#N/A")
    else:
        ws.write_number(r, c, v, fmt)
