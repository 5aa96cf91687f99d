"""Tests for models.fin: Excel depreciation functions and schedules.

Expected values are literals from independent sources: the examples printed on
Microsoft's support pages for SLN, SYD, DDB, VDB and DB, and hand calculations.
"""
from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from models import fin
from models.fin import (
    CONVENTIONS,
    METHODS,
    FinInputError,
    cumulative_share,
    db,
    db_factor,
    ddb,
    schedule,
    sln,
    syd,
    vdb,
)

CENT = 0.005  # "to the cent": |value - documented| < half a cent


# ---------------------------------------------------------------------------
# Microsoft's documented examples
# ---------------------------------------------------------------------------

def test_sln_microsoft_example():
    assert sln(30000, 7500, 10) == pytest.approx(2250.00, abs=CENT)


@pytest.mark.parametrize("per, expected", [(1, 4090.91), (10, 409.09)])
def test_syd_microsoft_examples(per, expected):
    assert syd(30000, 7500, 10, per) == pytest.approx(expected, abs=CENT)


@pytest.mark.parametrize(
    "args, expected",
    [
        ((2400, 300, 10 * 365, 1), 1.32),
        ((2400, 300, 10 * 12, 1, 2), 40.00),
        ((2400, 300, 10 * 12, 1), 40.00),
        ((2400, 300, 10, 1, 2), 480.00),
        ((2400, 300, 10, 1), 480.00),
        ((2400, 300, 10, 2, 1.5), 306.00),
        ((2400, 300, 10, 1, 1.5), 360.00),
        ((2400, 300, 10, 10), 22.12),
    ],
)
def test_ddb_microsoft_examples(args, expected):
    assert ddb(*args) == pytest.approx(expected, abs=CENT)


@pytest.mark.parametrize(
    "args, expected",
    [
        ((2400, 300, 10 * 365, 0, 1), 1.32),
        ((2400, 300, 10 * 12, 0, 1), 40.00),
        ((2400, 300, 10, 0, 1), 480.00),
        ((2400, 300, 10 * 12, 6, 18), 396.31),
        ((2400, 300, 10 * 12, 6, 18, 1.5), 311.81),
        ((2400, 300, 10, 0, 0.875, 1.5), 315.00),
    ],
)
def test_vdb_microsoft_examples(args, expected):
    assert vdb(*args) == pytest.approx(expected, abs=CENT)


def test_vdb_first_day_matches_dax_full_precision():
    # Microsoft's DAX VDB page prints the unrounded value.
    assert vdb(2400, 300, 10 * 365, 0, 1) == pytest.approx(1.31506849315068, abs=1e-12)


@pytest.mark.parametrize(
    "period, expected",
    [
        (1, 186083.33),
        (2, 259639.42),
        (3, 176814.44),
        (4, 120410.64),
        (5, 81999.64),
        (6, 55841.76),
        (7, 15845.10),
    ],
)
def test_db_microsoft_examples(period, expected):
    assert db(1000000, 100000, 6, period, 7) == pytest.approx(expected, abs=CENT)


# ---------------------------------------------------------------------------
# hand calculations
# ---------------------------------------------------------------------------

def test_sl_six_years_cumulative_after_three_full_year_is_half_exactly():
    assert cumulative_share(6, "sl", 3) == 0.5


def test_sl_six_years_cumulative_after_three_half_year_is_five_twelfths():
    share = cumulative_share(6, "sl", 3, "half_year")
    assert share < 0.5
    assert share == pytest.approx(5 / 12, rel=1e-12)  # 0.5 + 1 + 1 years of 6


def test_ddb_six_years_cumulative_after_three():
    # rate 1/3; straight line is not larger before year 4, so pure DDB.
    assert cumulative_share(6, "ddb", 3) == pytest.approx(1 - (2 / 3) ** 3, rel=1e-12)
    assert cumulative_share(6, "ddb", 3) == pytest.approx(0.7037, abs=5e-5)


def test_syd_six_years_cumulative_after_three():
    assert cumulative_share(6, "syd", 3) == pytest.approx((6 + 5 + 4) / 21, rel=1e-12)


