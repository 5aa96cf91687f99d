"""Valuation model: BofA's published arithmetic, hand-worked examples and identities."""
import pytest
from hypothesis import given, settings, strategies as st

from models import engine
from models.assumptions import resolve, set_value


def typed(a):
    """The typed paths: typed China units and the typed (BofA-implied) reference EPS."""
    a = set_value(a, "china.units_source", "typed", set_by="test")
    return set_value(a, "valuation.eps_source", "typed", set_by="test")


def run_with(a, **values):
    for key, v in values.items():
        a = set_value(a, key.replace("__", "."), v, set_by="test")
    return engine.run(a).line_outputs


def test_bofa_scenario_reproduces_the_275_target():
    """BofA: $275 = 28× CY2027E EPS ex-cash. Net cash (60.608 − 0.999 − 7.468) / 24.483 bn
    shares = $2.1297; the sheet's implied EPS 9.745 → 28 × 9.745 + 2.1297 = $274.99."""
    o = engine.run(resolve(["bofa"])).line_outputs
    assert o["valuation.net_cash_per_share"] == pytest.approx(52.141 / 24.483, rel=1e-12)
    assert o["valuation.eps_target"] == pytest.approx(9.745)
    assert o["valuation.price_target"] == pytest.approx(275, abs=1)
    assert o["valuation.price_target"] == pytest.approx(28 * 9.745 + 52.141 / 24.483,
                                                        rel=1e-12)


def test_bofa_scenario_reproduces_the_stock_multiples():
    """BofA: the stock trades at 25× CY2026E and 19× CY2027E EPS (rounded)."""
    o = engine.run(resolve(["bofa"])).line_outputs
    assert o["valuation.pe.CY2026"] == pytest.approx(25, abs=0.05)
    assert o["valuation.pe.CY2027"] == pytest.approx(19, abs=0.05)


def test_base_target_is_the_models_own_eps(base):
    """Base: the target rests on the nvda model's FY2028 non-GAAP EPS (CY2027 by the Street's
    calendarisation), not on BofA's: PT = 28 × nvda_fy.eps_non_gaap.FY2028 + net cash."""
    o = engine.run(base).line_outputs
    assert o["valuation.eps_target"] == pytest.approx(o["nvda_fy.eps_non_gaap.FY2028"],
                                                      rel=1e-12)
    assert o["valuation.eps.CY2026"] == pytest.approx(o["nvda_fy.eps_non_gaap.FY2027"],
                                                      rel=1e-12)
    assert o["valuation.price_target"] == pytest.approx(
        28 * o["nvda_fy.eps_non_gaap.FY2028"] + 52.141 / 24.483, rel=1e-12)
    assert o["valuation.price_target"] != pytest.approx(275, abs=5)  # not BofA's by construction


def test_base_upside_is_against_the_dated_share_price(base):
    o = engine.run(base).line_outputs
    assert o["valuation.share_price"] == 221.69
    assert o["valuation.upside"] == pytest.approx(o["valuation.price_target"] / 221.69 - 1)


def test_typed_units_add_the_china_contribution_to_the_reference_eps(base):
    """Typed path, 1M H200 in CY2027: China excluded from the reference EPS, so EPS = 9.745 +
    15,300 / 24,483 = 10.370 and the target rises by 28 × 0.6249 = $17.50 to $292.49."""
    o = engine.run(typed(base)).line_outputs
    china = 15_300 / 24_483
    assert o["valuation.china_eps_target"] == pytest.approx(china, rel=1e-12)
    assert o["valuation.eps_target"] == pytest.approx(9.745 + china, rel=1e-12)
    assert o["valuation.china_value_per_share"] == pytest.approx(28 * china, rel=1e-12)
    assert o["valuation.price_target"] == pytest.approx(28 * (9.745 + china) + 52.141 / 24.483,
                                                        rel=1e-12)
    assert o["valuation.price_target"] == pytest.approx(292.49, abs=0.01)
    assert o["valuation.upside"] == pytest.approx(292.4875 / 221.69 - 1, abs=1e-5)


def test_china_ban_removes_the_china_contribution():
    o = engine.run(resolve(["china_ban"])).line_outputs
    assert o["valuation.china_eps_target"] == 0
    assert o["nvda_fy.china_reported_revenue.FY2027"] == 0


def test_target_period_picks_that_year(base):
    """Applying the multiple to CY2026 EPS: 28 × (7.406 + 0.6249) + 2.1297."""
    o = run_with(typed(base), valuation__target_period="CY2026")
    assert o["valuation.price_target"] == pytest.approx(
        28 * (7.406 + 15_300 / 24_483) + 52.141 / 24.483, rel=1e-12)


def test_probabilities_must_sum_to_one_shows_on_the_check(base):
    o = run_with(base, valuation__probability_base=0.6)  # 0.6 + 0.3 + 0.2
    assert o["valuation.check_probabilities_sum_to_one"] == pytest.approx(0.1)


@settings(max_examples=25, deadline=None)  # three full runs each
@given(multiple=st.floats(min_value=5, max_value=60),
       units=st.floats(min_value=0, max_value=3e6),
       treatment=st.sampled_from(["cogs", "contra_revenue"]))
def test_price_target_identities(base, multiple, units, treatment):
    """PT = multiple × EPS + cash; 'included' takes the reference EPS as the whole EPS (so
    China volumes do not move it); the levy's booking never moves EPS."""
    a = set_value(typed(base), "valuation.multiple", multiple, set_by="t")
    a = set_value(a, "china.h200_units.CY2027", units, set_by="t")
    a = set_value(a, "china.levy_treatment", treatment, set_by="t")
    excluded = engine.run(a).line_outputs
    included = engine.run(set_value(a, "valuation.china_in_reference_eps", "included",
                                    set_by="t")).outputs
    cash = excluded["valuation.net_cash_per_share"]
    assert excluded["valuation.price_target"] == pytest.approx(
        multiple * excluded["valuation.eps_target"] + cash, rel=1e-12)
    assert included["valuation.eps_target"] == pytest.approx(9.745, rel=1e-12)
    assert excluded["valuation.eps_target"] - included["valuation.eps_target"] == pytest.approx(
        excluded["valuation.china_eps_target"], rel=1e-9, abs=1e-12)
    other = "cogs" if treatment == "contra_revenue" else "contra_revenue"
    flipped = engine.run(set_value(a, "china.levy_treatment", other, set_by="t")).line_outputs
    assert flipped["valuation.price_target"] == pytest.approx(excluded["valuation.price_target"],
                                                              rel=1e-12)


def test_price_target_grids_by_hand(base):
    """Typed path. Multiple 19 on reference EPS 8.771: 19 × (8.771 + 0.6249) + 2.1297 = 180.65."""
    from models.grids import grid_frame
    result = engine.run(typed(base))
    cash = 52.141 / 24.483
    multiple = grid_frame(result, "valuation.grid_pt_multiple_eps")
    assert multiple.loc[8.771, 19.0] == pytest.approx(19 * (8.771 + 15_300 / 24_483) + cash,
                                                      rel=1e-12)
    assert multiple.iloc[2, 2] == pytest.approx(28 * (multiple.index[2] + 15_300 / 24_483) + cash,
                                                rel=1e-12)
