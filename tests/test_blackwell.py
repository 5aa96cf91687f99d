"""Blackwell units model: the founding article's arithmetic reproduced, hand-worked corrected
figures, the die/package switch, and the bridge that closes for any inputs."""
import json
import math

import openpyxl
import pytest
from hypothesis import given, settings, strategies as st

from models import engine
from models.assumptions import set_value
from models.cli import main

PERIODS = ["Q4FY2025", "Q1FY2026", "Q2FY2026", "Q3FY2026", "Q4FY2026", "Q1FY2027"]
BRIDGE_STEPS = ["bridge_die_vs_package", "bridge_non_dc_units", "bridge_timing", "bridge_asp",
                "bridge_non_blackwell", "bridge_networking", "bridge_residual_gap"]


def run_with(a, values):
    for key, v in values.items():
        a = set_value(a, key, v, set_by="test")
    return engine.run(a).line_outputs


def floor_to(x, step):
    """Round down to a multiple of ``step`` (the article's rounding of its ranges)."""
    return math.floor(x / step + 1e-9) * step


@pytest.fixture(scope="module")
def o(base):
    return engine.run(base).line_outputs


# --------------------------------------------------------------------------- seed case
def test_seed_case_reproduces_the_articles_unit_arithmetic(o):
    """The article: 'USD 111bn ... only 2.5-3.5 million'; 'over USD 10bn ... about 250k-330k';
    'at best almost 4 million'; '80% to data centers ... still a gap of 500k-800k'.
    With USD 30,000-40,000 per GPU: 111bn/40k = 2.775M and 111bn/30k = 3.70M, printed rounded
    down to the half-million; 10bn/40k = 250,000 and 10bn/30k = 333,333, printed as 330k;
    best case 3.70M + 0.333M = 4.03M; 6M x 80% - 4.03M = 0.77M, printed as 0.8M."""
    s = "blackwell.seed_case."
    assert o[s + "implied_units_low"] == pytest.approx(111e9 / 40_000)
    assert o[s + "implied_units_high"] == pytest.approx(111e9 / 30_000)
    assert floor_to(o[s + "implied_units_low"], 500_000) == 2_500_000
    assert floor_to(o[s + "implied_units_high"], 500_000) == 3_500_000
    assert o[s + "q4_units_low"] == pytest.approx(250_000)
    assert floor_to(o[s + "q4_units_high"], 10_000) == 330_000
    assert o[s + "total_units_high"] == pytest.approx(4_000_000, abs=50_000)  # 'almost 4M'
    assert o[s + "claimed_dc_units"] == pytest.approx(4_800_000)
    assert round(o[s + "gap_low"] / 1e5) * 1e5 == pytest.approx(800_000)  # the '800k' end


def test_seed_case_documents_what_the_article_cannot_reproduce(o):
    """The printed 2.5-3.5M would need USD 44,400-31,714 per GPU, which cannot also give the
    printed 250k-330k from USD 10bn (10bn/44,400 = 225k). The printed 500k end of the gap
    needs 4.3M implied GPUs (4.8M - 0.5M) or a 75.6% data-center share ((4.033 + 0.5) / 6);
    with the article's own inputs the gap runs 0.77M-1.78M."""
    s = "blackwell.seed_case."
    assert o[s + "printed_asp_high_usd"] == pytest.approx(44_400)
    assert o[s + "printed_asp_low_usd"] == pytest.approx(111e9 / 3.5e6)  # 31,714
    assert 10e9 / o[s + "printed_asp_high_usd"] == pytest.approx(225_225, abs=1)
    assert o[s + "printed_gap_low_implied_units"] == pytest.approx(4_300_000)
    assert o[s + "printed_gap_low_dc_share"] == pytest.approx((4_033_333.33 + 500_000) / 6e6)
    assert o[s + "gap_high"] == pytest.approx(4.8e6 - 2.775e6 - 0.25e6)


