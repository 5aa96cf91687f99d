"""Nvidia EPS, price target and a DCF cross-check, from the model's own EPS.

By default the EPS is the ``nvda`` model's non-GAAP EPS (sheet ``nvda_fy``), calendarised by the
Street's convention CY n = FY n+1, with China H200 already inside it. With ``eps_source: typed``
the EPS is the typed reference (BofA's implied EPS; scenario ``bofa``) and the China H200
contribution of the ``china`` sheet is added unless ``china_in_reference_eps`` says it is in.

BofA's method (Dec 2025 note): price target = multiple × target-year EPS + net cash per share.

Defined as::

    eps                = model: nvda_fy.eps_non_gaap(FY n+1);  typed: reference − included × china + china
    net_cash_per_share = (cash − debt) / diluted shares
    price_target       = multiple × eps[target_period] + net_cash_per_share
    upside             = price_target / share_price − 1

DCF (cash flows from the start of CY2026; USD m)::

    FCF(CY2026), FCF(CY2027) = fcf_conversion × net income (non-GAAP; nvda_fy FY2027, FY2028)
    then ``growth_years`` years at ``growth_rate``, then a terminal value at ``terminal_growth``
    q = (1 + g) / (1 + r)
    value = F1/(1+r) + F2/(1+r)^2 + F2/(1+r)^2 × q (1 − q^N)/(1 − q)
            + F2 (1+g)^N (1+g_t)/(r − g_t) / (1+r)^(2+N)
    implied terminal growth: the g_t at which the DCF value equals the share price

Units: EPS and prices in USD per share, money in USD bn (cash) or USD m (cash flows), x.
"""
from __future__ import annotations

from models.lineitems import (IF, NA, Across, At, ModelBuilder, SumRows, div_or_na, safe_div,
                              wrap)
from models.units import M_SHARES_PER_BN

TITLE = "Valuation"
DESCRIPTION = ("Nvidia EPS from the model (or typed), net cash per share, the price target = "
               "multiple × target-year EPS + net cash per share, and a DCF cross-check.")

#: scenario probabilities are the assumptions named ``probability_<scenario>``
PROBABILITY_PREFIX = "probability_"

#: scalar outputs shown side by side per scenario (models.compare) and swept by default
COMPARE_HEADLINES: tuple[tuple[str, str], ...] = (
    ("valuation.china_eps_target", "China H200 EPS contribution, target year"),
    ("valuation.eps_target", "EPS, target year"),
    ("valuation.china_value_per_share", "China H200 value in the target"),
    ("valuation.price_target", "Price target"),
    ("valuation.upside", "Upside to the share price"),
    ("valuation.pe_target_year", "P/E at the share price, target year"),
    ("valuation.dcf_value_per_share", "DCF value per share"),
)
#: rows a run-to-run diff explains first (models.headlines)
HEADLINES = tuple(key.split(".", 1)[1] for key, _ in COMPARE_HEADLINES)


def probability_names(assumptions) -> list[str]:
    """Scenario names that carry a probability, in sheet order (``probability_base`` → base)."""
    return [item.name[len(PROBABILITY_PREFIX):] for item in assumptions.for_model("valuation")
            if item.name.startswith(PROBABILITY_PREFIX)]


def fiscal_year(calendar: str) -> str:
    """``CY2027`` → ``FY2028``: the Street's calendarisation of Nvidia's Feb–Jan year."""
    return f"FY{int(calendar[-4:]) + 1}"


