"""Run-to-run diff: a hand-worked attribution, Shapley identities, runs of different versions."""
import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from models import engine
from models.assumptions import resolve, set_value
from models.cli import main
from models.headlines import headlines
from models.diff import compute, render_markdown, render_text, shapley_exact, \
    shapley_sampled
from models.reproduce import Run
from models.runs import manifest


def run_in_memory(a, name="run"):
    """A Run as diff reads it, without writing a folder."""
    from pathlib import Path
    m = json.loads(json.dumps(manifest(a, name, "2026-01-01T00:00:00+00:00", {})))
    return Run(Path(name), m, json.loads(json.dumps(engine.run(a).outputs)))


def row(diff, output):
    return next(r for r in diff.rows if r.headline.output == output)


def contributions(diff, output):
    r = row(diff, output)
    return {p: (float(r.alone[i]), float(r.shapley[i])) for i, p in enumerate(diff.players)}


# --------------------------------------------------------------------------- worked example
def test_hand_worked_attribution_of_gross_profit(base):
    """Base → h20_terms (ASP 40,000 → 27,000; levy 25% → 15%), CY2026, 1,000,000 units, 70%
    margin: gross profit = units × ASP × (margin − levy).
      A (40k, 25%): 40,000 × 0.45 = 18,000      ASP alone (27k, 25%): 27,000 × 0.45 = 12,150
      levy alone (40k, 15%): 40,000 × 0.55 = 22,000   B (27k, 15%): 27,000 × 0.55 = 14,850
    alone: ASP −5,850, levy +4,000 (sum −1,850 ≠ the change −3,150: interaction −1,300).
    Shapley (two players: mean of the two orders):
      ASP  = ½(12,150 − 18,000) + ½(14,850 − 22,000) = −2,925 − 3,575 = −6,500
      levy = ½(22,000 − 18,000) + ½(14,850 − 12,150) = 2,000 + 1,350 = +3,350
    −6,500 + 3,350 = −3,150."""
    d = compute(run_in_memory(base, "A"), run_in_memory(resolve(["h20_terms"]), "B"))
    assert d.players == ["china.asp_usd", "china.levy_rate"]
    c = contributions(d, "china.gross_profit.CY2026")
    assert c["china.asp_usd"] == pytest.approx((-5_850, -6_500))
    assert c["china.levy_rate"] == pytest.approx((4_000, 3_350))
    r = row(d, "china.gross_profit.CY2026")
    assert (r.a, r.b, r.change) == pytest.approx((18_000, 14_850, -3_150))
    assert r.interaction == pytest.approx(-1_300)
    assert r.other == 0
    assert "exact" in d.method


def test_treatment_moves_revenue_not_gross_profit(base):
    """Only the levy treatment changes: reported revenue falls by the levy (10,000 in CY2026),
    all of it attributed to the treatment; gross profit does not move."""
    b = set_value(base, "china.levy_treatment", "contra_revenue", set_by="--set")
    d = compute(run_in_memory(base), run_in_memory(b))
    assert d.players == ["china.levy_treatment"]
    assert contributions(d, "china.reported_revenue.CY2026") == {
        "china.levy_treatment": (-10_000, -10_000)}
    assert row(d, "china.gross_profit.CY2026").change == 0
    assert "china.gross_profit.CY2026" in render_text(d).split("Unchanged:")[1]


def test_identical_runs_have_nothing_to_attribute(base):
    d = compute(run_in_memory(base), run_in_memory(base))
    assert d.changes == [] and d.players == []
    assert all(r.change == 0 for r in d.rows)
    assert "No assumption changed" in render_text(d)


# --------------------------------------------------------------------------- Shapley identities
def shapley_by_definition(f, k):
    """Average marginal contribution over all k! orderings (the textbook definition)."""
    phi = np.zeros(k)
    orders = list(itertools.permutations(range(k)))
    for order in orders:
        mask = np.zeros(k, dtype=bool)
        for p in order:
            before = f(mask[None, :])[0, 0]
            mask[p] = True
            phi[p] += f(mask[None, :])[0, 0] - before
    return phi / len(orders)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=5).flatmap(lambda k: st.tuples(
    st.just(k), st.lists(st.floats(-5, 5), min_size=2 ** k, max_size=2 ** k))))
