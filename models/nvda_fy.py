"""Nvidia by fiscal year: the ``nvda`` quarters summed into fiscal years (live ``SUM``s of the
nvda sheet), and checks that reported quarters add up to what Nvidia reported for the year.

Defined as::

    X(FY n)           = Σ X(Q1..Q4 FY n)          for money and per-share rows (EPS: the Street's
                                                   sum of quarters; Nvidia's annual EPS divides by
                                                   annual average shares and can differ by a cent)
    gross_margin      = gross_profit / revenue
    china_phasing_sum = Σ china_phasing(Q1..Q4)    (1 for every year with China H200 revenue)

The valuation maps these fiscal years to calendar years (CY n = FY n+1, the Street's convention).
Units: USD m; EPS in USD per share.
"""
from __future__ import annotations

from models.lineitems import IF, NA, Across, At, Const, ModelBuilder, Prev, div_or_na

TITLE = "Nvidia by fiscal year"
DESCRIPTION = ("Fiscal-year totals of the nvda quarters (FY2027 = Feb 2026 - Jan 2027), with "
               "checks against the fiscal years Nvidia reported. USD m unless stated.")

#: nvda rows rolled up into fiscal years (sum of the four quarters)
ROLLED_UP = (
    ("revenue", "Revenue", "USD m"),
    ("data_center_revenue", "Data Center revenue (incl. China H200)", "USD m"),
    ("china_reported_revenue", "of which China H200 reported revenue", "USD m"),
    ("china_customer_revenue", "China H200 customer (gross) revenue", "USD m"),
    ("china_levy", "China H200 levy to the US government", "USD m"),
    ("edge_computing_revenue", "Edge Computing revenue", "USD m"),
    ("gross_profit", "Gross profit", "USD m"),
    ("operating_income", "Operating income (GAAP)", "USD m"),
    ("net_income_gaap", "Net income (GAAP)", "USD m"),
    ("net_income_non_gaap", "Net income (non-GAAP)", "USD m"),
    ("eps_gaap", "Diluted EPS (GAAP; sum of quarters)", "USD per share"),
    ("eps_non_gaap", "Diluted EPS (non-GAAP; sum of quarters)", "USD per share"),
    ("china_eps_contribution", "of which China H200 EPS contribution", "USD per share"),
    ("china_levy_eps", "EPS cost of the China H200 levy", "USD per share"),
    ("china_phasing", "China H200 phasing: sum of the year's quarter shares", "fraction"),
)

#: tolerances of the checks against reported years: the reported figures are rounded
#: (revenue to USD 0.1bn, EPS to the cent, and quarterly EPS sums differ from annual EPS)
REVENUE_TOLERANCE_USD_M = 50.0
EPS_TOLERANCE = 0.015


def quarters_of_years(years, quarters) -> dict[str, tuple[str, ...]]:
    """``{"FY2026": ("Q1FY2026", ..., "Q4FY2026")}`` for each fiscal year in ``years``."""
    return {fy: tuple(q for q in quarters if q.endswith(fy)) for fy in years}


def define(m: ModelBuilder) -> None:
    quarters = m.model("nvda").periods
    mapping = quarters_of_years(m.periods, quarters)
    m.section("Fiscal years: sums of the nvda sheet's quarters")
    rows = {}
    for name, label, unit in ROLLED_UP:
        source = m.model("nvda").row(name)
        rows[name] = m.row(name, label, unit, Across(source, m.name, mapping))
    m.row("gross_margin", "Gross margin (GAAP)", "fraction",
          div_or_na(rows["gross_profit"], rows["revenue"]))
    previous = Prev(rows["revenue"].row)
    m.row("revenue_growth", "Revenue growth y/y (n/a for the first year)", "growth rate",
          IF(previous.eq(0), NA(), rows["revenue"] / previous - 1))

    m.section("Cross-checks: China H200 against what Nvidia's CEO and CFO said (drive nothing)")
    low = m.input("china_potential_per_quarter_low")
    high = m.input("china_potential_per_quarter_high")
    market = m.input("china_market_huang")
    selling = m.row("china_quarters_selling", "Quarters with China H200 revenue", "count",
                    Across(m.model("nvda").row("china_selling_flag"), m.name, mapping))
    per_quarter = m.row("china_revenue_per_selling_quarter", "China H200 customer revenue per "
                        "quarter with sales", "USD m",
                        IF(selling.eq(0), NA(), rows["china_customer_revenue"] / selling))
    m.row("china_per_quarter_vs_cfo_high", "… against the high end of the CFO's range a quarter",
          "ratio", per_quarter / high)
    m.row("china_per_quarter_vs_cfo_low", "… against the CFO's low end", "ratio",
          per_quarter / low)
    m.row("china_share_of_huang_market", "China H200 customer revenue as a share of Huang's "
          "China market", "fraction", rows["china_customer_revenue"] / market)

    m.section("Checks: reported quarters add up to the reported fiscal years")
    checks = (("revenue", "FY2024", "revenue_fy2024_reported", REVENUE_TOLERANCE_USD_M),
              ("revenue", "FY2025", "revenue_fy2025_reported", REVENUE_TOLERANCE_USD_M),
              ("revenue", "FY2026", "revenue_fy2026_reported", REVENUE_TOLERANCE_USD_M),
              ("data_center_revenue", "FY2026", "data_center_revenue_fy2026_reported",
               REVENUE_TOLERANCE_USD_M),
              ("eps_gaap", "FY2026", "eps_gaap_fy2026_reported", EPS_TOLERANCE),
              ("eps_non_gaap", "FY2026", "eps_non_gaap_fy2026_reported", EPS_TOLERANCE))
    for row, year, reported, tolerance in checks:
        if year not in m.periods:
            continue
        typed = m.input(reported)
        m.check(f"check_{row}_{year.lower()}", f"{year} {rows[row].row.label}: sum of "
                f"quarters − reported", At(rows[row].row, Const(year)) - typed,
                tolerance=tolerance)
    m.check("check_china_phasing", "China H200 phasing sums to 1 in each year with China "
            "revenue (else 0)", (rows["china_phasing"] - 1) * (rows["china_phasing"]),
            tolerance=1e-9)