def test_sl_schedule_half_year_has_life_plus_one_years():
    assert schedule(1200, 0, 6, "sl", "half_year").tolist() == pytest.approx(
        [100, 200, 200, 200, 200, 200, 100], rel=1e-12)


@pytest.mark.parametrize(
    "convention, first",
    [("mid_quarter_q1", 10.5 / 12), ("mid_quarter_q2", 7.5 / 12),
     ("mid_quarter_q3", 4.5 / 12), ("mid_quarter_q4", 1.5 / 12)],
)
def test_sl_mid_quarter_first_and_last_year(convention, first):
    s = schedule(1000, 0, 5, "sl", convention)
    assert len(s) == 6
    assert s[0] == pytest.approx(200 * first, rel=1e-12)
    assert s[1:5].tolist() == pytest.approx([200] * 4, rel=1e-12)
    assert s[5] == pytest.approx(200 * (1 - first), rel=1e-12)


def test_ddb_half_year_schedule_by_hand():
    # Windows [0,.5], [.5,1.5], [1.5,2.5], [2.5,3.5], [3.5,4.5], [4.5,5] of a
    # 5-year 200% DB asset whose whole-year charges are 40, 24, 14.4, 10.8, 10.8
    # (straight line from year 4: 21.6 / 2).
    s = schedule(100, 0, 5, "ddb", "half_year")
    assert s.tolist() == pytest.approx([20, 32, 19.2, 12.6, 10.8, 5.4], rel=1e-12)


def test_ddb_full_year_switches_to_straight_line():
    # 5-year DDB: 40, 24, 14.4 then SL on 21.6 over 2 years.
    assert schedule(100, 0, 5, "ddb").tolist() == pytest.approx(
        [40, 24, 14.4, 10.8, 10.8], rel=1e-12)


def test_syd_half_year_schedule_by_hand():
    # 3-year SYD: 3/6, 2/6, 1/6 of 600 = 300, 200, 100, split in halves.
    assert schedule(600, 0, 3, "syd", "half_year").tolist() == pytest.approx(
        [150, 250, 150, 50], rel=1e-12)


def test_sl_fractional_life():
    # 5.5-year straight line: five full years then half a year.
    assert schedule(1100, 0, 5.5, "sl").tolist() == pytest.approx(
        [200, 200, 200, 200, 200, 100], rel=1e-12)


def test_db_factor_schedule_matches_vdb_per_year():
    s = schedule(2400, 300, 10, "db", factor=1.5)
    expected = [vdb(2400, 300, 10, k - 1, k, 1.5) for k in range(1, 11)]
    assert s.tolist() == pytest.approx(expected, rel=1e-12)


def test_schedule_n_periods_pads_and_truncates():
    assert schedule(300, 0, 3, "sl", n_periods=5).tolist() == pytest.approx([100, 100, 100, 0, 0])
    assert schedule(300, 0, 3, "sl", n_periods=2).tolist() == pytest.approx([100, 100])


def test_ddb_and_db_factor_agree():
    for p in range(1, 11):
        assert ddb(2400, 300, 10, p, 1.5) == db_factor(2400, 300, 10, p, 1.5)


def test_ddb_rate_above_one_takes_everything_in_period_one():
    assert ddb(1000, 100, 2, 1, 3) == 900.0
    assert ddb(1000, 100, 2, 2, 3) == 0.0


def test_vdb_no_switch_is_pro_rata_ddb():
    expected = 0.5 * ddb(2400, 300, 10, 2) + ddb(2400, 300, 10, 3) + 0.25 * ddb(2400, 300, 10, 4)
    assert vdb(2400, 300, 10, 1.5, 3.25, no_switch=True) == pytest.approx(expected, rel=1e-12)


def test_vdb_empty_window_is_zero():
    assert vdb(2400, 300, 10, 3, 3) == 0.0
    assert vdb(2400, 300, 10, 3.5, 3.5) == pytest.approx(0.0, abs=1e-9)


def test_db_short_first_year_last_period_and_month_12_stub():
    assert db(1000, 100, 3, 4, 12) == 0.0
    total = sum(db(1000000, 100000, 6, p, 7) for p in range(1, 8))
    assert total == pytest.approx(896634.33, abs=0.05)  # rounded rate: not exactly 900000


