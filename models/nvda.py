"""Nvidia's income statement by fiscal quarter, reported and forecast, with China H200 on top.

A quarter on or before ``last_actual`` takes Nvidia's reported figures (sheet ``nvda_actuals``);
later quarters roll forward from the last reported quarter by the drivers on the Inputs sheet.
China H200 is layered on the forecast quarters: the ``china`` sheet's calendar-year reported
revenue, COGS and opex (with the levy booked as ``china.levy_treatment`` says) phased into fiscal
quarters, CY n being FY n+1 (the Street's convention). Booking the levy as contra-revenue lowers
reported revenue and raises the gross margin; COGS does the opposite; gross profit and EPS are
the same.

Defined as (forecast quarters; reported quarters take the nvda_actuals figure)::

    data_center_revenue_ex_china(t) = previous × (1 + dc_growth_qoq)
    data_center_revenue  = data_center_revenue_ex_china + china_reported_revenue
    revenue              = data_center_revenue + edge_computing_revenue
    cogs                 = (revenue ex China) × (1 − gross_margin_ex_china) + china_cogs
    operating_income     = revenue − cogs − (opex(t−1) × (1 + opex_growth_qoq) + china_opex)
    net_income_gaap      = (operating_income + other_income) × (1 − tax_rate)
    net_income_non_gaap  = (operating_income + other_income + non_gaap_adjustments) × (1 − tax_rate)
    eps_*                = net income / diluted shares;  shares(t) = previous × (1 + share_change)
    china_eps_contribution = (china revenue − COGS − opex) × (1 − tax_rate) / diluted shares

Units: USD m; EPS in USD per share; shares in bn.
"""
from __future__ import annotations

from models.errors import EqrError
from models.lineitems import IF, NA, Across, ModelBuilder, PeriodNumber, Prev, div_or_na
from models.rowexprs import compound
from models.units import M_SHARES_PER_BN

TITLE = "Nvidia income statement"
DESCRIPTION = ("Nvidia's P&L by fiscal quarter: reported quarters, then a driver-based "
               "forecast with China H200 (sheet china) on top, to GAAP and non-GAAP EPS. USD m.")


#: rows a run-to-run diff explains first (models.headlines): FY2028 = the target year CY2027
HEADLINES = ("revenue.Q4FY2027", "eps_non_gaap.Q4FY2027", "eps_non_gaap.Q4FY2028")

#: nvda_actuals rows the nvda sheet shows for its reported quarters
REPORTED = (
    ("revenue", "Revenue, reported", "USD m"),
    ("data_center_revenue", "Data Center revenue, reported", "USD m"),
    ("edge_computing_revenue", "Edge Computing revenue, reported", "USD m"),
    ("cogs", "Cost of revenue, reported", "USD m"),
    ("operating_expenses", "Operating expenses, reported", "USD m"),
    ("net_income_gaap", "Net income (GAAP), reported", "USD m"),
    ("eps_gaap_diluted", "Diluted EPS (GAAP), reported", "USD per share"),
    ("eps_non_gaap_as_reported", "Diluted EPS (non-GAAP, definition of the day), reported",
     "USD per share"),
    ("diluted_shares_implied", "Diluted shares implied by reported EPS", "bn shares"),
)

#: china rows phased into Nvidia's forecast quarters
CHINA = (
    ("customer_revenue", "China H200 customer (gross) revenue"),
    ("levy", "China H200 levy to the US government"),
    ("reported_revenue", "China H200 reported revenue (levy as booked)"),
    ("cogs", "China H200 COGS (levy as booked)"),
    ("opex", "China H200 operating expenses"),
)


def calendar_year(quarter: str) -> str:
    """``Q3FY2027`` → ``CY2026``: the Street maps Nvidia's FY n+1 (Feb–Jan) to CY n."""
    return f"CY{int(quarter[-4:]) - 1}"


