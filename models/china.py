"""Nvidia H200 sales to China under the December 2025 export decision.

The US lets Nvidia sell H200 to approved Chinese customers and takes 25% of that revenue.
The units come from the china_market model (demand, domestic supply, China's response, the US
licence cap) or, with ``china.units_source: typed``, from the typed ``china.h200_units``.
The levy can be booked as cost of goods sold (BofA's reading) or as a reduction of revenue
(contra-revenue). Reported revenue and gross margin differ between the two; gross profit,
operating income and EPS do not. Both treatments are shown side by side with checks.

Units: money in USD m, EPS in USD per share, margins as fractions (differences in pp).
"""
from __future__ import annotations

from models.lineitems import IF, ModelBuilder, div_or_na, safe_div
from models.units import M_SHARES_PER_BN, PCT_POINTS, USD_PER_USD_M

TITLE = "China H200"
DESCRIPTION = ("Nvidia H200 revenue from China, the 25% US levy booked as COGS or as "
               "contra-revenue, and what reaches EPS. USD m unless stated.")

#: china_market.china_response's choice under which China buys no H200 (on either units path)
BAN = "continued_ban"

#: rows a run-to-run diff explains first (models.headlines), one output per period
HEADLINES = ("reported_revenue", "gross_profit", "gross_margin", "eps_contribution")


def define(m: ModelBuilder) -> None:
    m.section("Inputs (linked from the Inputs sheet and the china_market sheet)")
    source = m.input("units_source", unit="choice", series=False)
    market_units = m.link("china_market.h200_units", name="h200_units_market",
                          label="H200 units shipped to China (china_market path)")
    typed_units = m.input("h200_units", row_name="h200_units_typed", unit="units", series=True)
    response = m.link("china_market.china_response", name="china_response",
                      label="China's response (sheet china_market)")
    # a ban bans on either path: typed units count only while China is not banning H200
    units = m.row("h200_units", "H200 units shipped to China (selected path; none under a "
                  "continued ban)", "units",
                  IF(source.eq("market"), market_units,
                     IF(response.eq(BAN), 0, typed_units)))
    asp = m.input("asp_usd", unit="USD per unit")
    levy_rate = m.input("levy_rate", unit="fraction")
    treatment = m.input("levy_treatment", unit="choice", series=False)
    margin = m.input("gross_margin_pre_levy", unit="fraction")
    opex_ratio = m.input("opex_ratio", unit="fraction")
    tax_rate = m.input("tax_rate", unit="fraction")
    shares = m.input("diluted_shares_bn", unit="bn shares")

    m.section("H200 China P&L under the selected treatment")
    in_cogs = m.row("levy_in_cogs_flag", "Levy booked in COGS (1) or contra-revenue (0)",
                    "flag", IF(treatment.eq("cogs"), 1, 0))
    gross = m.row("customer_revenue", "Customer (gross) revenue", "USD m",
                  units * asp / USD_PER_USD_M)
    levy = m.row("levy", "US government levy", "USD m", gross * levy_rate)
    product_cogs = m.row("product_cogs", "Product cost (before levy)", "USD m",
                         gross * (1 - margin))
    revenue = m.row("reported_revenue", "Reported revenue", "USD m",
                    gross - levy * (1 - in_cogs))
    cogs = m.row("cogs", "Cost of goods sold", "USD m", product_cogs + levy * in_cogs)
    gp = m.row("gross_profit", "Gross profit", "USD m", revenue - cogs)
    m.row("gross_margin", "Gross margin", "fraction", div_or_na(gp, revenue))
    opex = m.row("opex", "Operating expenses (on customer revenue)", "USD m",
                 gross * opex_ratio)
    ebit = m.row("operating_income", "Operating income", "USD m", gp - opex)
    tax = m.row("tax", "Income tax", "USD m", ebit * tax_rate)
    net = m.row("net_income", "Net income", "USD m", ebit - tax)
    m.row("eps_contribution", "EPS contribution", "USD per share",
          safe_div(net, shares * M_SHARES_PER_BN))

    m.section("Both treatments side by side")
    rev_cogs = m.row("reported_revenue_cogs", "Reported revenue: levy in COGS", "USD m", gross)
    rev_contra = m.row("reported_revenue_contra", "Reported revenue: levy as contra-revenue",
                       "USD m", gross - levy)
    cogs_cogs = m.row("cogs_cogs", "COGS: levy in COGS", "USD m", product_cogs + levy)
    cogs_contra = m.row("cogs_contra", "COGS: levy as contra-revenue", "USD m", product_cogs)
    gp_cogs = m.row("gross_profit_cogs", "Gross profit: levy in COGS", "USD m",
                    rev_cogs - cogs_cogs)
    gp_contra = m.row("gross_profit_contra", "Gross profit: levy as contra-revenue", "USD m",
                      rev_contra - cogs_contra)
    gm_cogs = m.row("gross_margin_cogs", "Gross margin: levy in COGS", "fraction",
                    div_or_na(gp_cogs, rev_cogs))
    gm_contra = m.row("gross_margin_contra", "Gross margin: levy as contra-revenue",
                      "fraction", div_or_na(gp_contra, rev_contra))
    rev_diff = m.row("reported_revenue_difference",
                     "Reported revenue difference (COGS − contra)", "USD m",
                     rev_cogs - rev_contra)
    m.row("gross_margin_difference_pp", "Gross margin difference (contra − COGS)", "pp",
          (gm_contra - gm_cogs) * PCT_POINTS)

    headline = m.assumptions.value("china.headline_period")
    m.grid("grid_margin_levy", "China gross margin: levy rate × treatment", m.ref("gross_margin"),
           rows="china.levy_rate", cols="china.levy_treatment", period=headline)
    # Units × ASP on the typed path. On the market path (default) the units are an output of
    # china_market, so the grid varies what scales them: the share of China's H200 demand the US
    # licenses. (A driver further up, e.g. the purchase China allows, inlines the cumulative cap
    # recurrence into every cell and exceeds Excel's formula length.)
    if m.assumptions.value("china.units_source") == "typed":
        label, rows = "China EPS contribution: H200 units × ASP", f"china.h200_units.{headline}"
    else:
        label = "China EPS contribution: US licence approval rate × ASP (market units)"
        rows = f"china_market.licence_approval_rate.{headline}"
    m.grid("grid_eps_units_asp", label, m.ref("eps_contribution"), rows=rows,
           cols="china.asp_usd", period=headline)

    m.section("Checks")
    m.check("check_gross_profit_identical",
            "Gross profit identical under both treatments", gp_cogs - gp_contra)
    m.check("check_revenue_difference_is_levy",
            "Revenue difference equals the levy", rev_diff - levy)
    m.check("check_selected_treatment",
            "Selected treatment's gross profit equals the side-by-side figure", gp - gp_cogs)
