"""The vectorised sweep: equal to single runs, seedable, and drawing the documented distributions."""
import json
from dataclasses import replace

import numpy as np
import pytest

from models import engine
from models.assumptions import resolve, set_value
from models.cli import main
from models import sweep as S


def collapsed(a, keep=(), dist=None):
    """A sweep plan whose ranges are single points (low = base = high), except ``keep``."""
    plan = S.plan(a)
    plan.ranged = [r if r.key in keep else replace(r, low=r.mode, high=r.mode)
                   for r in plan.ranged]
    plan.choices = [c for c in plan.choices if c.key in keep]
    if dist:
        plan.ranged = [replace(r, dist=dist) if r.key in keep else r for r in plan.ranged]
    return plan


def test_degenerate_ranges_give_the_single_run(base):
    result = S.run_sweep(base, 5, seed=1, sweep=collapsed(base))
    single = engine.run(base).outputs
    for key in result.outputs:
        expected = np.nan if single[key] is None else single[key]  # null: n/a in the run
        assert np.all(result.column(key) == pytest.approx(expected, rel=1e-12, nan_ok=True)), key


@pytest.mark.parametrize("outputs", [None, ["valuation.price_target", "china.gross_margin.CY2028",
                                             "china.levy.CY2025", "valuation.pe.CY2026"]])
def test_each_drawn_scenario_equals_a_single_run_with_its_inputs(base, outputs):
    """Scenario i of the sweep = engine.run() with scenario i's drawn values set one by one."""
    seed, n = 11, 4
    sweep = S.plan(base, outputs)
    result = S.run_sweep(base, n, seed=seed, sweep=sweep)
    drawn = sweep.chunk_inputs(seed, 0, n)
    assert len(sweep.ranged) >= 6
    assert all(drawn[r.key].shape[0] == n for r in sweep.ranged)
    assert [c.key for c in sweep.choices] == ["china_market.china_response"]
    for i in range(n):
        a = base
        for c in sweep.choices:
            a = set_value(a, c.key, str(drawn[c.key][i, 0]), set_by="t", force=True)
        for r in sweep.ranged:
            values = np.broadcast_to(drawn[r.key], (n, drawn[r.key].shape[1]))[i]
            if r.series:
                periods = sweep.specs[r.key.split(".")[0]].periods  # the periods evaluated
                assert len(periods) == len(values)
                for period, v in zip(periods, values):
                    a = set_value(a, f"{r.key}.{period}", float(v), set_by="t", force=True)
            else:
                a = set_value(a, r.key, float(values[0]), set_by="t", force=True)
        single = engine.run(a).outputs
        for key in result.outputs:
            expected = np.nan if single[key] is None else single[key]  # null: n/a
            assert result.column(key)[i] == pytest.approx(expected, rel=1e-10, nan_ok=True), \
                (i, key)


def test_only_the_periods_needed_are_evaluated_unless_asked(base):
    """A model read only period by period is cut to the periods asked for; one whose rows the
    nvda quarters read across timelines (china, through the calendar-year mapping) keeps all
    of them, and so does nvda (its forecast compounds from quarter to quarter)."""
    plan = S.plan(base, outputs=["export_control.tpp.H200"], targets=())
    assert "nvda" not in plan.specs
    narrow = S.plan(base, outputs=["china.gross_margin.CY2028"], targets=())
    assert narrow.specs["china"].periods == ("CY2028",)
    two = S.plan(base, outputs=["china.gross_margin.CY2028", "china.gross_margin.CY2026"],
                 targets=())
    assert two.specs["china"].periods == ("CY2026", "CY2028")
    full = S.plan(base)
    assert full.specs["china"].periods == base.periods("china")
    assert full.specs["nvda"].periods == base.periods("nvda")


