"""The Nvidia earnings model (sheets nvda_actuals, nvda, nvda_fy): reported quarters against the
reference file, a hand-worked forecast quarter, the levy's booking, and identities."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from models import engine
from models.assumptions import resolve, set_value
from models.errors import EqrError

#: a copy of ../shared/reference/nvda-financials.csv (the project's reference file), kept with the
#: tests so that the check runs on any checkout
REFERENCE = Path(__file__).resolve().parent / "data" / "nvda-financials.csv"


def run(a):
    return engine.run(a).line_outputs


def with_values(a, **values):
    for key, v in values.items():
        a = set_value(a, key.replace("__", "."), v, set_by="test")
    return a


@pytest.fixture(scope="module")
def o():
    return run(resolve())


# --------------------------------------------------------------------------- reported quarters
def _reference(key: str) -> dict[str, float]:
    """``{"Q3FY2026": 57006.0, ...}`` for a key of nvda-financials.csv (plain quarters only)."""
    out = {}
    with open(REFERENCE, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            period = row["period"].split(" ")[0]
            if row["key"] == key and period.startswith("Q") and len(period) == 6:
                try:
                    out[period.replace("FY", "FY20")] = float(row["value"])
                except ValueError:
                    pass
    return out


@pytest.mark.parametrize("key, row", [("nvda_rev", "revenue"),
                                      ("nvda_dc_rev", "data_center_revenue"),
                                      ("nvda_ni_gaap", "net_income_gaap"),
                                      ("nvda_opinc_gaap", "operating_income")])
def test_reported_quarters_match_the_reference_file(o, key, row):
    """Every quarter the reference file gives (as an exact figure in USD m) is what the nvda
    sheet shows for that reported quarter."""
    reference = _reference(key)
    checked = 0
    for quarter, value in reference.items():
        out = o.get(f"nvda.{row}.{quarter}")
        if out is None or value < 1000 and row != "operating_income":
            continue  # quarters the model does not cover; rounded USD bn rows
        assert out == pytest.approx(value, abs=1.0), quarter
        checked += 1
    assert checked >= 3


def test_fy2026_reproduces_what_nvidia_reported(o):
    """Q3 FY2026 revenue 57,006 and data center 51,215 (Nvidia's Q3 FY2026 release); FY2026
    revenue 44,062 + 46,743 + 57,006 + 68,127 = 215,938 ≈ $215.9bn reported; non-GAAP EPS
    0.81 + 1.05 + 1.30 + 1.62 = 4.78 against 4.77 reported (old definition, rounding)."""
    assert o["nvda.revenue.Q3FY2026"] == 57_006
    assert o["nvda.data_center_revenue.Q3FY2026"] == 51_215
    assert o["nvda_fy.revenue.FY2026"] == pytest.approx(215_938)
    assert o["nvda_fy.revenue.FY2026"] == pytest.approx(215_900, abs=50)
    assert o["nvda_fy.eps_non_gaap.FY2026"] == pytest.approx(4.78)
    assert o["nvda_fy.eps_gaap.FY2026"] == pytest.approx(4.90)
    for check in ("check_revenue_fy2026", "check_data_center_revenue_fy2026",
                  "check_eps_non_gaap_fy2026", "check_eps_gaap_fy2026"):
        assert abs(o[f"nvda_fy.{check}"]) <= 50, check
    assert abs(o["nvda_fy.check_eps_non_gaap_fy2026"]) <= 0.015


def test_q2_fy2027_forecast_by_hand(o):
    """Q2 FY2027, the first forecast quarter, worked by hand from the sheets:
    Data Center 75,246 × 1.1222 = 84,441.06; Edge 6,369 × 1.03 = 6,560.07; revenue 91,001.13
    (Nvidia guided 91,000 ex China); COGS 91,001.13 × (1 − 0.749) = 22,841.28; opex
    7,621 × 1.08 = 8,230.68; operating income 59,929.17; + other income 450 = 60,379.17 pre-tax;
    × (1 − 0.17) = 50,114.71 GAAP net income; shares 58,321 / 2.39 / 1000 × 0.997 = 24.3288bn;
    GAAP EPS 2.0599; non-GAAP (60,379.17 + 250) × 0.83 / 24,328.8 = 2.0684."""
    q = "Q2FY2027"
    assert o[f"nvda.revenue.{q}"] == pytest.approx(91_001.13, abs=0.01)
    assert o[f"nvda.gross_profit.{q}"] == pytest.approx(91_001.13 * 0.749, abs=0.01)
    assert o[f"nvda.operating_income.{q}"] == pytest.approx(59_929.17, abs=0.02)
    assert o[f"nvda.net_income_gaap.{q}"] == pytest.approx(50_114.71, abs=0.02)
    shares = 58_321 / 2.39 / 1000 * 0.997
    assert o[f"nvda.diluted_shares.{q}"] == pytest.approx(shares, rel=1e-12)
    assert o[f"nvda.eps_gaap.{q}"] == pytest.approx(50_114.71 / (shares * 1000), abs=1e-5)
    assert o[f"nvda.eps_non_gaap.{q}"] == pytest.approx(60_629.17 * 0.83 / (shares * 1000),
                                                       abs=1e-5)
    assert o[f"nvda.china_reported_revenue.{q}"] == 0  # guidance excluded China DC revenue


def test_china_cy2026_lands_in_q3_q4_fy2027(o):
    """china_phasing: none in Q1–Q2 FY2027 (guidance excluded China), half in each of Q3–Q4."""
    cy = o["china.reported_revenue.CY2026"]
    assert cy > 0
    assert o["nvda.china_reported_revenue.Q3FY2027"] == pytest.approx(cy / 2)
    assert o["nvda_fy.china_reported_revenue.FY2027"] == pytest.approx(cy)
    assert all(o[f"nvda_fy.check_china_phasing.{y}"] == 0 for y in ("FY2027", "FY2028"))


# --------------------------------------------------------------------------- the levy
def test_contra_revenue_lowers_revenue_by_the_levy_and_leaves_eps():
    """Booking the levy as contra-revenue: FY2027 reported revenue falls by exactly the levy;
    gross profit, EPS and the price target do not move; the gross margin rises."""
    cogs = run(resolve())
    contra = run(with_values(resolve(), china__levy_treatment="contra_revenue"))
    levy = cogs["nvda_fy.china_levy.FY2027"]
    assert levy > 0
    assert cogs["nvda_fy.revenue.FY2027"] - contra["nvda_fy.revenue.FY2027"] == \
        pytest.approx(levy, rel=1e-12)
    assert contra["nvda_fy.gross_profit.FY2027"] == pytest.approx(
        cogs["nvda_fy.gross_profit.FY2027"], rel=1e-12)
    assert contra["nvda_fy.gross_margin.FY2027"] > cogs["nvda_fy.gross_margin.FY2027"]
    for key in ("nvda_fy.eps_non_gaap.FY2027", "valuation.price_target"):
        assert contra[key] == pytest.approx(cogs[key], rel=1e-12)


def test_a_lower_levy_raises_the_target_when_china_buys_in_the_target_year():
    """china_open ships H200 in CY2027 (the target year): a 15% levy instead of 25% raises
    EPS and the target."""
    open_ = resolve(["china_open"])
    assert run(open_)["valuation.china_eps_target"] > 0
    low = run(with_values(open_, china__levy_rate=0.15))
    assert low["valuation.price_target"] > run(open_)["valuation.price_target"]


def test_bear_base_bull_order_and_bofa_reproduced(o):
    bear = run(resolve(["nvda_bear"]))["valuation.price_target"]
    bull = run(resolve(["nvda_bull"]))["valuation.price_target"]
    assert bear < o["valuation.price_target"] < bull
    assert run(resolve(["bofa"]))["valuation.price_target"] == pytest.approx(275, abs=1)


# --------------------------------------------------------------------------- the timeline
def test_moving_last_actual_back_turns_a_reported_quarter_into_a_forecast():
    """With last_actual = Q4FY2026, Q1 FY2027 is forecast from Q4 FY2026 with the realised
    growth rates typed for it (rounded to 4 decimals), so it lands close to what was reported."""
    a = with_values(resolve(), nvda__last_actual="Q4FY2026")
    o = run(a)
    assert o["nvda.actual_flag.Q1FY2027"] == 0
    assert o["nvda.revenue.Q1FY2027"] == pytest.approx(81_615, rel=1e-3)
    assert o["nvda.revenue.Q1FY2027"] != 81_615


def test_a_last_actual_without_reported_figures_is_a_clear_error():
    from models.assumptions import check_models
    a = with_values(resolve(), nvda__last_actual="Q3FY2027")
    with pytest.raises(EqrError) as err:
        check_models(a)
    assert "nvda_actuals" in str(err.value)


# --------------------------------------------------------------------------- identities
@settings(max_examples=25, deadline=None)
@given(growth=st.floats(min_value=-0.3, max_value=0.5),
       margin=st.floats(min_value=0.3, max_value=0.9),
       levy=st.floats(min_value=0, max_value=0.5),
       units=st.floats(min_value=0, max_value=3e6))
def test_identities(growth, margin, levy, units):
    """For any drivers: revenue = Data Center + Edge; Data Center = ex-China + China; reported
    quarters never move; fiscal years are the sums of their quarters; the levy's booking
    never moves EPS."""
    a = with_values(resolve(), nvda__dc_growth_qoq__Q3FY2027=growth,
                    nvda__gross_margin_ex_china__Q3FY2027=margin, china__levy_rate=levy,
                    china__units_source="typed", china__h200_units__CY2026=units)
    o = run(a)
    quarters = a.periods("nvda")
    for q in quarters:
        assert o[f"nvda.revenue.{q}"] == pytest.approx(
            o[f"nvda.data_center_revenue.{q}"] + o[f"nvda.edge_computing_revenue.{q}"])
        assert o[f"nvda.data_center_revenue.{q}"] == pytest.approx(
            o[f"nvda.data_center_revenue_ex_china.{q}"] + o[f"nvda.china_reported_revenue.{q}"])
    assert o["nvda.revenue.Q1FY2027"] == 81_615 and o["nvda.eps_gaap.Q1FY2027"] == 2.39
    assert o["nvda_fy.revenue.FY2027"] == pytest.approx(
        sum(o[f"nvda.revenue.Q{i}FY2027"] for i in range(1, 5)))
    flipped = run(set_value(a, "china.levy_treatment", "contra_revenue", set_by="t"))
    assert flipped["nvda_fy.eps_non_gaap.FY2027"] == pytest.approx(
        o["nvda_fy.eps_non_gaap.FY2027"], rel=1e-12)
    assert o["valuation.eps_ex_china.CY2026"] + o["valuation.china_eps_contribution.CY2026"] \
        == pytest.approx(o["valuation.eps.CY2026"])