def test_seed_case_power_reproduces_8_5_to_11_gw(o):
    """65-70% of 6M = 3.9M-4.2M US GPUs (as the article says); 3.9M x 120/72 kW x 1.3 =
    8.45 GW ('8.5'); 4.2M x 145/72 kW x 1.3 = 10.996 GW ('11')."""
    s = "blackwell.seed_case."
    assert o[s + "us_units_low"] == pytest.approx(3_900_000)
    assert o[s + "us_units_high"] == pytest.approx(4_200_000)
    assert o[s + "us_power_needed_low_gw"] == pytest.approx(8.45)
    assert o[s + "us_power_needed_high_gw"] == pytest.approx(4.2 * 145 / 72 * 1.3)
    assert abs(o[s + "us_power_needed_low_gw"] - 8.5) <= 0.05 + 1e-9  # 8.45 rounds half up
    assert abs(o[s + "us_power_needed_high_gw"] - 11) <= 0.05
    assert o[s + "us_capacity_added_gw"] == pytest.approx(4.0 + 4.75)


def test_seed_case_does_not_move_with_the_corrected_case_choices(base, o):
    changed = run_with(base, {"blackwell.claim_basis": "packages", "blackwell.asp_route": "rack",
                              "blackwell.pue_new_halls": 1.2,
                              "blackwell.blackwell_share_of_compute.Q3FY2026": 0.5})
    for key, v in o.items():
        if key.startswith("blackwell.seed_case."):
            assert changed[key] == pytest.approx(v), key


# --------------------------------------------------------------------------- corrected case
def test_corrected_case_hand_calculation(o):
    """Blackwell GPU revenue = (DC - networking) x share:
    Data-center revenue is Nvidia's reported figure from the nvda_actuals sheet (one source of
    truth): Q4 FY25 (35.58 - 2.98) x 0.337 = 10.98620; Q1 FY26 (39.112 - 5.0) x 0.70 = 23.8784;
    Q2 FY26 (41.096 - 7.252) x 0.83 = 28.09052; Q3 FY26 (51.215 - 8.187) x 0.90 = 38.7252;
    total 101.68032bn / USD 35,000 = 2,905,152 packages. Claimed 6M dies / 2 = 3.0M packages;
    residual gap 94,848. Headline: DC revenue 167.003bn / 35,000 = 4,771,514."""
    b = "blackwell."
    assert o[b + "blackwell_revenue_total_bn"] == pytest.approx(101.68032)
    assert o[b + "implied_packages_total"] == pytest.approx(2_905_152)
    assert o[b + "claimed_packages"] == pytest.approx(3_000_000)
    assert o[b + "bridge_residual_gap"] == pytest.approx(94_848)
    assert o[b + "headline_implied_units"] == pytest.approx(167.003e9 / 35_000)
    assert o[b + "bridge_networking"] == pytest.approx(-23.419e9 / 35_000)
    assert o[b + "bridge_non_blackwell"] == pytest.approx(
        -(167.003 - 23.419 - 101.68032) * 1e9 / 35_000)
    assert o[b + "bridge_die_vs_package"] == pytest.approx(3_000_000)
    assert o[b + "implied_packages.Q4FY2026"] == pytest.approx((62.314 - 10.98) * 0.9e9 / 35_000)


