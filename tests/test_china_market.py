"""China market: hand-worked examples of the gap, the responses and the US-volume cap; the cap
recurrence against an independent loop (property test); balance identities."""
import pytest
from hypothesis import given, settings, strategies as st

from models import engine
from models.assumptions import set_value
from models.errors import EqrError

CM = "china_market"
YEARS = ("CY2024", "CY2025", "CY2026", "CY2027", "CY2028")


def setting(a, values):
    """Set ``key`` → scalar, or ``key`` → list (one value per year)."""
    for key, v in values.items():
        if isinstance(v, (list, tuple)):
            for year, x in zip(YEARS, v):
                a = set_value(a, f"{key}.{year}", x, set_by="test")
        else:
            a = set_value(a, key, v, set_by="test")
    return a


def run(a, values=None):
    return engine.run(setting(a, values or {})).line_outputs


def series(o, item):
    return [o[f"{CM}.{item}.{y}"] for y in YEARS]


# a small market written out by hand: demand 10 a year, domestic 1+1+1+1+1 = 5 (Ascend 1 as
# 910B), no H20 or grey channel, so the gap before H200 is 5 every year
HAND = {
    f"{CM}.demand_units": [10] * 5,
    f"{CM}.ascend_units": [1] * 5, f"{CM}.ascend_910c_share": [0] * 5,
    f"{CM}.cambricon_units": [1] * 5, f"{CM}.kunlunxin_units": [1] * 5,
    f"{CM}.csp_asic_units": [1] * 5, f"{CM}.other_domestic_units": [1] * 5,
    f"{CM}.h20_units": [0] * 5, f"{CM}.grey_channel_units": [0] * 5,
    f"{CM}.licence_approval_rate": [1] * 5, f"{CM}.china_cap_share_of_us": 0.5,
}


def test_cap_on_cumulative_shipments_hand_example(base):
    """US ships 4 a year → cumulative 4, 8, 12, 16, 20 → China's cap 2, 4, 6, 8, 10.
    China wants 3, 0, 1, 5, 0 (limited purchase, below the gap of 5):
      CY2024 min(0+3, 2) = 2 (1 held back); CY2025 min(2+0, 4) = 2; CY2026 min(2+1, 6) = 3;
      CY2027 min(3+5, 8) = 8; CY2028 min(8+0, 10) = 8 → shipped 2, 0, 1, 5, 0."""
    o = run(base, {**HAND, f"{CM}.us_h200_units": [4] * 5,
                   f"{CM}.china_response": "limited_purchase",
                   f"{CM}.limited_purchase_units": [3, 0, 1, 5, 0]})
    assert series(o, "gap_before_h200") == [5] * 5
    assert series(o, "china_cap_cumulative") == [2, 4, 6, 8, 10]
    assert series(o, "h200_cumulative") == [2, 2, 3, 8, 8]
    assert series(o, "h200_units") == [2, 0, 1, 5, 0]
    assert series(o, "h200_held_back_by_cap") == [1, 0, 0, 0, 0]
    assert series(o, "supply_units") == [7, 5, 6, 10, 5]
    assert series(o, "balance_units") == [-3, -5, -4, 0, -5]
    assert series(o, "domestic_share_units") == pytest.approx([5 / 7, 1, 5 / 6, 0.5, 1])


def test_responses_select_their_own_rows(base):
    """Gap 5 a year, plenty of US volume: full opening buys the whole gap (share 1), the ban
    nothing, the limited purchase what China allows."""
    values = {**HAND, f"{CM}.us_h200_units": [100] * 5,
              f"{CM}.limited_purchase_units": [0, 0, 2, 0, 0]}
    shipped = {}
    for response in ("limited_purchase", "continued_ban", "full_opening"):
        o = run(base, {**values, f"{CM}.china_response": response})
        shipped[response] = series(o, "h200_units")
        flags = [o[f"{CM}.is_{r}"] for r in ("limited_purchase", "continued_ban",
                                               "full_opening")]
        assert sum(flags) == 1 and o[f"{CM}.is_{response}"] == 1
        assert o[f"{CM}.check_one_response"] == 0
    assert shipped["limited_purchase"] == [0, 0, 2, 0, 0]
    assert shipped["continued_ban"] == [0] * 5
    assert shipped["full_opening"] == [5] * 5


def test_h200_outside_the_case_by_case_limits_cannot_be_licensed(base):
    """Raise the H200's TPP above 21,000 (1,400 dense TFLOPS × 16 = 22,400): no licences."""
    o = run(base, {**HAND, f"{CM}.us_h200_units": [100] * 5,
                   f"{CM}.china_response": "full_opening",
                   "export_control.tflops_H200": 1400})
    assert o[f"{CM}.h200_case_by_case_eligible"] == 0
    assert series(o, "h200_units") == [0] * 5


def test_compute_in_h100_equivalents_hand_example(base):
    """Ascend 910B: 1 card × 5,120 TPP / 15,832 = 0.3234 H100-eq; Cambricon at the A100 proxy
    4,992 / 15,832; grey channel counts at H100 TPP, so one card = one H100-equivalent."""
    o = run(base, {**HAND, f"{CM}.us_h200_units": [0] * 5,
                   f"{CM}.grey_channel_units": [3, 0, 0, 0, 0]})
    assert o[f"{CM}.compute.ascend_910b.CY2024"] == pytest.approx(5120 / 15832)
    assert o[f"{CM}.compute.cambricon.CY2024"] == pytest.approx(4992 / 15832)
    assert o[f"{CM}.compute.grey_channel.CY2024"] == pytest.approx(3)
    domestic = (5120 + 4992 + 5520 + 4992 + 1600) / 15832  # 910B, A100, P800, A100, S4000
    assert o[f"{CM}.domestic_compute.CY2025"] == pytest.approx(domestic)
    assert o[f"{CM}.demand_compute.CY2025"] == pytest.approx(10)  # H200 TPP = H100 TPP
    assert o[f"{CM}.domestic_share_compute.CY2024"] == pytest.approx(domestic / (domestic + 3))