def test_exact_shapley_equals_the_permutation_definition_and_adds_up(case):
    """Any game on k players (a value per subset): the 2^k formula equals the k! definition."""
    k, table = case
    values = np.array(table)

    def f(masks):
        ids = (masks * (1 << np.arange(k))).sum(axis=1)
        return values[ids][:, None]

    phi, f0, f1 = shapley_exact(f, k)
    assert phi[:, 0] == pytest.approx(shapley_by_definition(f, k), abs=1e-9)
    assert math.fsum(phi[:, 0]) == pytest.approx(f1[0] - f0[0], abs=1e-9)


def test_sampled_shapley_adds_up_and_approaches_the_exact_values():
    k = 6
    rng = np.random.default_rng(1)
    values = rng.normal(size=2 ** k)

    def f(masks):
        return values[(masks * (1 << np.arange(k))).sum(axis=1)][:, None]

    exact, f0, f1 = shapley_exact(f, k)
    est, g0, g1 = shapley_sampled(f, k, samples=4000, seed=7)
    assert math.fsum(est[:, 0]) == pytest.approx(f1[0] - f0[0], abs=1e-9)
    assert est[:, 0] == pytest.approx(exact[:, 0], abs=0.1)
    again, _, _ = shapley_sampled(f, k, samples=4000, seed=7)
    assert np.array_equal(est, again)  # fixed seed: same answer


FRACTION = st.floats(min_value=0.0, max_value=0.9)
INPUT_VALUES = {
    "china.asp_usd": st.floats(min_value=1_000, max_value=100_000),
    "china.levy_rate": FRACTION,
    "china.gross_margin_pre_levy": FRACTION,
    "china.opex_ratio": st.floats(min_value=0, max_value=0.5),
    "china.tax_rate": st.floats(min_value=0, max_value=0.5),
    "china.diluted_shares_bn": st.floats(min_value=20, max_value=30),
    "china.levy_treatment": st.sampled_from(["cogs", "contra_revenue"]),
    "china.h200_units.CY2026": st.floats(min_value=0, max_value=5e6),
    "china.h200_units.CY2027": st.floats(min_value=0, max_value=5e6),
    "china.headline_period": st.sampled_from(["CY2026", "CY2027"]),
}
changes = st.dictionaries(st.sampled_from(sorted(INPUT_VALUES)), st.none(), min_size=0,
                          max_size=len(INPUT_VALUES)).flatmap(
    lambda keys: st.fixed_dictionaries({k: INPUT_VALUES[k] for k in keys}))


@settings(max_examples=40, deadline=None)
@given(a_values=changes, b_values=changes)
def test_attributions_add_up_to_the_change_of_every_headline_output(base, a_values, b_values):
    a, b = base, base
    for key, v in a_values.items():
        a = set_value(a, key, v, set_by="--set")
    for key, v in b_values.items():
        b = set_value(b, key, v, set_by="--set")
    d = compute(run_in_memory(a), run_in_memory(b))
    # every model's headline outputs (china: 4 rows × 4 periods; valuation's scalars)
    assert [r.headline.output for r in d.rows] == \
        [h.output for h in headlines(engine.build_specs(a))]
    assert sum(r.headline.row.startswith("china.") for r in d.rows) == 16
    for r in d.rows:
        scale = max(1.0, abs(r.a), abs(r.b))
        assert r.other == 0  # same models: recorded outputs = recomputed
        if math.isnan(r.a) and math.isnan(r.b):  # e.g. a margin without revenue in both runs
            assert r.change == 0 and not r.shapley.any() and not r.alone.any()
            continue
        if math.isnan(r.a) or math.isnan(r.b) or np.isnan(r.shapley).any():
            assert r.headline.output in render_text(d).split("Not attributed")[1]
            continue
        assert math.fsum(r.shapley) == pytest.approx(r.change, abs=1e-9 * scale)
        assert abs(r.residual) <= 1e-9 * scale
        assert math.fsum(r.alone) + r.interaction == pytest.approx(r.change, abs=1e-9 * scale)
        if "china.headline_period" in d.players:  # no formula uses it: a dummy player
            i = d.players.index("china.headline_period")
            assert r.shapley[i] == 0 and r.alone[i] == 0