def test_corrected_power_is_compared_on_it_load(o):
    """One basis, IT load (issue 20: 'the claimed packages need 3.25-4.23 GW against CBRE's
    4.27 GW'): 3.0M packages x 65% x 120 kW / 72 = 3.25 GW; x 70% x 145 / 72 = 4.2292 GW;
    CBRE 1.76 + 2.51 = 4.27 GW added, quoted as IT load; gap -1.02 to -0.04 GW. Implied
    packages: 2,905,152 x 65% x 120 / 72 = 3.1472 GW. No PUE enters the comparison."""
    b = "blackwell."
    assert o[b + "it_kw_per_package_low"] == pytest.approx(120 / 72)
    assert o[b + "it_kw_per_package_high"] == pytest.approx(145 / 72)
    assert o[b + "us_it_load_needed_claimed_low_gw"] == pytest.approx(3.25)
    assert o[b + "us_it_load_needed_claimed_high_gw"] == pytest.approx(4.2291667)
    assert round(o[b + "us_it_load_needed_claimed_high_gw"], 2) == 4.23
    assert o[b + "us_capacity_added_cbre_gw"] == pytest.approx(4.27)
    assert o[b + "us_power_gap_claimed_cbre_low_gw"] == pytest.approx(-1.02)
    assert o[b + "us_power_gap_claimed_cbre_high_gw"] == pytest.approx(4.2291667 - 4.27)
    assert o[b + "us_it_load_needed_implied_low_gw"] == pytest.approx(2_905_152 * 0.65 * 120 / 72
                                                                     / 1e6)
    # facility power is information: IT load x PUE of new halls (1.3), 3.25 x 1.3 = 4.225 GW
    assert o[b + "us_facility_power_claimed_low_gw"] == pytest.approx(4.225)
    assert o[b + "us_facility_power_claimed_high_gw"] == pytest.approx(4.2291667 * 1.3)
    assert o[b + "us_capacity_added_seed_gw"] == pytest.approx(8.75)


def test_pue_moves_only_the_facility_information_rows(base, o):
    out = run_with(base, {"blackwell.pue_new_halls": 1.56})
    b = "blackwell."
    assert out[b + "us_facility_power_claimed_low_gw"] == pytest.approx(3.25 * 1.56)
    for key in ("us_it_load_needed_claimed_low_gw", "us_power_gap_claimed_cbre_low_gw",
                "us_power_gap_implied_cbre_high_gw"):
        assert out[b + key] == pytest.approx(o[b + key])
    assert not any(k.startswith(b + "us_power_gap_") and "_seed_" in k for k in o)


def test_residual_gap_range_hand_calculation(o):
    """Range: ASP 35,000 -/+ 5,000 and every quarter's Blackwell share +/- 10 pp.
    Share +10 pp adds 10% of compute revenue per quarter (Q3 FY26 reaches the 100% cap
    exactly): 0.1 x (32.6 + 34.112 + 33.844 + 43.028) = 14.3584bn -> 116.03872bn; -10 pp
    removes the same -> 87.32192bn. Most implied 116.03872bn / 30,000 = 3,867,957;
    fewest 87.32192bn / 40,000 = 2,183,048. Gap 3.0M - those: -867,957 to +816,952, around
    the base 94,848 (the issue's '+/-0.4M' for each lever alone: 14.3584bn / 35,000 = 410k;
    101.68bn / 30,000 - 101.68bn / 35,000 = 484k)."""
    b = "blackwell."
    assert o[b + "blackwell_revenue_total_share_up_bn"] == pytest.approx(116.03872)
    assert o[b + "blackwell_revenue_total_share_down_bn"] == pytest.approx(87.32192)
    assert o[b + "implied_packages_most"] == pytest.approx(116.03872e9 / 30_000)
    assert o[b + "implied_packages_fewest"] == pytest.approx(2_183_048)
    assert o[b + "bridge_residual_gap_low"] == pytest.approx(3e6 - 116.03872e9 / 30_000)
    assert o[b + "bridge_residual_gap_high"] == pytest.approx(816_952)
    assert o[b + "bridge_residual_gap_low"] < 0 < o[b + "bridge_residual_gap"] \
        < o[b + "bridge_residual_gap_high"]
    assert o[b + "residual_gap_share_high"] == pytest.approx(816_952 / 3e6)


def test_residual_gap_range_collapses_to_the_point_at_zero_width(base, o):
    out = run_with(base, {"blackwell.gap_range_asp_usd": 0, "blackwell.gap_range_share_pp": 0})
    for end in ("low", "high"):
        assert out[f"blackwell.bridge_residual_gap_{end}"] == pytest.approx(
            o["blackwell.bridge_residual_gap"])