def test_scalar_in_float_out():
    for value in (sln(10, 1, 3), syd(10, 1, 3, 2), ddb(10, 1, 3, 2), db(10, 1, 3, 2),
                  vdb(10, 1, 3, 0, 1.5), cumulative_share(3, "sl", 1)):
        assert type(value) is float


def test_sln_and_syd_broadcast_over_arrays():
    assert sln(np.array([30000, 1000]), 0, 10).tolist() == [3000.0, 100.0]
    assert syd(2100, 0, 6, np.arange(1, 7)).tolist() == pytest.approx([600, 500, 400, 300, 200, 100])


def test_docstring_examples_run():
    result = doctest.testmod(fin, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------

costs = st.floats(min_value=1.0, max_value=1e9, allow_nan=False, allow_infinity=False)
salvage_shares = st.floats(min_value=0.0, max_value=1.0)
factors = st.floats(min_value=0.25, max_value=5.0)


def _close(a, b, scale):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * scale)


@settings(max_examples=300, deadline=None)
@given(cost=costs, share=salvage_shares, life=st.sampled_from([3, 4, 5, 5.5, 6]),
       method=st.sampled_from(METHODS), convention=st.sampled_from(sorted(CONVENTIONS)),
       factor=factors)
def test_schedule_sums_to_depreciable_amount_and_is_nonnegative(
        cost, share, life, method, convention, factor):
    assume(not (method == "syd" and life == 5.5))  # SYD needs a whole life
    salvage = cost * share
    f = 2.0 if method == "ddb" else factor
    s = schedule(cost, salvage, life, method, convention, factor=f)
    assert len(s) == math.ceil(life + 1 - CONVENTIONS[convention] - 1e-12)
    assert _close(float(s.sum()), cost - salvage, cost)
    assert (s >= 0).all()


@settings(max_examples=200, deadline=None)
@given(life=st.sampled_from([3, 4, 5, 5.5, 6]), method=st.sampled_from(METHODS),
       convention=st.sampled_from(sorted(CONVENTIONS)), factor=factors,
       years=st.integers(min_value=0, max_value=8))
def test_cumulative_share_matches_schedule(life, method, convention, factor, years):
    assume(not (method == "syd" and life == 5.5))
    f = 2.0 if method == "ddb" else factor
    s = schedule(1.0, 0.0, life, method, convention, factor=f)
    share = cumulative_share(life, method, years, convention, factor=f)
    assert _close(share, float(s[:years].sum()), 1.0)
    assert -1e-12 <= share <= 1 + 1e-12


@settings(max_examples=300, deadline=None)
@given(cost=costs, share=salvage_shares,
       life=st.one_of(st.integers(min_value=1, max_value=40),
                      st.floats(min_value=0.5, max_value=40.0)),
       factor=factors)
def test_vdb_over_whole_life_is_depreciable_amount(cost, share, life, factor):
    salvage = cost * share
    assert _close(vdb(cost, salvage, life, 0, life, factor), cost - salvage, cost)


@settings(max_examples=300, deadline=None)
@given(cost=costs, share=salvage_shares,
       life=st.one_of(st.integers(min_value=1, max_value=30),
                      st.floats(min_value=0.5, max_value=30.0)),
       factor=factors, no_switch=st.booleans(),
       cuts=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=3, max_size=3),
       quantize=st.booleans())
def test_vdb_windows_add_up(cost, share, life, factor, no_switch, cuts, quantize):
    a, b, c = sorted(x * life for x in cuts)
    if quantize:  # also exercise boundaries that fall on whole periods
        a, b, c = (min(round(x), life) for x in (a, b, c))
    salvage = cost * share
    left = vdb(cost, salvage, life, a, b, factor, no_switch)
    right = vdb(cost, salvage, life, b, c, factor, no_switch)
    whole = vdb(cost, salvage, life, a, c, factor, no_switch)
    assert left >= 0 and right >= 0
    assert _close(left + right, whole, cost)


@settings(max_examples=200, deadline=None)
@given(cost=costs, share=salvage_shares, life=st.integers(min_value=1, max_value=30),
       factor=factors)