def test_margins_without_revenue_are_unchanged_or_not_attributed(base):
    """Issue 13: a margin of no revenue is n/a. A = base (CY2026: 1,000,000 H200 × $40,000,
    25% levy in COGS, 70% margin before it: margin 18/40 = 45%; no units in CY2025).
    B = levy 100% booked as contra-revenue: reported revenue 40,000 − 40,000 = 0, so B's
    CY2026 margin is n/a (not attributed); revenue's change −40,000 is attributed in full
    (alone: rate 0, treatment 30,000 − 40,000 = −10,000; Shapley, mean of the two orders:
    treatment ½(30,000 − 40,000) + ½(0 − 40,000) = −25,000, rate ½(40,000 − 40,000)
    + ½(0 − 30,000) = −15,000).
    CY2025's margin is n/a in both runs: no change, nothing attributed."""
    b = set_value(set_value(base, "china.levy_rate", 1.0, set_by="--set"),
                  "china.levy_treatment", "contra_revenue", set_by="--set")
    d = compute(run_in_memory(base), run_in_memory(b))
    assert contributions(d, "china.reported_revenue.CY2026") == {
        "china.levy_rate": pytest.approx((0, -15_000)),
        "china.levy_treatment": pytest.approx((-10_000, -25_000))}
    gap = row(d, "china.gross_margin.CY2026")
    assert gap.a == pytest.approx(0.45) and math.isnan(gap.b)
    both = row(d, "china.gross_margin.CY2025")
    assert both.change == 0 and not both.shapley.any()
    text = render_text(d)
    assert "china.gross_margin.CY2026" in text.split("Not attributed")[1]
    assert "china.gross_margin.CY2025" in text.split("Unchanged:")[1].split("\n\n")[0]
    assert "china.gross_margin.CY2026" in render_markdown(d).split("Not attributed")[1]


def test_a_margin_defined_in_both_runs_but_not_in_a_mix_is_not_attributed(base):
    """A: levy 100% in COGS (revenue 40,000; margin (40,000 − 12,000 − 40,000)/40,000 = −30%);
    B: levy 25% as contra-revenue (margin 18/30 = 60%). The mix 'levy 100%, contra-revenue'
    has no revenue (margin n/a), so the Shapley values are undefined: listed as not attributed,
    never printed as n/a contributions that do not add up."""
    a = set_value(base, "china.levy_rate", 1.0, set_by="--set")
    b = set_value(base, "china.levy_treatment", "contra_revenue", set_by="--set")
    d = compute(run_in_memory(a), run_in_memory(b))
    r = row(d, "china.gross_margin.CY2026")
    assert (r.a, r.b) == pytest.approx((-0.30, 0.60))
    assert r.change == pytest.approx(0.90)
    text = render_text(d)
    assert "china.gross_margin.CY2026" in text.split("Not attributed")[1]
    assert "china.gross_margin.CY2026 (" not in text  # no attribution table for it


def test_sampled_attribution_beyond_the_limit_adds_up(base):
    b = resolve(["h20_terms"], ["china.tax_rate=0.2", "china.levy_treatment=contra_revenue"])
    d = compute(run_in_memory(base), run_in_memory(b), exact_limit=2, samples=500)
    assert len(d.players) == 4 and "ESTIMATED" in d.method and "500" in d.method
    for r in d.rows:
        assert math.fsum(r.shapley) == pytest.approx(r.change, abs=1e-9 * max(1, abs(r.a)))
    assert "ESTIMATED" in render_text(d) and "ESTIMATED" in render_markdown(d)