def test_die_basis_doubles_units_per_package(base):
    packages = run_with(base, {"blackwell.claim_basis": "packages"})
    dies = run_with(base, {"blackwell.claim_basis": "dies"})
    b = "blackwell."
    assert packages[b + "claimed_units_per_package"] == 1
    assert dies[b + "claimed_units_per_package"] == 2 * packages[b + "claimed_units_per_package"]
    assert dies[b + "claimed_packages"] == pytest.approx(packages[b + "claimed_packages"] / 2)
    assert dies[b + "implied_units_claim_basis"] == pytest.approx(
        2 * packages[b + "implied_units_claim_basis"])
    assert packages[b + "bridge_die_vs_package"] == 0
    assert dies[b + "bridge_die_vs_package"] == pytest.approx(3_000_000)
    # implied packages come from revenue and do not depend on how the claim is read
    assert dies[b + "implied_packages_total"] == packages[b + "implied_packages_total"]


def test_asp_routes_and_cases(base):
    """Rack route, 25% GB300: low (2.0 x 0.75 + 3.0 x 0.25) = USD 2.25m; high (3.1 x 0.75 +
    4.0 x 0.25) = 3.325m; base = the midpoint 2.7875m. Less the networking content (NVLink
    switches, NICs: networking revenue, already removed), proxied by networking / data-center
    revenue in the window, 23.419 / 167.003 = 14.023%: low 2.25m x 0.85977 / 72 = 26,868."""
    b = "blackwell."
    net = 23.419 / 167.003
    out = run_with(base, {})
    assert out[b + "rack_networking_share"] == pytest.approx(net)
    assert out[b + "asp_rack_low_usd"] == pytest.approx(26_867.78, abs=0.01)
    for case, expected in (("low", 2.25e6 * (1 - net) / 72), ("base", 2.7875e6 * (1 - net) / 72),
                           ("high", 3.325e6 * (1 - net) / 72)):
        out = run_with(base, {"blackwell.asp_route": "rack", "blackwell.asp_case": case})
        assert out[b + "asp_selected_usd"] == pytest.approx(expected)
        assert out[b + "implied_packages_total"] == pytest.approx(101.68032e9 / expected)
    for case, expected in (("low", 22_000), ("base", 35_000), ("high", 40_000)):
        out = run_with(base, {"blackwell.asp_case": case})
        assert out[b + "asp_selected_usd"] == expected
        assert out[b + "bridge_asp"] == pytest.approx(101.68032e9 * (1 / expected - 1 / 35_000))


def test_claim_window_can_be_shifted(base):
    """Window Q1 FY26 - Q4 FY26: DC revenue 39.112 + 41.096 + 51.215 + 62.314 = 193.737."""
    out = run_with(base, {"blackwell.claim_window_share.Q4FY2025": 0,
                          "blackwell.claim_window_share.Q4FY2026": 1})
    assert out["blackwell.dc_revenue_total_bn"] == pytest.approx(193.737)
    assert out["blackwell.networking_revenue_total_bn"] == pytest.approx(5.0 + 7.252 + 8.187
                                                                        + 10.98)


def test_non_dc_and_timing_units_count_only_inside_the_window(base):
    out = run_with(base, {"blackwell.non_dc_units.Q1FY2026": 100_000,
                          "blackwell.non_dc_units.Q1FY2027": 900_000,
                          "blackwell.shipped_not_recognised_units.Q3FY2026": 50_000})
    assert out["blackwell.bridge_non_dc_units"] == pytest.approx(100_000)
    assert out["blackwell.bridge_timing"] == pytest.approx(50_000)
    assert out["blackwell.claimed_dc_packages"] == pytest.approx(3_000_000 - 150_000)


def test_share_shift_is_capped_at_100_percent(base):
    out = run_with(base, {"blackwell.blackwell_share_shift": 20})
    assert out["blackwell.blackwell_share_used.Q3FY2026"] == 1.0
    assert out["blackwell.blackwell_share_used.Q1FY2026"] == pytest.approx(0.90)