def test_choosing_a_chip_with_unknown_tflops_makes_compute_unknown(base):
    o = run(base, {f"{CM}.cambricon_chip": "Cambricon_MLU590"})
    assert o[f"{CM}.tpp_per_card.cambricon"] is None
    assert o[f"{CM}.domestic_compute.CY2026"] is None
    assert o[f"{CM}.domestic_share_compute.CY2026"] is None
    assert o[f"{CM}.domestic_share_units.CY2026"] is not None  # units do not need TPP


def test_bundled_assumptions_reproduce_the_sourced_shape(base):
    """Bernstein: supply-constrained 2026-27, domestic supply above demand by 2028, domestic
    growth 5x from 2025; TechCoffee: ~1M H200 in 2026 (limited purchase, the base case)."""
    o = engine.run(base).line_outputs
    assert o[f"{CM}.balance_units.CY2026"] < 0 and o[f"{CM}.balance_units.CY2027"] < 0
    assert o[f"{CM}.domestic_units.CY2028"] > o[f"{CM}.demand_units.CY2028"]
    assert o[f"{CM}.domestic_growth"] == pytest.approx(5.0)
    assert o[f"{CM}.h200_units.CY2026"] == 1_000_000
    assert o[f"{CM}.h200_units.CY2025"] == 0  # no licences before 15 Jan 2026


def test_a_chip_choice_outside_the_chip_table_is_refused(sheets):
    from models.assumptions import resolve
    f = sheets / "china_market.yaml"
    text = f.read_text()
    f.write_text(text.replace("Cambricon_MLU590, TH_PPU]\n    value: A100",
                              "Cambricon_MLU590, TH_PPU, MI308]\n    value: A100", 1))
    with pytest.raises(EqrError, match="chip choice not on the export_control sheet"):
        engine.run(resolve(directory=sheets))


flows = st.lists(st.floats(min_value=0, max_value=3e6), min_size=5, max_size=5)


@settings(max_examples=60, deadline=None)
@given(wanted=flows, us=flows, cap_share=st.floats(min_value=0, max_value=1),
       approval=st.lists(st.floats(min_value=0, max_value=1), min_size=5, max_size=5))
def test_cap_recurrence_matches_a_plain_loop(base, wanted, us, cap_share, approval):
    """Against an independent loop: cumulative = min(previous + licensed, cap); shipped never
    exceeds licensed, cumulative never exceeds the cap, nothing is negative."""
    o = run(base, {**HAND, f"{CM}.demand_units": [1e8] * 5,
                   f"{CM}.china_response": "limited_purchase",
                   f"{CM}.limited_purchase_units": wanted, f"{CM}.us_h200_units": us,
                   f"{CM}.china_cap_share_of_us": cap_share,
                   f"{CM}.licence_approval_rate": approval})
    total_us = total = 0.0
    for i, year in enumerate(YEARS):
        total_us += us[i]
        licensed = wanted[i] * approval[i]
        before = total
        total = min(total + licensed, cap_share * total_us)
        shipped = o[f"{CM}.h200_units.{year}"]
        assert o[f"{CM}.h200_cumulative.{year}"] == pytest.approx(total, rel=1e-9, abs=1e-6)
        assert shipped == pytest.approx(total - before, rel=1e-9, abs=1e-6)
        assert -1e-6 <= shipped <= licensed + 1e-6
        assert o[f"{CM}.check_h200_within_cap.{year}"] == pytest.approx(0, abs=1e-6)
        assert o[f"{CM}.balance_units.{year}"] == pytest.approx(
            o[f"{CM}.supply_units.{year}"] - o[f"{CM}.demand_units.{year}"])


def test_shares_of_no_supply_are_n_a(base):
    """Issue 13: a share of nothing is n/a, not 0%. The hand market with no domestic cards in
    CY2024 and CY2025, no H20, grey channel or H200 (continued ban): supply 0 in those years, so
    the domestic shares 0/0 are n/a (None) and the growth from CY2025 (0) is n/a too; CY2026
    has 5 domestic cards of 5 supplied: 100%."""
    none = [0, 0, 1, 1, 1]
    o = run(base, {**HAND, f"{CM}.ascend_units": none, f"{CM}.cambricon_units": none,
                   f"{CM}.kunlunxin_units": none, f"{CM}.csp_asic_units": none,
                   f"{CM}.other_domestic_units": none,
                   f"{CM}.china_response": "continued_ban"})
    assert series(o, "supply_units")[:3] == [0, 0, 5]
    assert series(o, "domestic_share_units")[:3] == [None, None, 1.0]
    assert series(o, "domestic_share_compute")[:2] == [None, None]
    assert base.value(f"{CM}.growth_from") == "CY2025"
    assert o[f"{CM}.domestic_growth"] is None and o[f"{CM}.domestic_growth_vs_bernstein"] is None