def test_filling_an_unknown_figure(base):
    gaps = [k for k, it in base.items.items() if it.unknown]
    if not gaps:
        pytest.skip("no unknown figure in the sheets")
    b = set_value(base, gaps[0], 750, set_by="--set")
    d = compute(run_in_memory(base), run_in_memory(b))
    assert d.players == [gaps[0]]
    assert [(c.a, c.b) for c in d.changes] == [(None, 750)]
    line = next(l for l in render_text(d).splitlines() if gaps[0] in l)
    assert "unknown" in line and "750" in line
    for r in d.rows:  # the china headlines do not rest on it
        assert math.fsum(r.shapley) == pytest.approx(r.change)


# --------------------------------------------------------------------------- versions
def test_recorded_outputs_that_the_models_no_longer_give_show_as_other(base):
    """If a run's outputs.json differs from what the current models compute (the code changed
    between the runs), the gap is 'other' and the rows still add up to the recorded change."""
    ra = run_in_memory(base)
    rb = run_in_memory(resolve(["h20_terms"]))
    rb.outputs["china.gross_profit.CY2026"] += 100.0
    d = compute(ra, rb)
    r = row(d, "china.gross_profit.CY2026")
    assert r.other == pytest.approx(100.0)
    assert math.fsum(r.shapley) + r.other == pytest.approx(r.change)
    assert any("differ from what the current models compute" in n for n in d.notes)
    assert "other (model or sheet version)" in render_text(d)


def test_runs_of_different_assumption_sheet_versions_are_explained(base, sheets):
    f = sheets / "china.yaml"
    f.write_text(f.read_text() + "\n  royalty_rate:\n    unit: fraction\n    value: 0.01\n"
                 "    source: \"unknown: test\"\n")
    newer = resolve(["h20_terms"], directory=sheets)
    d = compute(run_in_memory(base), run_in_memory(newer))
    assert d.only_b == {"china.royalty_rate": 0.01} and d.only_a == {}
    assert d.players == ["china.asp_usd", "china.levy_rate"]
    text = render_text(d)
    assert "different versions of the assumption sheets" in text
    assert "only in B (added after A?): china.royalty_rate" in text
    r = row(d, "china.gross_profit.CY2026")
    assert math.fsum(r.shapley) == pytest.approx(r.change)


def test_old_manifest_without_full_records(base):
    ra = run_in_memory(base)
    rb = run_in_memory(resolve(["h20_terms"]))
    for m in (ra.manifest, rb.manifest):
        del m["assumption_items"], m["assumption_sheets"]
    d = compute(ra, rb)
    assert d.players == ["china.asp_usd", "china.levy_rate"]
    assert any("predates full assumption records" in n for n in d.notes)
    assert contributions(d, "china.gross_profit.CY2026")["china.asp_usd"] == pytest.approx(
        (-5_850, -6_500))


# --------------------------------------------------------------------------- command line
@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    assert main(["build", "--no-pdf", "--reports", str(reports)]) == 0
    assert main(["build", "--no-pdf", "--reports", str(reports), "--scenario", "h20_terms",
                 "--set", "china.levy_treatment=contra_revenue"]) == 0
    a, b = sorted(p for p in reports.iterdir() if p.name != "latest")
    return reports, a, b


def test_cli_diff_terminal_markdown_and_excel(two_runs, tmp_path, capsys):
    reports, a, b = two_runs
    md, xlsx = tmp_path / "d.md", tmp_path / "d.xlsx"
    assert main(["diff", str(a), b.name, "--reports", str(reports), "--md", str(md),
                 "--xlsx", str(xlsx)]) == 0
    out = capsys.readouterr().out
    assert "Assumptions that changed" in out and "china.levy_treatment" in out
    assert "scenario h20_terms" in out and "--set" in out
    assert "Shapley" in out and "china.gross_profit.CY2026 (USD m): 18,000.0 → 14,850.0" in out
    text = md.read_text()
    assert "| `china.gross_profit.CY2026` | `china.asp_usd` | -5,850.0 | -6,500.0 |" in text
    import openpyxl
    wb = openpyxl.load_workbook(xlsx)
    ws = wb["Attribution"]
    heads = [c.value for c in ws[1]]
    check = heads.index("Check (0)") + 1
    stored = openpyxl.load_workbook(xlsx, data_only=True)["Attribution"]
    for r in range(2, ws.max_row + 1):
        assert ws.cell(r, check).value.startswith("=ROUND(")
        assert stored.cell(r, check).value == 0
    # never overwrite
    assert main(["diff", str(a), str(b), "--md", str(md)]) == 2
    assert "exists already" in capsys.readouterr().err


