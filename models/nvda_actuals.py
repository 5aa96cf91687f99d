"""Nvidia's reported quarters, as typed from the results releases (sheet ``nvda_actuals``).

The ``nvda`` model takes a quarter from here while it is on or before ``nvda.last_actual``.
Two definitional breaks are explicit rows, not silent: non-GAAP EPS includes stock-based
compensation from Q1 FY2027 (Nvidia recast Q1 and Q4 FY2026; the SBC effect is a row), and
the FY2027 platform grouping (Edge Computing = everything outside Data Center) is derived for
every quarter as revenue − Data Center.

Defined as::

    edge_computing_revenue = revenue − data_center_revenue
    gross_profit           = revenue − cogs;   operating_income = gross_profit − operating_expenses
    other_income_less_tax  = net_income_gaap − operating_income   (not split for every quarter)
    diluted_shares_implied = net_income_gaap / eps_gaap_diluted

Units: USD m; EPS in USD per share (split-adjusted); shares in bn.
"""
from __future__ import annotations

from models.lineitems import At, Const, ModelBuilder, safe_div
from models.units import M_SHARES_PER_BN

TITLE = "Nvidia reported quarters"
DESCRIPTION = ("Nvidia's income statement as reported, Q1 FY2024 onward (USD m): the actual "
               "quarters the nvda model uses, with the two definitional breaks as rows.")


#: the quarters Nvidia recast on the new non-GAAP definition (names of the sheet's scalars)
RECAST_QUARTERS = ("Q1FY2026", "Q4FY2026")


def define(m: ModelBuilder) -> None:
    m.section("Reported (linked from the Inputs sheet)")
    revenue = m.input("revenue", unit="USD m", series=True)
    dc = m.input("data_center_revenue", unit="USD m", series=True)
    cogs = m.input("cogs", unit="USD m", series=True)
    opex = m.input("operating_expenses", unit="USD m", series=True)
    net_income = m.input("net_income_gaap", unit="USD m", series=True)
    eps = m.input("eps_gaap_diluted", unit="USD per share", series=True)
    eps_non_gaap = m.input("eps_non_gaap_as_reported", unit="USD per share", series=True)
    recast = {q: m.input(f"eps_non_gaap_new_def_{q.lower()}", unit="USD per share",
                         series=False) for q in RECAST_QUARTERS}

    m.section("Derived from the reported figures")
    m.row("edge_computing_revenue", "Edge Computing revenue (revenue − Data Center; FY2027 "
          "grouping)", "USD m", revenue - dc)
    gross_profit = m.row("gross_profit", "Gross profit", "USD m", revenue - cogs)
    m.row("gross_margin", "Gross margin (GAAP)", "fraction", safe_div(gross_profit, revenue))
    operating_income = m.row("operating_income", "Operating income (GAAP)", "USD m",
                             gross_profit - opex)
    m.row("other_income_less_tax", "Other income less income tax (net income − operating "
          "income)", "USD m", net_income - operating_income)
    m.row("diluted_shares_implied", "Diluted shares implied by reported EPS (net income ÷ EPS)",
          "bn shares", safe_div(net_income, eps * M_SHARES_PER_BN))

    m.section("Break: non-GAAP EPS including stock-based compensation (from Q1 FY2027)")
    for q in RECAST_QUARTERS:
        m.row(f"sbc_effect_{q.lower()}", f"SBC effect of the new definition, {q} (recast − as "
              f"first reported)", "USD per share", recast[q] - At(eps_non_gaap.row, Const(q)))