def test_vdb_whole_periods_never_below_ddb(cost, share, life, factor):
    # With switching on, each whole period is charged max(DB, SL) >= DB while
    # the book value is the same; the first period is always the larger of both.
    salvage = cost * share
    first = vdb(cost, salvage, life, 0, 1, factor)
    assert first >= db_factor(cost, salvage, life, 1, factor) * (1 - 1e-12)
    assert first >= (cost - salvage) / life * (1 - 1e-12)


# ---------------------------------------------------------------------------
# bad inputs
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: sln(100, 10, 0), "life"),
        (lambda: sln(100, 10, -5), "life"),
        (lambda: sln(100, 200, 5), "salvage"),
        (lambda: sln(100, -1, 5), "salvage"),
        (lambda: sln("100", 0, 5), "cost"),
        (lambda: sln(float("nan"), 0, 5), "cost"),
        (lambda: sln([100, 100], [0, 200], 5), "salvage"),
        (lambda: syd(100, 10, 5, 0), "per"),
        (lambda: syd(100, 10, 5, 6), "per"),
        (lambda: ddb(100, 10, 5, 0), "period"),
        (lambda: ddb(100, 10, 5, 6), "period"),
        (lambda: ddb(100, 10, 5, 2.5), "period"),
        (lambda: ddb(100, 10, 5, 1, 0), "factor"),
        (lambda: ddb(100, 10, 5, 1, -2), "factor"),
        (lambda: db_factor(100, 10, 5, 1, 0), "factor"),
        (lambda: ddb(100, 110, 5, 1), "salvage"),
        (lambda: db(100, 10, 5, 7), "period"),
        (lambda: db(100, 10, 5, 0), "period"),
        (lambda: db(100, 10, 5, 1, 13), "month"),
        (lambda: db(100, 10, 5, 1, 0), "month"),
        (lambda: db(0, 0, 5, 1), "cost"),
        (lambda: db(100, 10, 0, 1), "life"),
        (lambda: db(100, 10, 5.5, 1), "life"),
        (lambda: vdb(100, 10, 5, -1, 2), "start_period"),
        (lambda: vdb(100, 10, 5, 3, 2), "end_period"),
        (lambda: vdb(100, 10, 5, 0, 6), "end_period"),
        (lambda: vdb(100, 10, 5, 0, 1, 0), "factor"),
        (lambda: vdb(100, 10, 0, 0, 0), "life"),
        (lambda: vdb(100, 10, 5, 0, 1, 2, "yes"), "no_switch"),
        (lambda: schedule(100, 10, 5, "straight"), "method"),
        (lambda: schedule(100, 10, 5, "sl", "half"), "convention"),
        (lambda: schedule(100, 10, 5, "db", factor=0), "factor"),
        (lambda: schedule(100, 10, 5, "ddb", factor=1.5), "factor"),
        (lambda: schedule(100, 10, 5.5, "syd"), "life"),
        (lambda: schedule(100, 10, 5, "sl", n_periods=0), "n_periods"),
        (lambda: schedule(100, 200, 5, "sl"), "salvage"),
        (lambda: cumulative_share(0, "sl", 1), "life"),
        (lambda: cumulative_share(5, "sl", -1), "years"),
        (lambda: cumulative_share(5, "sll", 1), "method"),
    ],
)
def test_bad_inputs_raise_fin_input_error_naming_the_argument(call, argument):
    with pytest.raises(FinInputError) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert info.value.argument == argument
    assert f"'{argument}'" in str(info.value)
    assert "expected" in str(info.value) and "found" in str(info.value)


@pytest.mark.parametrize(
    "kwargs, suggestion",
    [
        ({"method": "ddbb"}, "'ddb'"),
        ({"method": "SYDD"}, "'syd'"),
        ({"method": "sl", "convention": "halfyear"}, "'half_year'"),
        ({"method": "sl", "convention": "mid_quarter_3"}, "'mid_quarter_q3'"),
    ],
)
def test_unknown_names_suggest_the_nearest_valid_one(kwargs, suggestion):
    with pytest.raises(FinInputError, match=f"did you mean {suggestion}"):
        schedule(100, 0, 5, **kwargs)


def test_names_are_case_insensitive():
    assert schedule(100, 0, 5, "SL", "Half_Year").sum() == pytest.approx(100)
