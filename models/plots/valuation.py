"""Valuation chart: the target-year EPS bridge from BofA's implied EPS to the EPS the price
target uses, as a waterfall. Every bar is an output of sheet ``valuation`` (``bridge_*`` rows);
a step goes up when it adds EPS and down when it takes EPS away, as in the table (same signs).
The last bar must equal the first plus the steps (the sheet's ``check_bridge_closes``).
"""
from __future__ import annotations

import numpy as np

from models.plots import PALETTE, Chart, new_figure

#: (kind, output name without the model prefix, axis label) in the bridge's order
BRIDGE = [
    ("total", "bridge_start", "BofA\n(implied)"),
    ("step", "bridge_definition", "Non-GAAP\ndefinition"),
    ("step", "bridge_outlook", "Data-center\noutlook etc."),
    ("step", "bridge_china_volume", "China H200\nvolume"),
    ("step", "bridge_levy", "Levy"),
    ("step", "bridge_booking", "Booking"),
    ("total", "eps_target", "Model EPS"),
]
COLOURS = {"total": PALETTE[0], "up": PALETTE[2], "down": PALETTE[5]}


def bridge_bars(outputs: dict[str, float]) -> list[tuple[str, str, float, float, float]]:
    """``(label, colour, bottom, height, value)`` per bar; steps float from the running level
    (up for a positive step). The closing total must equal the running level to 1e-9."""
    bars, level = [], 0.0
    for kind, name, label in BRIDGE:
        value = outputs[f"valuation.{name}"]
        if kind == "total":
            if bars and abs(level - value) > 1e-9 * max(1.0, abs(value)):
                raise ValueError(f"EPS bridge does not reach {name}: {level} vs {value}")
            bars.append((label, "total", 0.0, value, value))
            level = value
        else:
            bars.append((label, "up" if value >= 0 else "down", min(level, level + value),
                         abs(value), value))
            level += value
    return bars


def charts(result, outputs):
    names = [f"valuation.{name}" for _, name, _ in BRIDGE]
    if any(outputs.get(name) is None for name in names):  # no valuation outputs, or unknown
        return []
    bars = bridge_bars(outputs)
    target_year = result.assumptions.value("valuation.target_period")
    fig, ax = new_figure(6.4, 2.9)
    for i, (label, colour, bottom, height, value) in enumerate(bars):
        ax.bar(i, height, bottom=bottom, width=0.62, color=COLOURS[colour], edgecolor="white")
        value = 0.0 if abs(value) < 0.005 else value  # no "−0.00"
        text = f"{value:.2f}" if colour == "total" else f"{value:+.2f}".replace("-", "−")
        ax.annotate(text, (i, bottom + height), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7)
    ax.set_xticks(np.arange(len(bars)), [b[0] for b in bars], fontsize=7)
    ax.set_ylabel("USD per share")
    top = max(b[2] + b[3] for b in bars)
    low = min(b[2] for b in bars if b[1] != "total") if len(bars) > 2 else 0.0
    floor = max(0.0, low - (top - low) * 0.6) if top > 0 else 0.0
    ax.set_ylim(floor, top + (top - floor) * 0.12)
    if floor > 0:
        ax.set_ylabel(f"USD per share (axis from {floor:.1f})")
    outlook = outputs["valuation.bridge_outlook"]
    china = outputs["valuation.bridge_china_volume"] + outputs["valuation.bridge_levy"]
    lead = "the data-center outlook" if abs(outlook) >= abs(china) else "China H200"
    ax.set_title(f"{target_year} EPS, BofA to model: {lead} moves it most")
    names = [f"valuation.{name}" for _, name, _ in BRIDGE]
    return [Chart("valuation", "eps_bridge", f"{target_year} EPS bridge from BofA's implied EPS "
                  f"to the model's: {lead} moves it most (green adds EPS, red takes it away)",
                  "valuation", fig, names)]