def define(m: ModelBuilder) -> None:
    calendarised = {p: (fiscal_year(p),) for p in m.periods}
    fy = m.model("nvda_fy")

    m.section("EPS: from the model (sheet nvda_fy, CY n = FY n+1) or typed")
    source = m.input("eps_source", unit="choice", series=False)
    from_model = m.row("eps_from_model_flag", "EPS from the model (1) or typed (0)", "flag",
                       IF(source.eq("model"), 1, 0))
    model_eps = m.row("eps_model", "Non-GAAP EPS, model (sheet nvda_fy)", "USD per share",
                      Across(fy.row("eps_non_gaap"), m.name, calendarised))
    model_china = m.row("china_eps_model", "of which China H200 (sheet nvda_fy)",
                        "USD per share", Across(fy.row("china_eps_contribution"), m.name,
                                                calendarised))
    model_net_income = m.row("net_income_non_gaap_model", "Non-GAAP net income, model "
                             "(sheet nvda_fy)", "USD m",
                             Across(fy.row("net_income_non_gaap"), m.name, calendarised))
    reference = m.input("eps_reference")
    china_in_reference = m.input("china_in_reference_eps")
    china_sheet = m.link("china.eps_contribution", name="china_eps_china_sheet",
                         label="China H200 EPS contribution (sheet china; typed path)")
    included = m.row("china_included_flag", "Typed path: China H200 already in the reference "
                     "EPS (1) or not (0)", "flag", IF(china_in_reference.eq("included"), 1, 0))
    china_eps = m.row("china_eps_contribution", "China H200 EPS contribution", "USD per share",
                      IF(from_model.eq(1), model_china, china_sheet))
    ex_china = m.row("eps_ex_china", "EPS excluding China H200", "USD per share",
                     IF(from_model.eq(1), model_eps - model_china,
                        reference - included * china_sheet))
    eps = m.row("eps", "EPS including China H200", "USD per share", ex_china + china_eps)
    m.row("eps_vs_reference", "EPS against BofA's implied EPS (typed reference)", "fraction",
          div_or_na(eps, reference) - 1)
    consensus = m.input("consensus_eps_fy2027")
    m.row("eps_vs_consensus", f"{m.periods[0]} EPS against the Oct 2025 consensus for "
          f"{fiscal_year(m.periods[0])} (old definition)", "fraction",
          div_or_na(At(eps.row, wrap(m.periods[0])), consensus) - 1)
    consensus_q1 = m.input("consensus_eps_q1fy2027")
    m.row("q1fy2027_beat", "Q1 FY2027 non-GAAP EPS reported less the consensus before the report",
          "USD per share",
          At(m.model("nvda").row("eps_non_gaap"), wrap("Q1FY2027")) - consensus_q1)

    m.section("Price target")
    multiple = m.input("multiple")
    target_period = m.input("target_period")
    cash = m.input("cash_usd_bn")
    debt = m.input("debt_usd_bn")
    shares = m.link("china.diluted_shares_bn")
    price = m.input("share_price")
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
    m.row("upside", "Upside to the share price", "fraction", div_or_na(target, price) - 1)
    pe = m.row("pe", "P/E at the share price", "x", div_or_na(price, eps))
    m.row("pe_target_year", "P/E at the share price, target year", "x", At(pe.row, target_period))
    m.row("pe_at_target", "P/E at the price target, target year", "x",
          div_or_na(target, eps_target))
    m.row("implied_multiple", "Multiple the share price implies on target-year EPS (ex cash)",
          "x", div_or_na(price - cash_ps, eps_target))

    _bridge(m, reference, eps_target, china_target, target_period, calendarised, shares)
    _dcf(m, model_net_income, shares, cash_ps, price)

    if m.assumptions.value("valuation.eps_source") == "typed":
        target_year = m.assumptions.value("valuation.target_period")
        m.grid("grid_pt_multiple_eps", f"Price target: multiple × reference EPS {target_year}",
               target, rows=f"valuation.eps_reference.{target_year}", cols="valuation.multiple")
    m.grid("grid_upside_multiple_price", "Upside: multiple × share price",
           m.ref("upside"), rows="valuation.share_price", cols="valuation.multiple")

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


#: the EPS bridge's steps (row names), from BofA's implied EPS to the EPS the target uses
BRIDGE_STEPS = ("bridge_definition", "bridge_outlook", "bridge_china_volume", "bridge_levy",
                "bridge_booking")


