"""Nvidia EPS and price target, with the China H200 business flowing through.

BofA's method (Dec 2025 note): price target = 28× CY2027E EPS excluding cash, plus net cash per
share. The reference EPS path is what BofA's published figures imply (see the assumption sheet);
whether it already holds the China H200 profit is an explicit choice. The China H200 EPS
contribution is linked from the ``china`` sheet.

Defined as::

    eps_ex_china     = eps_reference − included × china_eps_contribution
    eps              = eps_ex_china + china_eps_contribution
    net_cash_per_share = (cash − debt) / diluted shares    (USD bn / bn shares)
    price_target     = multiple × eps[target_period] + net_cash_per_share
    upside           = price_target / share_price − 1
    pe               = share_price / eps                      (per period)

Units: EPS and prices in USD per share, money in USD bn, multiples in x.
"""
from __future__ import annotations

from models.lineitems import IF, At, ModelBuilder, SumRows, safe_div

TITLE = "Valuation"
DESCRIPTION = ("Nvidia EPS with and without the China H200 business, net cash per share, and "
               "the price target = multiple × target-year EPS + net cash per share.")

#: scenario probabilities are the assumptions named ``probability_<scenario>``
PROBABILITY_PREFIX = "probability_"

#: headline outputs (scalar rows) shown side by side per scenario and reported by the sweep
#: scalar outputs shown side by side per scenario (models.compare) and swept by default
COMPARE_HEADLINES: tuple[tuple[str, str], ...] = (
    ("valuation.china_eps_target", "China H200 EPS contribution, target year"),
    ("valuation.eps_target", "EPS, target year"),
    ("valuation.china_value_per_share", "China H200 value in the target"),
    ("valuation.price_target", "Price target"),
    ("valuation.upside", "Upside to the share price"),
    ("valuation.pe_target_year", "P/E at the share price, target year"),
)
#: rows a run-to-run diff explains first (models.headlines)
HEADLINES = tuple(key.split(".", 1)[1] for key, _ in COMPARE_HEADLINES)


def probability_names(assumptions) -> list[str]:
    """Scenario names that carry a probability, in sheet order (``probability_base`` → base)."""
    return [item.name[len(PROBABILITY_PREFIX):] for item in assumptions.for_model("valuation")
            if item.name.startswith(PROBABILITY_PREFIX)]


def define(m: ModelBuilder) -> None:
    m.section("Inputs (linked from the Inputs sheet and the china sheet)")
    reference = m.input("eps_reference")
    china_in_reference = m.input("china_in_reference_eps")
    china_eps = m.link("china.eps_contribution", label="China H200 EPS contribution (sheet china)")
    multiple = m.input("multiple")
    target_period = m.input("target_period")
    cash = m.input("cash_usd_bn")
    debt = m.input("debt_usd_bn")
    shares = m.link("china.diluted_shares_bn")
    price = m.input("share_price")

    m.section("EPS")
    included = m.row("china_included_flag", "China H200 already in the reference EPS (1) or not (0)",
                     "flag", IF(china_in_reference.eq("included"), 1, 0))
    ex_china = m.row("eps_ex_china", "EPS excluding China H200", "USD per share",
                     reference - included * china_eps)
    eps = m.row("eps", "EPS including China H200", "USD per share", ex_china + china_eps)

    m.section("Price target")
    net_cash = m.row("net_cash", "Net cash", "USD bn", cash - debt)
    cash_ps = m.row("net_cash_per_share", "Net cash per share", "USD per share",
                    safe_div(net_cash, shares))
    eps_target = m.row("eps_target", "EPS in the target year", "USD per share",
                       At(eps.row, target_period))
    china_target = m.row("china_eps_target", "China H200 EPS contribution in the target year",
                         "USD per share", At(china_eps.row, target_period))
    m.row("eps_ex_china_target", "EPS excluding China H200 in the target year", "USD per share",
          At(ex_china.row, target_period))
    earnings_value = m.row("earnings_value_per_share", "Value of earnings (multiple × EPS)",
                           "USD per share", multiple * eps_target)
    m.row("china_value_per_share", "of which China H200 (multiple × China EPS)",
          "USD per share", multiple * china_target)
    target = m.row("price_target", "Price target", "USD per share", earnings_value + cash_ps)
    m.row("upside", "Upside to the share price", "fraction",
          safe_div(target, price) - 1)
    pe = m.row("pe", "P/E at the share price", "x", safe_div(price, eps))
    m.row("pe_target_year", "P/E at the share price, target year", "x", At(pe.row, target_period))
    m.row("pe_at_target", "P/E at the price target, target year", "x",
          safe_div(target, eps_target))

    target_year = m.assumptions.value("valuation.target_period")
    if m.assumptions.value("china.units_source") == "typed":
        # On the default market path the units are an output of china_market; varying any of
        # its drivers inlines the whole china_market chain into each cell and exceeds Excel's
        # formula length (the china sheet's EPS grid varies the licence approval rate instead).
        m.grid("grid_pt_units_asp", f"Price target: H200 units to China in {target_year} × ASP",
               target, rows=f"china.h200_units.{target_year}", cols="china.asp_usd")
    m.grid("grid_pt_multiple_eps", f"Price target: multiple × reference EPS {target_year}",
           target, rows=f"valuation.eps_reference.{target_year}", cols="valuation.multiple")

    m.section("Scenario probabilities (for the probability-weighted target on sheet Scenarios)")
    probabilities = [m.input(PROBABILITY_PREFIX + name) for name in probability_names(
        m.assumptions)]
    total = m.row("probability_total", "Sum of scenario probabilities", "fraction",
                  SumRows([p.row for p in probabilities]) if probabilities else 0)

    m.section("Checks")
    m.check("check_eps_bridge", "EPS = EPS excluding China + China contribution",
            eps - ex_china - china_eps)
    if probabilities:
        m.check("check_probabilities_sum_to_one", "Scenario probabilities sum to 1", total - 1)