def test_same_seed_same_numbers_whatever_the_threads(base):
    n = S.CHUNK * 2 + 17  # three chunks
    one = S.run_sweep(base, n, seed=5, threads=1)
    two = S.run_sweep(base, n, seed=5, threads=2)
    assert np.array_equal(one.values, two.values)
    other = S.run_sweep(base, n, seed=6, threads=2)
    assert not np.array_equal(one.values, other.values)


def test_uniform_draw_percentiles_match_theory(base):
    """Only the multiple varies, uniform on [19, 37]: PT = m × EPS + cash is linear in m, so the
    P-th percentile of PT maps back to 19 + 18 × P/100."""
    plan = collapsed(base, keep={"valuation.multiple"}, dist="uniform")
    result = S.run_sweep(base, 200_000, seed=3, sweep=plan)
    single = engine.run(base).outputs
    eps, cash = single["valuation.eps_target"], single["valuation.net_cash_per_share"]
    stats = S.summarise(result)["valuation.price_target"]
    for p in S.PERCENTILES:
        multiple = (stats[f"p{p}"] - cash) / eps
        assert multiple == pytest.approx(19 + 18 * p / 100, abs=0.1), p
    assert (stats["mean"] - cash) / eps == pytest.approx(28, abs=0.05)
    assert stats["min"] >= 19 * eps + cash - 1e-9 and stats["max"] <= 37 * eps + cash + 1e-9


def test_percentiles_skip_na_draws_and_say_how_many_there_were():
    """Issue 13: a margin of no revenue is n/a in that draw, not 0%. Draws 0.40, n/a, 0.50,
    0.60, n/a: percentiles of the three that exist (P50 = 0.50, mean 0.50), n/a in 2/5 = 40%;
    an output n/a in every draw says so."""
    values = np.array([[0.40, np.nan, 0.50, 0.60, np.nan], [np.nan] * 5])
    result = S.SweepResult(5, 1, ["china.gross_margin.CY2026", "china.gross_margin.CY2025"],
                           values, [], 1.0, 1)
    stats = S.summarise(result)
    margin = stats["china.gross_margin.CY2026"]
    assert margin["p50"] == pytest.approx(0.50) and margin["mean"] == pytest.approx(0.50)
    assert margin["finite"] == 3 and margin["na_share"] == pytest.approx(0.40)
    assert stats["china.gross_margin.CY2025"] == {"finite": 0, "na_share": 1.0}
    rep = {"outputs": {k: {"label": "Gross margin", "unit": "fraction", **v}
                       for k, v in stats.items()}}
    lines = S.summary_table(rep).splitlines()
    assert lines[2].split()[-1] == "40.0%" and lines[2].split()[3] == "0.500"
    assert lines[3].endswith("(n/a in every draw)")
    assert "n = 3 (n/a in 40.0% of draws)" in S.histogram_text(rep)


def test_triangular_draw_matches_theory(base):
    """ASP triangular(27,000, 40,000, 40,000): mean (27 + 40 + 40)/3 = 35,666.7; the mode is the
    top, so the median is 27,000 + 13,000 × √0.5 = 36,192.4."""
    result = S.run_sweep(base, 200_000, seed=4, outputs=["china.asp_usd"])
    x = result.column("china.asp_usd")
    assert x.mean() == pytest.approx(107_000 / 3, rel=2e-3)
    assert np.median(x) == pytest.approx(27_000 + 13_000 * 0.5 ** 0.5, rel=2e-3)
    assert x.min() >= 27_000 and x.max() <= 40_000


def test_triangular_ppf_by_hand():
    """low 0, mode 1, high 4: c = 0.25; u = 0.25 → 1 (the mode); u = 0 → 0; u = 1 → 4;
    u = 0.5 → 4 − √(0.5 × 4 × 3) = 4 − √6."""
    u = np.array([0.0, 0.25, 0.5, 1.0])
    assert S.triangular_ppf(u, 0.0, 1.0, 4.0) == pytest.approx([0, 1, 4 - 6 ** 0.5, 4])


