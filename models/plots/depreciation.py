"""Server depreciation charts: each company's depreciation under its policy against the
alternative lives and methods, and the critics'-life effect on pre-tax income.

Figures come only from the run's outputs (``depreciation.<company>_depr_<case>.<period>``).
"""
from __future__ import annotations

import numpy as np

from models.plots import PALETTE, Chart, new_figure

MODEL = "depreciation"


def _companies(result) -> list[str]:
    names = [k.split(".", 1)[1] for k in result.assumptions.sheets[MODEL].assumptions]
    return [n[:-len("_capex")] for n in names if n.endswith("_capex")]


def _shown_periods(result) -> list[str]:
    periods = list(result.specs[MODEL].periods)
    first = result.assumptions.value(f"{MODEL}.memo_from_period")
    return periods[periods.index(first):]


def _cases(result) -> list[tuple[str, str]]:
    """(output part, legend label) of every alternative, as the model names them."""
    a = result.assumptions
    names = [k.split(".", 1)[1] for k in a.sheets[MODEL].assumptions]
    alts = sorted((n for n in names if n.startswith("alt_life_")),
                  key=lambda n: int(n.rsplit("_", 1)[1]))
    critic = a.value(f"{MODEL}.critic_life")
    factor = a.value(f"{MODEL}.db_factor")
    cases = [(f"sl_alt{n.rsplit('_', 1)[1]}", f"SL {a.value(f'{MODEL}.{n}'):g}y") for n in alts]
    cases += [("db_critic", f"DB {factor:g}x {critic:g}y"), ("syd_critic", f"SYD {critic:g}y")]
    return cases


def charts(result, outputs) -> list[Chart]:
    return [policy_vs_alternatives(result, outputs), critic_effect(result, outputs)]


def policy_vs_alternatives(result, outputs) -> Chart:
    """Small multiples: depreciation under policy (bold) and each alternative, per company."""
    cos = _companies(result)
    periods = _shown_periods(result)
    cases = _cases(result)
    cols = 2
    rows = (len(cos) + cols - 1) // cols
    fig, _ = new_figure(6.6, 2.3 * rows + 0.6)
    fig.clf()
    grid = fig.add_gridspec(rows + 1, cols, height_ratios=[1] * rows + [0.22])
    axes = np.array([[fig.add_subplot(grid[r, c]) for c in range(cols)] for r in range(rows)])
    legend_ax = fig.add_subplot(grid[rows, :])
    legend_ax.axis("off")
    x = np.arange(len(periods))
    names: list[str] = []
    greys = ["#c6d4e1", "#9fb6cc", "#7897b5", "#557a9e", "#2f5d87"]
    for ax, co in zip(axes.flat, cos):
        def series(case):
            keys = [f"{MODEL}.{co}_depr_{case}.{p}" for p in periods]
            names.extend(keys)
            return np.array([outputs[k] for k in keys])

        sl_cases = [c for c in cases if c[0].startswith("sl_alt")]
        for (case, label), colour in zip(sl_cases, greys[-len(sl_cases):] if sl_cases else []):
            ax.plot(x, series(case), color=colour, lw=1.2, label=label)
        ax.plot(x, series("db_critic"), color=PALETTE[1], lw=1.2, ls="--",
                label=dict(cases)["db_critic"])
        ax.plot(x, series("syd_critic"), color=PALETTE[2], lw=1.2, ls=":",
                label=dict(cases)["syd_critic"])
        ax.plot(x, series("policy"), color="black", lw=2.2, marker="o", ms=3, label="Policy")
        ax.set_title(co.title(), fontsize=8.5)
        ax.set_xticks(x, periods, fontsize=6.5)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_ylabel("USD bn", fontsize=7)
        ax.set_ylim(bottom=0)
    for ax in list(axes.flat)[len(cos):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    legend_ax.legend(handles, labels, loc="center", ncol=5, fontsize=6.5, frameon=False)
    fig.suptitle("Server depreciation: policy vs alternative lives and methods",
                 fontsize=9.5, fontweight="bold")
    return Chart(MODEL, "policy_vs_alternatives",
                 "Depreciation under each company's policy vs alternative lives and methods",
                 MODEL, fig, names)


def _critic_title(outputs, cos, periods, critic) -> str:
    """What to conclude: who the critics' life hits hardest in the last year shown."""
    last = periods[-1]
    shares = {co: outputs[f"{MODEL}.{co}_pretax_share_sl_critic.{last}"] for co in cos}
    shares = {co: v for co, v in shares.items() if v is not None}
    if not shares:
        return f"Pre-tax income change at a {critic:g}-year straight-line life vs policy"
    worst = min(shares, key=shares.get)
    return (f"A {critic:g}-year life would cut {last} pre-tax income by up to "
            f"{abs(shares[worst]):.0%} ({worst.title()})")


def critic_effect(result, outputs) -> Chart:
    """Bars: pre-tax income change at the critics' life (straight line), share of pre-tax."""
    cos = _companies(result)
    periods = _shown_periods(result)
    fig, ax = new_figure(6.4, 2.6)
    x = np.arange(len(periods))
    width = 0.8 / max(len(cos), 1)
    names: list[str] = []
    for i, co in enumerate(cos):
        keys = [f"{MODEL}.{co}_pretax_share_sl_critic.{p}" for p in periods]
        names.extend(keys)
        shares = [np.nan if outputs[k] is None else outputs[k] * 100 for k in keys]  # n/a: gap
        ax.bar(x + (i - (len(cos) - 1) / 2) * width, shares, width,
               color=PALETTE[i % len(PALETTE)], label=co.title())
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(x, periods)
    ax.set_ylabel("% of pre-tax income")
    critic = result.assumptions.value(f"{MODEL}.critic_life")
    ax.set_title(_critic_title(outputs, cos, periods, critic), fontsize=9)
    ax.legend(fontsize=7, frameon=False, ncol=len(cos), loc="upper center",
              bbox_to_anchor=(0.5, -0.12))
    return Chart(MODEL, "critic_effect",
                 "Pre-tax income change at the critics' life, share of pre-tax income",
                 MODEL, fig, names)