# --------------------------------------------------------------------------- the bridge closes
money = st.floats(min_value=0.0, max_value=150.0, allow_nan=False)
fraction = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
asp = st.floats(min_value=5_000, max_value=150_000, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(dc=st.lists(money, min_size=6, max_size=6),
       net_share=st.lists(fraction, min_size=6, max_size=6),
       bw_share=st.lists(fraction, min_size=6, max_size=6),
       window=st.lists(fraction, min_size=6, max_size=6),
       non_dc=st.lists(st.floats(min_value=0, max_value=2e6), min_size=6, max_size=6),
       timing=st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=6, max_size=6),
       claimed=st.one_of(st.just(0.0), st.floats(min_value=1, max_value=2e7)), basis=st.sampled_from(["dies", "packages"]),
       dies=st.integers(min_value=1, max_value=4), case=st.sampled_from(["low", "base", "high"]),
       route=st.sampled_from(["package", "rack"]), p_base=asp, p_ref=asp,
       shift=st.floats(min_value=-50, max_value=50))
def test_bridge_closes_for_any_inputs(base, dc, net_share, bw_share, window, non_dc, timing,
                                      claimed, basis, dies, case, route, p_base, p_ref, shift):
    values = {"blackwell.units_claimed": claimed, "blackwell.claim_basis": basis,
              "blackwell.dies_per_package": dies, "blackwell.asp_case": case,
              "blackwell.asp_route": route, "blackwell.asp_package_base_usd": p_base,
              "blackwell.asp_reference_usd": p_ref, "blackwell.blackwell_share_shift": shift}
    for p, d, n, s, w, u, t in zip(PERIODS, dc, net_share, bw_share, window, non_dc, timing):
        values.update({f"nvda_actuals.data_center_revenue.{p}": d * 1000,
                       f"blackwell.networking_revenue_bn.{p}": d * n,
                       f"blackwell.blackwell_share_of_compute.{p}": s,
                       f"blackwell.claim_window_share.{p}": w,
                       f"blackwell.non_dc_units.{p}": u,
                       f"blackwell.shipped_not_recognised_units.{p}": t})
    out = run_with(base, values)
    steps = [out[f"blackwell.{s}"] for s in BRIDGE_STEPS]
    target = out["blackwell.bridge_claimed_units"] - out["blackwell.bridge_headline_units"]
    scale = max([1.0, abs(target)] + [abs(s) for s in steps])
    assert abs(sum(steps) - target) <= 1e-9 * scale
    assert abs(out["blackwell.check_bridge_closes"]) <= 1e-9 * scale
    # the residual is what the claim side leaves after the revenue side, by definition
    assert out["blackwell.bridge_residual_gap"] == pytest.approx(
        out["blackwell.claimed_dc_packages"] - out["blackwell.implied_packages_total"],
        rel=1e-12, abs=1e-6)


# --------------------------------------------------------------------------- run folder
@pytest.fixture(scope="module")
def run_dir(default_run):
    return default_run


def test_seed_case_names_work_in_the_workbook_and_cells_json(run_dir):
    """Row names with a dot (``seed_case.gap_low``) become defined names and cells.json keys."""
    cells = json.loads((run_dir / "cells.json").read_text())
    outputs = json.loads((run_dir / "outputs.json").read_text())
    wb = openpyxl.load_workbook(run_dir / "model.xlsx", data_only=True)
    for key in ("blackwell.seed_case.gap_low", "blackwell.seed_case.us_power_needed_high_gw",
                "blackwell.bridge_residual_gap"):
        sheet, coord = cells[key].split("!")
        assert wb[sheet][coord].value == pytest.approx(outputs[key])
        name = wb.defined_names[key]
        assert name.attr_text == f"{sheet}!${coord[0]}${coord[1:]}"


