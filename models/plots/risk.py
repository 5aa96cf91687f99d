"""The risk chart (not a model's charts: drawn from :class:`models.risk.Risk` by the build).

Left: the tornado of the price target — each input from its low to its high, the others at
base (outputs ``risk.tornado.<input>.*``). Right: the sweep's distribution of the target with the
base, bear/bull (scenarios ``nvda_bear``/``nvda_bull``, when compared) and probability-weighted
targets marked. The title says what to conclude.
"""
from __future__ import annotations

import textwrap

import numpy as np

from models.plots import PALETTE, Chart

KEY = "valuation.risk"
BARS = 8
BEAR, BULL = "nvda_bear", "nvda_bull"


def marks(risk, outputs: dict[str, float]) -> list[tuple[str, float, str, str]]:
    """(label, value, colour, line style) of the targets marked on the distribution."""
    out = [("base", outputs[risk.output], PALETTE[0], "-")]
    for name, label in ((BEAR, "bear"), (BULL, "bull")):
        v = outputs.get(f"scenarios.{name}.{risk.output}")
        if v is not None:
            out.append((label, v, PALETTE[5] if name == BEAR else PALETTE[2], "--"))
    weighted = outputs.get(f"scenarios.probability_weighted.{risk.output}")
    if weighted is not None:
        out.append(("probability-weighted", weighted, PALETTE[3], ":"))
    return out


def title(risk, outputs: dict[str, float]) -> str:
    bars = [b for b in risk.bars() if outputs.get(f"risk.tornado.{b.key}.swing") is not None]
    p5, p95 = outputs.get("risk.distribution.p5"), outputs.get("risk.distribution.p95")
    parts = []
    if bars:
        top = bars[0]
        swing = abs(outputs[f"risk.tornado.{top.key}.swing"])
        parts.append(f"{risk.labels[top.key]} moves the target most (${swing:,.0f} from "
                     "its low to its high)")
    if p5 is not None and p95 is not None:
        parts.append(f"90% of {risk.n:,} draws lie between ${p5:,.0f} and ${p95:,.0f}")
    return "; ".join(parts) or "Price target risk"


def chart(risk, outputs: dict[str, float]) -> Chart:
    fig, (left, right) = _axes()
    bars = [b for b in risk.bars()[:BARS]
            if outputs.get(f"risk.tornado.{b.key}.swing") is not None][::-1]
    base = outputs[risk.output]
    used = [risk.output]
    for i, b in enumerate(bars):
        lo = outputs[f"risk.tornado.{b.key}.target_at_low"]
        hi = outputs[f"risk.tornado.{b.key}.target_at_high"]
        left.barh(i, lo - base, left=base, color=PALETTE[5], height=0.6)
        left.barh(i, hi - base, left=base, color=PALETTE[2], height=0.6)
        used += [f"risk.tornado.{b.key}.target_at_low", f"risk.tornado.{b.key}.target_at_high"]
    left.axvline(base, color="black", linewidth=0.8)
    left.set_yticks(range(len(bars)))
    left.set_yticklabels([textwrap.shorten(risk.labels[b.key], 46) for b in bars], fontsize=6.5)
    left.set_xlabel("Price target; red: input at its low, green: at its high", fontsize=6.5)
    hist = risk.stats.get("histogram")
    if hist:
        edges = np.array(hist["edges"])
        right.stairs(hist["counts"], edges, fill=True, color=PALETTE[4], alpha=0.9)
        right.set_ylim(0, 1.6 * max(max(hist["counts"]), 1))  # headroom for the legend
    for label, value, colour, style in marks(risk, outputs):
        right.axvline(value, color=colour, linestyle=style, linewidth=1.4,
                      label=f"{label} \\${value:,.0f}")
    right.set_yticks([])
    right.set_xlabel(f"Price target, {risk.n:,} draws (seed {risk.seed})", fontsize=6.5)
    right.legend(fontsize=6, frameon=True, framealpha=0.9, loc="upper right")
    text = title(risk, outputs)
    fig.suptitle(textwrap.fill(text.replace("$", r"\$"), 88), fontsize=8.5,
                 fontweight="bold")
    used += [f"risk.distribution.p{p}" for p in (5, 95)]
    return Chart("valuation", "risk", text, "Risk", fig, used)


def _axes():
    import matplotlib.pyplot as plt
    from models.plots import STYLE
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.0), dpi=100,
                                 gridspec_kw={"width_ratios": [1.25, 1]})
    return fig, axes
