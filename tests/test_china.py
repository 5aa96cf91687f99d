"""China H200 model: a hand-worked example and the levy-treatment identities."""

import pytest
from hypothesis import given, settings, strategies as st

from models import engine
from models.assumptions import set_value


def run_with(a, **values):
    for key, v in values.items():
        a = set_value(a, key.replace("__", "."), v, set_by="test")
    return engine.run(a).line_outputs


def test_hand_worked_example(base):
    """1,000,000 H200 × $40,000 = $40bn; 25% levy = $10bn ($10,000 a chip, as Zimubang wrote);
    70% margin before the levy → product cost $12bn; gross profit 40 − 10 − 12 = $18bn;
    tax 15% → net income $15.3bn; ÷ 24,483m shares = $0.6249 per share."""
    o = run_with(base, **{"china.units_source": "typed",
                          "china.h200_units.CY2026": 1_000_000, "china.asp_usd": 40_000,
                          "china.levy_rate": 0.25, "china.gross_margin_pre_levy": 0.70,
                          "china.opex_ratio": 0.0, "china.tax_rate": 0.15,
                          "china.diluted_shares_bn": 24.483})
    assert o["china.customer_revenue.CY2026"] == pytest.approx(40_000)
    assert o["china.levy.CY2026"] == pytest.approx(10_000)
    assert o["china.gross_profit.CY2026"] == pytest.approx(18_000)
    assert o["china.reported_revenue_cogs.CY2026"] == pytest.approx(40_000)
    assert o["china.reported_revenue_contra.CY2026"] == pytest.approx(30_000)
    assert o["china.gross_margin_cogs.CY2026"] == pytest.approx(0.45)  # 18/40
    assert o["china.gross_margin_contra.CY2026"] == pytest.approx(0.60)  # 18/30
    assert o["china.gross_margin_difference_pp.CY2026"] == pytest.approx(15.0)
    assert o["china.net_income.CY2026"] == pytest.approx(15_300)
    assert o["china.eps_contribution.CY2026"] == pytest.approx(15_300 / 24_483, rel=1e-12)


def test_levy_equals_units_times_asp_times_rate_with_bundled_assumptions(base):
    """Typed path: the levy is the typed units × ASP × rate."""
    o = run_with(base, china__units_source="typed")
    expected = (base.value("china.h200_units")["CY2026"] * base.value("china.asp_usd")
                * base.value("china.levy_rate") / 1e6)
    assert o["china.levy.CY2026"] == pytest.approx(expected, rel=1e-12)


def test_units_source_switches_between_market_and_typed_paths(base):
    """market (default): the china_market H200 path; typed: the typed series. The china sheet
    runs CY2025-CY2028 and china_market CY2024-CY2028, so periods are matched by name."""
    typed_units = {"CY2025": 11, "CY2026": 22, "CY2027": 33, "CY2028": 44}
    values = {f"china.h200_units.{p}": u for p, u in typed_units.items()}
    market = run_with(base, **values)
    typed = run_with(base, **values, china__units_source="typed")
    for p, u in typed_units.items():
        assert typed[f"china.h200_units.{p}"] == u
        assert market[f"china.h200_units.{p}"] == market[f"china_market.h200_units.{p}"]
        assert market[f"china.h200_units_market.{p}"] == market[f"china_market.h200_units.{p}"]
    assert market["china.h200_units.CY2026"] != typed["china.h200_units.CY2026"]
    assert market["china.customer_revenue.CY2026"] == pytest.approx(
        market["china_market.h200_units.CY2026"] * base.value("china.asp_usd") / 1e6)


def test_contra_revenue_books_lower_revenue_and_higher_margin(base):
    cogs = run_with(base, china__levy_treatment="cogs")
    contra = run_with(base, china__levy_treatment="contra_revenue")
    p = "CY2026"
    assert contra[f"china.reported_revenue.{p}"] < cogs[f"china.reported_revenue.{p}"]
    assert contra[f"china.gross_margin.{p}"] > cogs[f"china.gross_margin.{p}"]
    assert contra["china.levy_in_cogs_flag"] == 0 and cogs["china.levy_in_cogs_flag"] == 1


fractions = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(units=st.lists(st.floats(min_value=0, max_value=5e6), min_size=4, max_size=4),
       asp=st.floats(min_value=1000, max_value=100_000), rate=fractions, margin=fractions,
       opex=st.floats(min_value=0, max_value=0.5), tax=st.floats(min_value=0, max_value=0.5))
