"""China H200 charts: reported revenue and gross margin under both levy treatments."""
from __future__ import annotations

import numpy as np

from models.plots import PALETTE, Chart, new_figure


def charts(result, outputs):
    periods = list(result.specs["china"].periods)
    names = [f"china.{item}.{p}" for item in ("reported_revenue_cogs", "reported_revenue_contra",
                                               "gross_profit_cogs", "gross_margin_cogs",
                                               "gross_margin_contra") for p in periods]

    def series(item):  # null (a margin of no revenue is n/a) → NaN: a gap in the line
        return np.array([outputs[f"china.{item}.{p}"] for p in periods], dtype=float)

    fig, ax = new_figure(6.4, 2.8)
    x = np.arange(len(periods))
    w = 0.38
    ax.bar(x - w / 2, series("reported_revenue_cogs") / 1000, w, color=PALETTE[0],
           label="Reported revenue, levy in COGS")
    ax.bar(x + w / 2, series("reported_revenue_contra") / 1000, w, color=PALETTE[1],
           label="Reported revenue, contra-revenue")
    ax.plot(x, series("gross_profit_cogs") / 1000, "k_", markersize=22, mew=2,
            label="Gross profit (both)")
    ax.set_xticks(x, periods)
    ax.set_ylabel("USD bn")
    ax2 = ax.twinx()
    for item, colour, label in (("gross_margin_cogs", PALETTE[0], "Gross margin, levy in COGS"),
                                ("gross_margin_contra", PALETTE[1], "Gross margin, contra")):
        ax2.plot(x, series(item) * 100, "o--", color=colour, markeredgecolor="white", label=label)
    ax2.set_ylabel("gross margin, %")
    ax2.set_ylim(0, 100)
    ax2.spines["top"].set_visible(False)
    handles = ax.get_legend_handles_labels()
    handles2 = ax2.get_legend_handles_labels()
    ax.legend(handles[0] + handles2[0], handles[1] + handles2[1], loc="upper center",
              bbox_to_anchor=(0.5, -0.12), fontsize=7, frameon=False, ncol=3)
    ax.set_title("The levy's booking moves reported revenue and margin, not gross profit",
                 fontsize=9)
    return [Chart("china", "treatments", "Reported revenue and gross margin by levy treatment",
                  "china", fig, names)]