def test_series_paths_move_together(base):
    """One uniform per assumption: a unit path drawn high is high in every year."""
    keys = ["china.h200_units_typed.CY2026", "china.h200_units_typed.CY2027"]
    result = S.run_sweep(base, 2_000, seed=8, outputs=keys)
    a, b = result.column(keys[0]), result.column(keys[1])
    assert np.corrcoef(a, b)[0, 1] > 0.95


def test_choices_are_drawn_by_the_scenario_probabilities(base):
    """China's response is drawn with the sheet's scenario probabilities (base 0.5 → the base
    case limited_purchase, china_ban 0.3 → continued_ban, china_open 0.2 → full_opening): with
    60,000 draws each share is within 0.01 of its probability (5 standard errors at p = 0.5).
    Given a continued ban China contributes no EPS (no H200 units), so every percentile is 0; a
    full opening buys more H200 than a limited purchase, so its median contribution is higher,
    and so is the China value in the target (zero under the ban)."""
    p = {"limited_purchase": 0.5, "continued_ban": 0.3, "full_opening": 0.2}
    assert [base.value(f"valuation.probability_{n}") for n in ("base", "china_ban",
                                                              "china_open")] == [0.5, 0.3, 0.2]
    outputs = ["valuation.china_eps_target", "valuation.china_value_per_share"]
    result = S.run_sweep(base, 60_000, seed=2, outputs=outputs)
    rep = S.summarise_choices(result)["china_market.china_response"]
    assert set(rep) == set(p)
    for value, prob in p.items():
        assert rep[value]["probability"] == pytest.approx(prob)
        assert rep[value]["share"] == pytest.approx(prob, abs=0.01), value
    assert sum(d["draws"] for d in rep.values()) == 60_000
    china = {v: d["outputs"]["valuation.china_eps_target"] for v, d in rep.items()}
    assert china["continued_ban"]["p5"] == china["continued_ban"]["p95"] == 0
    assert china["full_opening"]["p50"] > china["limited_purchase"]["p50"] > 0
    value = {v: d["outputs"]["valuation.china_value_per_share"] for v, d in rep.items()}
    assert value["continued_ban"]["p95"] == 0
    assert value["full_opening"]["mean"] > value["limited_purchase"]["mean"] > 0
    picked = result.picked("china_market.china_response")
    ban = result.column("valuation.china_eps_target")[picked == "continued_ban"]
    assert ban.size == rep["continued_ban"]["draws"] and np.all(ban == 0)


def test_a_choice_the_run_fixes_is_not_drawn():
    """--scenario china_ban fixes China's response: the sweep keeps it and says why."""
    plan = S.plan(resolve(["china_ban"]))
    assert plan.choices == []
    assert "fixed by scenario china_ban" in plan.choices_note


def test_cli_writes_report_and_is_repeatable(tmp_path, capsys):
    for name in ("a", "b"):
        assert main(["sweep", "--n", "5000", "--seed", "42", "--out", str(tmp_path / name),
                     "--output", "valuation.price_target",
                     "--output", "china.gross_margin.CY2026"]) == 0
    out = capsys.readouterr().out
    assert "seed 42" in out and "valuation.price_target" in out
    reps = [json.loads((tmp_path / n / "sweep.json").read_text()) for n in ("a", "b")]
    assert reps[0]["outputs"] == reps[1]["outputs"]
    assert set(reps[0]["outputs"]) == {"valuation.price_target", "china.gross_margin.CY2026"}
    bars = reps[0]["tornado"]["valuation.price_target"]["bars"]
    assert bars[0]["key"] == "valuation.multiple"
    assert bars[0]["swing"] == pytest.approx(bars[0]["at_high"] - bars[0]["at_low"])
    assert set(reps[0]["tornado"]) == set(reps[0]["outputs"])
    shares = reps[0]["choices"]["china_market.china_response"]["share"]
    assert set(shares) == {"limited_purchase", "continued_ban", "full_opening"}
    assert sum(shares.values()) == pytest.approx(1)
    assert (tmp_path / "a" / "histograms.png").stat().st_size > 10_000
    assert "valuation.price_target" in (tmp_path / "a" / "histograms.txt").read_text()