def test_cli_diff_of_latest_and_unknown_run(two_runs, capsys):
    reports, a, b = two_runs
    assert main(["diff", a.name, "latest", "--reports", str(reports)]) == 0
    assert b.name in capsys.readouterr().out
    assert main(["diff", a.name, "2026-01-01_bas_x", "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    assert "no such run" in err and "Traceback" not in err


def test_excel_diff_recalculates_in_libreoffice(two_runs, tmp_path):
    from conftest import require_tool
    from models.recalc import recalculate, soffice_path
    require_tool("LibreOffice (soffice)", soffice_path() is not None)
    import openpyxl
    reports, a, b = two_runs
    xlsx = tmp_path / "d.xlsx"
    assert main(["diff", str(a), str(b), "--xlsx", str(xlsx)]) == 0
    fresh = openpyxl.load_workbook(recalculate(xlsx, tmp_path / "lo"), data_only=True)
    stored = openpyxl.load_workbook(xlsx, data_only=True)
    formulas = openpyxl.load_workbook(xlsx)["Attribution"]
    n = 0
    for row in formulas.iter_rows(min_row=2):
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("="):
                n += 1
                ours = stored["Attribution"][c.coordinate].value
                theirs = fresh["Attribution"][c.coordinate].value
                if isinstance(ours, str):  # "#N/A": a margin without revenue in a run
                    assert theirs == ours == "#N/A", c.coordinate
                else:
                    assert theirs == pytest.approx(ours, rel=1e-9, abs=1e-6), c.coordinate
    assert n >= 16 * 4


# --------------------------------------------------------------------------- inactive inputs
def test_diff_says_when_a_changed_input_has_no_effect(base):
    """Issue 15: typed H200 units changed on the market path (the default) reach nothing; the
    diff names the switch instead of listing the change as if it mattered. The levy change
    beside it does move gross profit: 1,000,000 × $40,000 × (25% − 20%) = +$2,000m in CY2026."""
    b = resolve(overrides=["china.h200_units.CY2026=1200000", "china.levy_rate=0.2"])
    d = compute(run_in_memory(base, "A"), run_in_memory(b, "B"))
    why = ("china.h200_units has no effect while china.units_source = market; "
           "add --set china.units_source=typed (in A and B)")
    assert d.inactive == {"china.h200_units": why}
    assert f"    {why}" in render_text(d).split("Headline outputs")[0]
    from models.memo import md_text
    assert f"- {md_text(why)}" in render_markdown(d)  # input text is inert Markdown
    assert row(d, "china.gross_profit.CY2026").change == pytest.approx(2_000)
    assert contributions(d, "china.gross_profit.CY2026")["china.h200_units"] == (0, 0)


def test_diff_names_the_run_whose_choice_disconnects_an_input(base):
    """Switching to the typed path in B connects the typed units there: only A's choice
    disconnects them; on the typed path in both runs nothing is flagged."""
    typed = ["china.units_source=typed", "china.h200_units.CY2026=1200000"]
    d = compute(run_in_memory(base, "A"), run_in_memory(resolve(overrides=typed), "B"))
    assert d.inactive["china.h200_units"].endswith("(in A)")
    both = compute(run_in_memory(resolve(overrides=typed[:1]), "A"),
                   run_in_memory(resolve(overrides=typed), "B"))
    assert both.inactive == {}
    assert "No effect under" not in render_text(both)