def validate(a) -> None:
    """The last reported quarter is one the nvda_actuals sheet has, and every forecast quarter
    falls in a calendar year the china sheet covers."""
    quarters = a.periods("nvda")
    last = a.value("nvda.last_actual")
    reported = a.periods("nvda_actuals")
    item = a["nvda.last_actual"]
    if last not in reported:
        raise EqrError("the last reported quarter has no reported figures", file=item.file or None,
                       line=item.line, key=item.key, found=last,
                       expected=f"a quarter of the nvda_actuals sheet ({reported[0]} … "
                                f"{reported[-1]})",
                       hint="type the new quarter's figures into assumptions/nvda_actuals.yaml "
                            "first (its periods and every series)")
    china = a.periods("china")
    missing = sorted({calendar_year(q) for q in quarters[quarters.index(last) + 1:]}
                     - set(china))
    if missing:
        raise EqrError("forecast quarters fall in calendar years the china sheet does not cover",
                       file=item.file or None, line=item.line, key=item.key, found=last,
                       expected=f"a last reported quarter after which every quarter is in "
                                f"{china[0]} … {china[-1]}", hint=f"missing: {', '.join(missing)}")


def define(m: ModelBuilder) -> None:
    same_quarter = {q: (q,) for q in m.periods}
    by_calendar_year = {q: (calendar_year(q),) for q in m.periods}

    m.section("Timeline")
    last = m.input("last_actual", unit="period", series=False)
    new_def_from = m.input("non_gaap_new_definition_from", unit="period", series=False)
    number = m.row("quarter_number", "Quarter number on the timeline", "count",
                   PeriodNumber(m.name))
    actual = m.row("actual_flag", "Reported quarter (1) or forecast (0)", "flag",
                   IF(number <= PeriodNumber(m.name, last), 1, 0))
    m.row("non_gaap_new_definition_flag", "Non-GAAP includes stock-based compensation (1) or "
          "not (0)", "flag", IF(number >= PeriodNumber(m.name, new_def_from), 1, 0))

    m.section("Reported quarters (sheet nvda_actuals; #N/A after the last reported quarter)")
    actuals = m.model("nvda_actuals")
    rep = {name: m.row(f"{name}_reported", label, unit,
                       Across(actuals.row(name), m.name, same_quarter))
           for name, label, unit in REPORTED}

    m.section("Drivers (linked from the Inputs sheet)")
    g_dc = m.input("dc_growth_qoq", unit="growth rate", series=True)
    g_edge = m.input("edge_growth_qoq", unit="growth rate", series=True)
    margin = m.input("gross_margin_ex_china", unit="fraction", series=True)
    g_opex = m.input("opex_growth_qoq", unit="growth rate", series=True)
    other = m.input("other_income_per_quarter", unit="USD m", series=False)
    adjustments = m.input("non_gaap_adjustments", unit="USD m", series=False)
    tax_rate = m.input("tax_rate", unit="fraction", series=False)
    g_shares = m.input("share_change_qoq", unit="fraction (signed)", series=False)
    phasing = m.input("china_phasing", unit="fraction", series=True)

    m.section("China H200 (sheet china: calendar year × phasing; forecast quarters only)")
    china_spec = m.model("china")
    china = {name: m.row(f"china_{name}", label, "USD m",
                         IF(actual.eq(1), 0,
                            Across(china_spec.row(name), m.name, by_calendar_year) * phasing))
             for name, label in CHINA}
    m.row("china_selling_flag", "Quarter with China H200 revenue (1) or not (0)", "flag",
          IF(china["customer_revenue"] > 0, 1, 0))
    china_oi = m.row("china_operating_income", "China H200 operating income", "USD m",
                     china["reported_revenue"] - china["cogs"] - china["opex"])

    m.section("Revenue")
    dc_core = compound(m, "data_center_revenue_ex_china", "Data Center revenue excluding China "
                       "H200", "USD m", actual, rep["data_center_revenue"], g_dc)
    dc = m.row("data_center_revenue", "Data Center revenue", "USD m",
               dc_core + china["reported_revenue"])
    edge = compound(m, "edge_computing_revenue", "Edge Computing revenue", "USD m", actual,
                    rep["edge_computing_revenue"], g_edge)
    revenue = m.row("revenue", "Revenue", "USD m", dc + edge)
    m.row("revenue_growth_qoq", "Revenue growth q/q (n/a for the first quarter)", "growth rate",
          div_or_na(revenue, Prev(revenue.row)) - 1)

    m.section("Gross profit and operating income")
    core_cogs = m.row("cogs_ex_china", "Cost of revenue excluding China H200 (forecast)", "USD m",
                      (dc_core + edge) * (1 - margin))
    cogs = m.row("cogs", "Cost of revenue", "USD m",
                 IF(actual.eq(1), rep["cogs"], core_cogs + china["cogs"]))
    gross_profit = m.row("gross_profit", "Gross profit", "USD m", revenue - cogs)
    m.row("gross_margin", "Gross margin (GAAP)", "fraction", div_or_na(gross_profit, revenue))
    opex_core = compound(m, "operating_expenses_ex_china", "Operating expenses excluding China "
                         "H200", "USD m", actual, rep["operating_expenses"], g_opex)
    opex = m.row("operating_expenses", "Operating expenses", "USD m", opex_core + china["opex"])
    operating_income = m.row("operating_income", "Operating income (GAAP)", "USD m",
                             gross_profit - opex)

    m.section("Net income and EPS (reported quarters: other income and tax are not split)")
    other_income = m.row("other_income", "Other income (forecast: net interest)", "USD m",
                         IF(actual.eq(1), NA(), other))
    pretax = m.row("pretax_income", "Pre-tax income (forecast quarters)", "USD m",
                   operating_income + other_income)
    tax = m.row("income_tax", "Income tax (forecast quarters)", "USD m", pretax * tax_rate)
    net_income = m.row("net_income_gaap", "Net income (GAAP)", "USD m",
                       IF(actual.eq(1), rep["net_income_gaap"], pretax - tax))
    shares = compound(m, "diluted_shares", "Diluted shares", "bn shares", actual,
                      rep["diluted_shares_implied"], g_shares)
    per_share = shares * M_SHARES_PER_BN
    net_income_ng = m.row("net_income_non_gaap", "Net income (non-GAAP; reported quarters: "
                          "reported EPS × shares)", "USD m",
                          IF(actual.eq(1), rep["eps_non_gaap_as_reported"] * per_share,
                             (pretax + adjustments) * (1 - tax_rate)))
    m.row("eps_gaap", "Diluted EPS (GAAP)", "USD per share",
          IF(actual.eq(1), rep["eps_gaap_diluted"], net_income / per_share))
    m.row("eps_non_gaap", "Diluted EPS (non-GAAP; new definition from Q1 FY2027)",
          "USD per share",
          IF(actual.eq(1), rep["eps_non_gaap_as_reported"], net_income_ng / per_share))
    m.row("china_eps_contribution", "China H200 EPS contribution", "USD per share",
          china_oi * (1 - tax_rate) / per_share)
    m.row("china_levy_eps", "EPS cost of the China H200 levy (after tax; either booking)",
          "USD per share", china["levy"] * (1 - tax_rate) / per_share)

    m.section("Checks")
    m.check("check_reported_revenue", "Reported quarters: revenue equals the reported figure",
            IF(actual.eq(1), revenue - rep["revenue"], 0))
    m.check("check_reported_operating_income", "Reported quarters: GAAP operating income from "
            "the P&L equals reported revenue − COGS − opex",
            IF(actual.eq(1), operating_income - (rep["revenue"] - rep["cogs"]
                                                 - rep["operating_expenses"]), 0))