def test_bridge_check_is_on_the_checks_sheet(run_dir):
    wb = openpyxl.load_workbook(run_dir / "model.xlsx", data_only=True)
    ws = wb["Checks"]
    rows = {ws.cell(r, 3).value: ws.cell(r, 4).value for r in range(1, ws.max_row + 1)}
    assert rows["blackwell.check_bridge_closes"] == 1
    assert rows["blackwell.check_implied_times_asp_is_revenue"] == 1


@pytest.mark.parametrize("override, fragments", [
    ("blackwell.claim_basis=die", ["blackwell.claim_basis", "did you mean 'dies'?"]),
    ("blackwell.asp_case=mid", ["blackwell.asp_case", "expected one of ['low', 'base', 'high']"]),
    ("blackwell.blackwell_share_of_compute.Q3FY2026=90", ["looks like a percentage",
                                                          "did you mean 0.9?"]),
    ("blackwell.asp_package_base_usd=0", ["below its lower bound 1000"]),
    ("blackwell.networking_revenue_bn.Q3FY26=8", ["unknown period", "did you mean 'Q3FY2026'?"]),
])
def test_bad_input_is_a_clear_error(capsys, tmp_path, override, fragments):
    reports = tmp_path / "reports"
    code = main(["build", "--no-pdf", "--reports", str(reports), "--set", override])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    for f in fragments:
        assert f in err, err
    assert not reports.exists() or list(reports.iterdir()) == []


# --------------------------------------------------------------------------- memo and chart
def test_memo_section_types_no_figures():
    """Every number in the section comes from outputs: no digit outside {{ }} / {% %} (HTML tag
    names such as h2 aside)."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent / "templates" / "sections"
    for name in ("blackwell.md.j2", "blackwell.html.j2"):
        text = (root / name).read_text()
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", text, flags=re.S)
        text = re.sub(r"</?h\d", "", text)
        assert re.findall(r".{0,20}\d.{0,20}", text) == [], name


def test_memo_shows_seed_and_corrected_case_and_the_chart(run_dir):
    md = (run_dir / "memo.md").read_text()
    html = (run_dir / "memo.html").read_text()
    assert "8.45–11.00 GW at the facility (PUE 1.30)" in md  # the article's power, reproduced
    assert "767k–1.77M" in md  # the article's gap at its own inputs
    assert "a residual gap of **95k**" in md
    assert md.count("inside its own uncertainty: −868k to +817k with the ASP ±$5,000 and the "
                    "Blackwell share −10 pp to +10 pp") == 2  # page one and the section
    assert "| 3.25–4.23 GW of IT load for the claimed packages |" in md
    assert "| Claimed data-center packages | 3.25 | 4.23 | −1.02 to −0.04 |" in md
    assert "−868k to +817k" in html
    assert "charts/blackwell_bridge.png" in md and "charts/blackwell_bridge.svg" in html
    assert (run_dir / "charts" / "blackwell_bridge.png").stat().st_size > 10_000


def test_waterfall_bars_stand_on_the_bridge_levels(o):
    """Each total bar equals the running level the steps before it reach."""
    from models.plots.blackwell import waterfall_bars
    bars = waterfall_bars(o)
    totals = [(label, height) for label, colour, _, height, _ in bars if colour == "total"]
    assert [h for _, h in totals] == pytest.approx([6e6, 3e6, 2_905_152, 167.003e9 / 35_000])
    broken = dict(o, **{"blackwell.bridge_networking": o["blackwell.bridge_networking"] + 1e3})
    with pytest.raises(ValueError, match="does not reach bridge_headline_units"):
        waterfall_bars(broken)


def test_gap_range_flags_an_asp_range_wider_than_the_asp(base):
    """ASP 35,000 less a 40,000 range is -5,000: the check shows the shortfall."""
    out = run_with(base, {"blackwell.gap_range_asp_usd": 40_000})
    assert out["blackwell.check_gap_range_asp_above_zero"] == pytest.approx(-5_000)
    assert run_with(base, {})["blackwell.check_gap_range_asp_above_zero"] == 0