def test_treatment_moves_revenue_by_exactly_the_levy_and_never_gross_profit(
        base, units, asp, rate, margin, opex, tax):
    values = {"china.units_source": "typed", "china.asp_usd": asp, "china.levy_rate": rate,
              "china.gross_margin_pre_levy": margin, "china.opex_ratio": opex,
              "china.tax_rate": tax}
    for p, u in zip(base.periods("china"), units):
        values[f"china.h200_units.{p}"] = u
    cogs = run_with(base, **values, **{"china.levy_treatment": "cogs"})
    contra = run_with(base, **values, **{"china.levy_treatment": "contra_revenue"})
    for p in base.periods("china"):
        levy = cogs[f"china.levy.{p}"]
        assert levy == pytest.approx(contra[f"china.levy.{p}"])
        gap = cogs[f"china.reported_revenue.{p}"] - contra[f"china.reported_revenue.{p}"]
        assert gap == pytest.approx(levy, rel=1e-12, abs=1e-6)
        for item in ("gross_profit", "operating_income", "net_income", "eps_contribution"):
            assert cogs[f"china.{item}.{p}"] == pytest.approx(contra[f"china.{item}.{p}"],
                                                             rel=1e-12, abs=1e-9)
        for check in ("check_gross_profit_identical", "check_revenue_difference_is_levy",
                      "check_selected_treatment"):
            assert abs(cogs[f"china.{check}.{p}"]) < 1e-6
        # a margin of no revenue is n/a, never 0% (issue 13); with revenue it is a number
        no_revenue = cogs[f"china.reported_revenue.{p}"] == 0
        assert (cogs[f"china.gross_margin.{p}"] is None) == no_revenue  # None: null


def test_margins_without_revenue_are_na_and_quantities_stay_zero(base):
    """No H200 shipped (units 0 in CY2025): revenue, levy, gross profit and EPS are genuinely 0;
    the gross margins 0/0 do not exist (NaN, None/null in outputs), nor does their difference.
    CY2026 with 1,000 units × $40,000 = $40m, 25% levy, 70% margin before it:
    levy in COGS 18/40 = 45%, contra-revenue 18/30 = 60%."""
    o = run_with(base, **{"china.units_source": "typed", "china.h200_units.CY2025": 0,
                          "china.h200_units.CY2026": 1_000, "china.asp_usd": 40_000,
                          "china.levy_rate": 0.25, "china.gross_margin_pre_levy": 0.70})
    for item in ("reported_revenue", "levy", "gross_profit", "eps_contribution",
                 "reported_revenue_difference"):
        assert o[f"china.{item}.CY2025"] == 0
    for item in ("gross_margin", "gross_margin_cogs", "gross_margin_contra",
                 "gross_margin_difference_pp"):
        assert o[f"china.{item}.CY2025"] is None  # NaN in the model, null in outputs.json
    assert o["china.gross_margin_cogs.CY2026"] == pytest.approx(0.45)
    assert o["china.gross_margin_contra.CY2026"] == pytest.approx(0.60)


def test_workbook_margin_without_revenue_is_na_formula(default_run):
    """The china sheet: gross margin = IF(revenue=0, NA(), gross profit / revenue); CY2025 has
    no H200 revenue, so its stored value is #N/A (LibreOffice shows the same: parity test) and
    outputs.json holds null; CY2026 is a number."""
    import json
    import openpyxl
    cells = json.loads((default_run / "cells.json").read_text())
    outputs = json.loads((default_run / "outputs.json").read_text())
    formulas = openpyxl.load_workbook(default_run / "model.xlsx")
    stored = openpyxl.load_workbook(default_run / "model.xlsx", data_only=True)
    for item in ("gross_margin", "gross_margin_cogs", "gross_margin_contra"):
        sheet, coord = cells[f"china.{item}.CY2025"].split("!")
        assert ",NA()," in formulas[sheet][coord].value
        assert formulas[sheet][coord].value.startswith("=IF(")
        assert stored[sheet][coord].value == "#N/A"
        assert outputs[f"china.{item}.CY2025"] is None
        sheet, coord = cells[f"china.{item}.CY2026"].split("!")
        assert stored[sheet][coord].value == pytest.approx(outputs[f"china.{item}.CY2026"])


def test_chart_and_note_show_a_margin_without_revenue_as_a_gap_and_n_a(base, tmp_path):
    """No H200 revenue in CY2025: the chart's margin lines have a gap there (NaN, not a point
    at 0%), CY2026 is plotted at 45% and 60% (18/40, 18/30); the note with CY2025 as the
    headline year prints the margins as n/a, never 0.0%."""
    import numpy as np
    from models.cli import main
    from models.plots import china as china_plots
    result = engine.run(base)
    [chart] = china_plots.charts(result, result.outputs)
    margins = [line for ax in chart.figure.axes for line in ax.get_lines()
               if line.get_label().startswith("Gross margin,")]
    assert len(margins) == 2
    for line in margins:
        y = dict(zip(result.specs["china"].periods, np.asarray(line.get_ydata(), float)))
        assert np.isnan(y["CY2025"]) and np.isnan(y["CY2027"])
        assert y["CY2026"] in (pytest.approx(45.0), pytest.approx(60.0))
    import matplotlib.pyplot as plt
    plt.close(chart.figure)
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--no-compare", "--out", str(out),
                 "--set", "china.headline_period=CY2025"]) == 0
    md = (out / "memo.md").read_text()
    assert "| Gross margin | n/a | n/a | n/a |" in md
    # the section says why in words, not "gross margin goes from n/a to n/a (n/a)"
    assert "No China H200 revenue in CY2025 in this run" in md
    assert "The gross margins below are n/a: there is no revenue to divide by." in md
    assert "goes from n/a" not in md