@pytest.mark.parametrize("args, message", [
    (["--n", "0"], "bad number of scenarios"),
    (["--n", "10", "--output", "valuation.price_targt"], "unknown output"),
    (["--n", "10", "--output", "china.gross_margin"], "unknown output"),
    (["--n", "10", "--seed", "-1"], "bad seed"),
    (["--n", "10", "--threads", "0"], "bad number of threads"),
])
def test_cli_bad_input_is_a_user_error(tmp_path, capsys, args, message):
    out = tmp_path / "s"
    assert main(["sweep", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_column_major_blocks_hold_numpy_values():
    """A drawn scalar (n, 1) times a constant series (1, P) is written column-major (the
    sweep's layout) with numpy's own values; single runs keep numpy's result as is."""
    from models.lineitems import _column_major, _if
    rng = np.random.default_rng(0)
    s, c = rng.random((50, 1)), rng.random((1, 4))
    out = _column_major(np.multiply, s, c)
    assert out.flags.f_contiguous and np.array_equal(out, s * c)
    cond = np.array([[1.0, 0.0, np.nan, 1.0]])
    got = _if(cond, s, c)
    assert got.flags.f_contiguous
    expected = np.where(cond == 1, s, c)
    expected[:, 2] = np.nan  # an unknown condition gives an unknown result
    assert np.array_equal(got, expected, equal_nan=True)
    one = _column_major(np.add, np.ones((1, 3)), 2.0)
    assert one.tolist() == [[3.0, 3.0, 3.0]]
    flags = _column_major(np.less, s, c)  # a comparison keeps its booleans
    assert flags.dtype == bool and np.array_equal(flags, s < c)


# --------------------------------------------------------------------------- tornado (issue 16)
def test_tornado_multiple_by_hand(base):
    """PT = multiple × EPS + net cash per share: with the multiple at 19 and 37 (its range) the
    target is 19 × EPS + cash and 37 × EPS + cash, and the swing 18 × EPS."""
    t = S.tornado(base, ["valuation.price_target"])
    single = engine.run(base).outputs
    eps, cash = single["valuation.eps_target"], single["valuation.net_cash_per_share"]
    bar = next(b for b in t.bars if b.key == "valuation.multiple")
    assert (bar.low, bar.high) == (19, 37)
    assert bar.at_low["valuation.price_target"] == pytest.approx(19 * eps + cash, rel=1e-12)
    assert bar.at_high["valuation.price_target"] == pytest.approx(37 * eps + cash, rel=1e-12)
    assert bar.swing("valuation.price_target") == pytest.approx(18 * eps, rel=1e-12)
    assert t.base["valuation.price_target"] == pytest.approx(single["valuation.price_target"],
                                                             rel=1e-12)
    assert t.ranked("valuation.price_target")[0].key == "valuation.multiple"


def test_tornado_bar_equals_a_single_run_with_the_input_at_its_ends(base):
    """A series input (the data-center growth path) moved as a whole path to its low and its
    high: the same target as engine.run() with the path set period by period."""
    t = S.tornado(base, ["valuation.price_target", "valuation.dcf_value_per_share"])
    bar = next(b for b in t.bars if b.key == "nvda.dc_growth_qoq")
    periods = base.periods("nvda")
    for path, got in ((bar.low, bar.at_low), (bar.high, bar.at_high)):
        a = base
        for period, v in zip(periods, path):
            a = set_value(a, f"nvda.dc_growth_qoq.{period}", float(v), set_by="t", force=True)
        single = engine.run(a).outputs
        for key in got:
            assert got[key] == pytest.approx(single[key], rel=1e-10), key
