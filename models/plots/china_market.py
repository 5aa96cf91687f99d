"""China market charts: supply by source against demand (units), and the domestic share by units
and by compute. Every plotted figure is an output of the ``china_market`` sheet."""
from __future__ import annotations

import numpy as np

from models.plots import PALETTE, Chart, new_figure

#: supply sources bottom-up: (output row, legend label, colour)
SOURCES = (
    ("ascend_units", "Huawei Ascend", PALETTE[0]),
    ("cambricon_units", "Cambricon", "#3f6f9e"),
    ("kunlunxin_units", "Kunlunxin", "#7fa7c9"),
    ("csp_asic_units", "CSP ASICs", "#a9c4dd"),
    ("other_domestic_units", "Other domestic", "#d3e1ee"),
    ("h20_units", "Nvidia H20", "#f0c08a"),
    ("grey_channel_units", "Nvidia grey channel", "#e3a35c"),
    ("h200_units", "Nvidia H200 (licensed)", PALETTE[1]),
)
MILLION = 1e6


def _series(outputs, periods, item):
    """One row of the china_market sheet over its periods; an unknown value plots as a gap."""
    values = [outputs[f"china_market.{item}.{p}"] for p in periods]
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def supply_demand(result, outputs) -> Chart:
    """Stacked supply by source with the demand line, in millions of cards."""
    periods = list(result.specs["china_market"].periods)
    fig, ax = new_figure(6.4, 3.4)
    x = np.arange(len(periods))
    bottom = np.zeros(len(periods))
    names = []
    for item, label, colour in SOURCES:
        values = _series(outputs, periods, item) / MILLION
        ax.bar(x, values, 0.62, bottom=bottom, color=colour, label=label,
               edgecolor="white", linewidth=0.4)
        bottom = bottom + np.nan_to_num(values)
        names += [f"china_market.{item}.{p}" for p in periods]
    demand = _series(outputs, periods, "demand_units") / MILLION
    ax.plot(x, demand, "k-o", markersize=4, linewidth=1.4, label="Demand")
    names += [f"china_market.demand_units.{p}" for p in periods]
    ax.set_xticks(x, periods)
    top = np.nanmax(np.concatenate([bottom, demand]))
    ax.set_ylim(0, top * 1.15 if top > 0 else 1)
    ax.set_ylabel("million cards")
    ax.legend(loc="upper left", fontsize=6.8, frameon=False, ncol=2)
    title = _supply_title(outputs, periods)
    ax.set_title(title, fontsize=9)
    names += [f"china_market.domestic_units.{p}" for p in periods]
    return Chart("china_market", "supply_demand", f"{title}: supply by source against demand "
                 "(units)", "china_market", fig, names)


def _supply_title(outputs, periods) -> str:
    """What to conclude: the first year domestic chips alone cover demand, if any."""
    domestic = _series(outputs, periods, "domestic_units")
    demand = _series(outputs, periods, "demand_units")
    covered = [p for p, d, n in zip(periods, domestic, demand) if d >= n]
    if covered:
        return f"Domestic chips alone cover China's demand from {covered[0]}"
    last = periods[-1]
    share = domestic[-1] / demand[-1] if demand[-1] else float("nan")
    return f"Domestic chips meet {share:.0%} of China's demand in {last}"


def domestic_share(result, outputs) -> Chart:
    """Domestic share of supply by units and by compute (TPP-weighted)."""
    periods = list(result.specs["china_market"].periods)
    fig, ax = new_figure(6.4, 2.4)
    x = np.arange(len(periods))
    names = []
    for item, label, colour in (("domestic_share_units", "by units", PALETTE[0]),
                                ("domestic_share_compute", "by compute (TPP-weighted)",
                                 PALETTE[1])):
        ax.plot(x, _series(outputs, periods, item) * 100, "o-", color=colour, label=label)
        names += [f"china_market.{item}.{p}" for p in periods]
    ax.set_xticks(x, periods)
    ax.set_ylim(0, 105)
    ax.set_ylabel("% of supply")
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    ax.set_title("Domestic share of China's accelerator supply")
    return Chart("china_market", "domestic_share", "Domestic share by units and by compute",
                 "china_market", fig, names)


def charts(result, outputs):
    return [supply_demand(result, outputs), domestic_share(result, outputs)]
