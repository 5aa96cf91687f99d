"""The valuation's DCF cross-check against numpy-financial, with a hand-worked example."""
from __future__ import annotations

import numpy_financial as npf
import pytest
from hypothesis import given, settings, strategies as st

from models import engine
from models.assumptions import resolve, set_value
from models.fin import dcf_cash_flows, dcf_value


def test_dcf_value_by_hand():
    """F1 100, F2 110, two years of 10% growth (121, 133.1), then 0% for ever at 10%:
    TV = 133.1 / 0.1 = 1,331; PV = 100/1.1 + 110/1.21 + 121/1.331 + (133.1 + 1,331)/1.4641
    = 90.909 + 90.909 + 90.909 + 1,000 = 1,272.73."""
    assert dcf_value(100, 110, 0.1, 2, 0.0, 0.1) == pytest.approx(1_272.7273, abs=1e-4)
    # numpy-financial's npv discounts its first flow at t = 0; Excel's NPV at t = 1
    flows = dcf_cash_flows(100, 110, 0.1, 2, 0.0, 0.1)
    assert npf.npv(0.1, flows) == pytest.approx(1.1 * 1_272.7273, abs=1e-3)


def _dcf_from_outputs(o):
    return dcf_value(o["valuation.fcf_first_year"], o["valuation.fcf_second_year"],
                     o["valuation.growth_rate"], int(o["valuation.growth_years"]),
                     o["valuation.terminal_growth"], o["valuation.discount_rate"])


def _per_share(o, value_usd_m):
    return value_usd_m / (o["valuation.china_diluted_shares_bn"] * 1e3) \
        + o["valuation.net_cash_per_share"]


def test_the_models_dcf_equals_numpy_financial():
    """The sheet's closed form (geometric sum + Gordon terminal value, live formulas) equals
    numpy_financial.npv over the explicit yearly cash flows."""
    o = engine.run(resolve()).line_outputs
    assert o["valuation.dcf_value_per_share"] == pytest.approx(
        _per_share(o, _dcf_from_outputs(o)), rel=1e-10)


def test_the_implied_terminal_growth_prices_the_stock():
    """At the terminal growth the share price implies, the DCF value equals the share price."""
    o = engine.run(resolve()).line_outputs
    g = o["valuation.terminal_growth_implied"]
    value = dcf_value(o["valuation.fcf_first_year"], o["valuation.fcf_second_year"],
                      o["valuation.growth_rate"], int(o["valuation.growth_years"]), g,
                      o["valuation.discount_rate"])
    assert _per_share(o, value) == pytest.approx(o["valuation.share_price"], rel=1e-9)


def test_implied_return_with_irr():
    """numpy_financial.irr of paying the share price (ex cash) for the model's cash flows is
    the discount rate at which the DCF value is the price: above the cost of equity when the
    DCF exceeds the price, below it when it does not."""
    o = engine.run(resolve()).line_outputs
    shares = o["valuation.china_diluted_shares_bn"] * 1e3
    price_ex_cash = (o["valuation.share_price"] - o["valuation.net_cash_per_share"]) * shares
    flows = dcf_cash_flows(o["valuation.fcf_first_year"], o["valuation.fcf_second_year"],
                           o["valuation.growth_rate"], int(o["valuation.growth_years"]),
                           o["valuation.terminal_growth"], o["valuation.discount_rate"])
    irr = npf.irr([-price_ex_cash] + flows)  # terminal value at the model's discount rate
    above = o["valuation.dcf_value_per_share"] > o["valuation.share_price"]
    assert (irr > o["valuation.discount_rate"]) == above


@settings(max_examples=20, deadline=None)
@given(r=st.floats(0.06, 0.15), g=st.floats(-0.05, 0.3), n=st.integers(0, 10),
       gt=st.floats(0.0, 0.05))
def test_dcf_matches_numpy_financial_for_any_inputs(r, g, n, gt):
    a = resolve()
    for key, v in (("discount_rate", r), ("growth_rate", g), ("growth_years", n),
                   ("terminal_growth", gt)):
        a = set_value(a, f"valuation.{key}", v, set_by="test")
    o = engine.run(a).line_outputs
    assert o["valuation.dcf_value_per_share"] == pytest.approx(
        _per_share(o, _dcf_from_outputs(o)), rel=1e-9)