def _bridge(m: ModelBuilder, reference, eps_target, china_target, target_period,
            calendarised, shares) -> None:
    """Target-year EPS from BofA's implied figure to the one the target uses, step by step.

    The definition step scales BofA's (old-definition) EPS by Nvidia's own recast of Q4 FY2026
    (stock-based compensation now a cost); China volume is the China H200 EPS before the levy;
    the booking step is zero by the accounting identity (either booking, same EPS); the outlook
    is what remains: the model's data-center, margin, opex and share-count view.
    """
    m.section("EPS bridge, target year: BofA's implied EPS to the EPS the target uses")
    actuals = m.model("nvda_actuals")
    recast = m.row("sbc_recast_ratio", "Non-GAAP EPS on the new definition ÷ old (Nvidia's "
                   "recast, Q4 FY2026)", "ratio",
                   1 + actuals.row("sbc_effect_q4fy2026").ref()
                   / At(actuals.row("eps_non_gaap_as_reported"), wrap("Q4FY2026")))
    levy = m.row("china_levy_eps", "EPS cost of the China H200 levy (sheet nvda_fy)",
                 "USD per share", Across(m.model("nvda_fy").row("china_levy_eps"), m.name,
                                         calendarised))
    start = m.row("bridge_start", "BofA's implied EPS (old non-GAAP definition)",
                  "USD per share", At(reference.row, target_period))
    definition = m.row("bridge_definition", "Non-GAAP definition: stock-based compensation "
                       "now a cost", "USD per share", start * (recast - 1))
    levy_target = At(levy.row, target_period)
    volume = m.row("bridge_china_volume", "China H200 volume (EPS before the levy)",
                   "USD per share", china_target + levy_target)
    levy_step = m.row("bridge_levy", "US levy on China H200", "USD per share", 0 - levy_target)
    china = m.model("china")
    same_year = {p: (p,) for p in m.periods}
    gp_gap = m.row("china_gross_profit_booking_gap", "China H200 gross profit, contra-revenue "
                   "less COGS booking (sheet china)", "USD m",
                   Across(china.row("gross_profit_contra"), m.name, same_year)
                   - Across(china.row("gross_profit_cogs"), m.name, same_year))
    booking = m.row("bridge_booking", "Levy booked as contra-revenue instead of COGS (gross "
                    "profit gap per share)", "USD per share",
                    At(gp_gap.row, target_period) / (shares * M_SHARES_PER_BN))
    m.row("bridge_outlook", "Data-center outlook, margins, opex and shares (the rest)",
          "USD per share", eps_target - start - definition - volume - levy_step - booking)
    m.check("check_bridge_closes", "EPS bridge closes: start + steps = target-year EPS",
            SumRows([start.row] + [m.ref(name).row for name in BRIDGE_STEPS]) - eps_target)


def _dcf(m: ModelBuilder, net_income, shares, cash_ps, price) -> None:
    """The DCF rows (scalars; the explicit years are the valuation's two calendar years)."""
    m.section("DCF cross-check (cash flows from the start of CY2026; USD m)")
    conversion = m.input("fcf_conversion")
    r = m.input("discount_rate")
    g = m.input("growth_rate")
    n = m.input("growth_years")
    g_t = m.input("terminal_growth")
    first, second = m.periods[0], m.periods[-1]
    fcf = m.row("fcf", "Free cash flow (conversion × non-GAAP net income)", "USD m",
                conversion * net_income)
    f1 = m.row("fcf_first_year", f"Free cash flow {first}", "USD m", At(fcf.row, wrap(first)))
    f2 = m.row("fcf_second_year", f"Free cash flow {second}", "USD m", At(fcf.row, wrap(second)))
    q = m.row("dcf_growth_discount_ratio", "(1 + growth) / (1 + discount rate)", "ratio",
              (1 + g) / (1 + r))
    pv_explicit = m.row("pv_explicit", "Present value of the two explicit years", "USD m",
                        f1 / (1 + r) + f2 / (1 + r) ** 2)
    pv_growth = m.row("pv_growth_years", "Present value of the growth years", "USD m",
                      IF(q.eq(1), f2 / (1 + r) ** 2 * n,
                         f2 / (1 + r) ** 2 * q * (1 - q ** n) / (1 - q)))
    last_fcf = m.row("fcf_last_growth_year", "Free cash flow in the last growth year", "USD m",
                     f2 * (1 + g) ** n)
    discount_end = m.row("discount_factor_end", "Discount factor at the end of the growth years",
                         "ratio", 1 / (1 + r) ** (2 + n))
    pv_terminal = m.row("pv_terminal", "Present value of the terminal value", "USD m",
                        IF(g_t < r, last_fcf * (1 + g_t) / (r - g_t) * discount_end, NA()))
    per_share = shares * M_SHARES_PER_BN
    ev_ps = m.row("dcf_operations_per_share", "DCF value of operations per share",
                  "USD per share", (pv_explicit + pv_growth + pv_terminal) / per_share)
    m.row("pv_terminal_share", "Terminal value's share of the DCF value of operations",
          "fraction", div_or_na(pv_terminal, pv_explicit + pv_growth + pv_terminal))
    dcf = m.row("dcf_value_per_share", "DCF value per share (operations + net cash)",
                "USD per share", ev_ps + cash_ps)
    m.row("dcf_upside", "DCF value against the share price", "fraction",
          div_or_na(dcf, price) - 1)
    needed = m.row("terminal_value_implied", "Terminal value the share price implies", "USD m",
                   ((price - cash_ps) * per_share - pv_explicit - pv_growth) / discount_end)
    m.check("check_terminal_growth_below_discount_rate", "Terminal growth is below the discount "
            "rate (else the terminal value is not finite)", IF(g_t < r, 0, 1))
    m.row("terminal_growth_implied", "Terminal growth the share price implies", "fraction (signed)",
          div_or_na(needed * r - last_fcf, needed + last_fcf))
