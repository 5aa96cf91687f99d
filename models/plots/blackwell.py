"""Blackwell charts: the bridge from claimed units to revenue-implied units, as a waterfall.

Bars are outputs of sheet ``blackwell``: totals (claimed GPUs, claimed data-center packages,
revenue-implied packages, headline implied units) stand on zero; each step floats from the
running level, down for a positive step (it explains part of the claim), up for a negative one.
The running level after each step equals the next total bar, which the chart asserts rather than
assumes (the bridge's own check, drawn).
"""
from __future__ import annotations

import numpy as np

from models.plots import PALETTE, Chart, new_figure

MILLION = 1e6

#: (kind, output name without the model prefix, label) in the bridge's order
BRIDGE = [
    ("total", "bridge_claimed_units", "Claimed\nGPUs"),
    ("step", "bridge_die_vs_package", "Die vs\npackage"),
    ("step", "bridge_non_dc_units", "Non-DC\nunits"),
    ("step", "bridge_timing", "Timing"),
    ("total", "claimed_dc_packages", "Claimed DC\npackages"),
    ("gap", "bridge_residual_gap", "Residual\ngap"),
    ("total", "implied_packages_total", "Revenue-\nimplied"),
    ("step", "bridge_asp", "ASP"),
    ("step", "bridge_non_blackwell", "Non-\nBlackwell"),
    ("step", "bridge_networking", "Net-\nworking"),
    ("total", "bridge_headline_units", "Headline\nDC rev\n÷ ASP"),
]
COLOURS = {"total": PALETTE[0], "down": PALETTE[2], "up": PALETTE[5], "gap": PALETTE[1]}


def waterfall_bars(outputs: dict[str, float]) -> list[tuple[str, str, float, float, float]]:
    """``(label, colour, bottom, height, value)`` per bar; steps float from the running level.

    A total bar must equal the running level reached by the steps before it (to 1e-6 of the
    claim), otherwise the bridge does not close and the chart refuses to draw it.
    """
    bars = []
    level = None
    scale = max(1.0, abs(outputs["blackwell.bridge_claimed_units"]))
    for kind, name, label in BRIDGE:
        value = outputs[f"blackwell.{name}"]
        if kind == "total":
            if level is not None and abs(level - value) > 1e-6 * scale:
                raise ValueError(f"bridge does not reach {name}: {level} vs {value}")
            bars.append((label, "total", 0.0, value, value))
            level = value
        else:
            new = level - value
            colour = "gap" if kind == "gap" else ("down" if value >= 0 else "up")
            bars.append((label, colour, min(level, new), abs(value), value))
            level = new
    return bars


def charts(result, outputs):
    bars = waterfall_bars(outputs)
    fig, ax = new_figure(6.6, 3.2)
    x = np.arange(len(bars))
    for i, (label, colour, bottom, height, value) in enumerate(bars):
        ax.bar(i, height / MILLION, bottom=bottom / MILLION, width=0.62,
               color=COLOURS[colour], edgecolor="white")
        if colour == "total":
            text = f"{value / MILLION:.2f}"
        else:  # the level moves down by a positive step, up by a negative one
            text = f"{'−' if value > 0 else '+' if value < 0 else ''}{abs(value) / MILLION:.2f}"
        ax.annotate(text, (i, (bottom + height) / MILLION), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize=7)
    for i in range(len(bars) - 1):  # connectors between consecutive levels
        level = _level_after(bars[i])
        ax.plot([i + 0.31, i + 0.69], [level / MILLION] * 2, color="#888", lw=0.6)
    ax.set_xticks(x, [b[0] for b in bars], fontsize=6.8)
    ax.set_ylabel("million units")
    ax.set_ylim(0, max((b[2] + b[3]) for b in bars) / MILLION * 1.12)
    ax.set_title(f"The {outputs['blackwell.bridge_claimed_units'] / MILLION:.0f}M claim counts dies: "
                 f"revenue implies {outputs['blackwell.implied_packages_total'] / MILLION:.2f}M "
                 f"packages vs {outputs['blackwell.claimed_dc_packages'] / MILLION:.2f}M claimed",
                 fontsize=9)
    names = [f"blackwell.{name}" for _, name, _ in BRIDGE]
    return [Chart("blackwell", "bridge", "Bridge from claimed GPUs to revenue-implied units "
                  "(green: explains part of the claim; red: widens it; orange: residual gap)", "blackwell", fig,
                  names)]


def _level_after(bar: tuple[str, str, float, float, float]) -> float:
    """The running level after a bar: its top, or its bottom for a step that went down."""
    _, colour, bottom, height, value = bar
    if colour == "total" or value < 0:
        return bottom + height
    return bottom
