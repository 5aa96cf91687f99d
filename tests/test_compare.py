"""Scenarios side by side: the Scenarios sheet, scenario outputs, the probability-weighted target."""
import json

import openpyxl
import pytest

from models import engine
from models.assumptions import resolve
from models.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "run"
    assert main(["build", "--no-pdf", "--out", str(out),
                 "--compare", "base,china_ban,h20_terms,bofa,china_open"]) == 0
    return out


def test_each_scenario_column_equals_a_separate_run(run_dir):
    outputs = json.loads((run_dir / "outputs.json").read_text())
    for name, overlays in (("base", []), ("china_ban", ["china_ban"]), ("bofa", ["bofa"]),
                           ("h20_terms", ["h20_terms"]), ("china_open", ["china_open"])):
        single = engine.run(resolve(overlays)).outputs
        for key in ("valuation.price_target", "valuation.eps_target", "valuation.upside"):
            assert outputs[f"scenarios.{name}.{key}"] == pytest.approx(single[key], rel=1e-12)


def test_probability_weighted_target_by_hand(run_dir):
    """0.5 × base + 0.3 × china_ban + 0.2 × china_open (bofa, h20_terms have no probability)."""
    o = json.loads((run_dir / "outputs.json").read_text())
    pt = {n: o[f"scenarios.{n}.valuation.price_target"] for n in ("base", "china_ban",
                                                                   "china_open")}
    assert pt["china_open"] > pt["base"]  # H200 sales run into CY2027 only when China opens
    expected = 0.5 * pt["base"] + 0.3 * pt["china_ban"] + 0.2 * pt["china_open"]
    assert o["scenarios.probability_weighted.valuation.price_target"] == pytest.approx(expected)
    assert "scenarios.bofa.probability" not in o and "scenarios.h20_terms.probability" not in o


def test_sheet_labels_live_and_value_columns(run_dir):
    wb = openpyxl.load_workbook(run_dir / "model.xlsx")
    ws = wb["Scenarios"]
    head = {ws.cell(4, c).value: c for c in range(4, 9)}
    holds = {name: ws.cell(6, c).value for name, c in head.items()}
    assert holds["base"] == "live formulas"
    assert holds["bofa"] == "live (own sheets)"
    cells = json.loads((run_dir / "cells.json").read_text())
    sheet, coord = cells["scenarios.base.valuation.price_target"].split("!")
    assert ws[coord].value.startswith("=valuation!")
    sheet, coord = cells["scenarios.bofa.valuation.price_target"].split("!")
    assert ws[coord].value == "='valuation_s4'!$D$" + ws[coord].value.rsplit("$", 1)[1]
    own = wb["valuation_s4"]  # bofa (column 4): its overlay's values as input cells
    inputs = {own.cell(r, 3).value: own.cell(r, 4).value for r in range(5, own.max_row + 1)
              if own.cell(r, 4).value is not None and not str(own.cell(r, 4).value
                                                              ).startswith("=")}
    assert inputs == {"valuation.eps_source": "typed",
                      "valuation.china_in_reference_eps": "included",
                      "valuation.share_price": 185.16}
    sheet, coord = cells["scenarios.probability_weighted.valuation.price_target"].split("!")
    assert ws[coord].value.startswith("=SUMPRODUCT(")


def test_same_structure_detects_a_scenario_with_other_rows(base):
    """A scenario whose models have other rows than the run's cannot reuse its formulas (its
    column is then values from a separate run)."""
    from dataclasses import replace
    from models.compare import same_structure
    run = engine.run(base)
    assert same_structure(run, engine.run(resolve(["bofa"])))
    spec = run.specs["valuation"]
    other = replace(run, specs={**run.specs, "valuation": replace(spec, items=spec.items[:-1])})
    assert not same_structure(run, other)


def test_renormalises_over_the_compared_scenarios(tmp_path):
    out = tmp_path / "r"
    assert main(["build", "--no-pdf", "--out", str(out), "--compare", "base,china_ban"]) == 0
    o = json.loads((out / "outputs.json").read_text())
    assert o["scenarios.base.weight"] == pytest.approx(0.5 / 0.8)
    assert o["scenarios.probability_weighted.valuation.price_target"] == pytest.approx(
        (0.5 * o["scenarios.base.valuation.price_target"]
         + 0.3 * o["scenarios.china_ban.valuation.price_target"]) / 0.8)


def test_set_applies_to_every_compared_scenario(tmp_path):
    out = tmp_path / "r"
    assert main(["build", "--no-pdf", "--out", str(out), "--set", "valuation.multiple=20",
                 "--compare", "base,bofa"]) == 0
    o = json.loads((out / "outputs.json").read_text())
    assert o["scenarios.bofa.valuation.price_target"] == pytest.approx(20 * 9.745 + 52.141 / 24.483)


def test_no_compare_has_no_scenarios_sheet(tmp_path):
    out = tmp_path / "r"
    assert main(["build", "--no-pdf", "--out", str(out), "--no-compare"]) == 0
    assert "Scenarios" not in openpyxl.load_workbook(out / "model.xlsx").sheetnames
    assert not any(k.startswith("scenarios.") for k in json.loads(
        (out / "outputs.json").read_text()))


@pytest.mark.parametrize("names, message", [("base,nope", "unknown scenario"),
                                            ("base,base", "scenario named twice"),
                                            (",", "no scenarios to compare"),
                                            ("../x", "bad scenario name")])
def test_bad_compare_names_are_user_errors(tmp_path, capsys, names, message):
    out = tmp_path / "r"
    assert main(["build", "--no-pdf", "--out", str(out), "--compare", names]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_default_compares_the_overlays_that_touch_the_headline_models(tmp_path):
    from models.assumptions import available_scenarios
    from models.compare import default_names
    names = default_names(resolve())
    assert names[0] == "base"
    assert {"bofa", "china_ban", "china_open", "china_limited", "h20_terms",
            "levy_contra"} <= set(names)
    unrelated = [n for n in available_scenarios() if n.startswith("blackwell")]
    assert unrelated and not set(unrelated) & set(names)


def test_a_ratio_of_zero_eps_is_n_a_in_runs_compared_columns_and_the_note():
    """Issue 13: P/E of a zero EPS is n/a, not 0.0x. Typed EPS of 0 in CY2027 with China inside
    it (and no China H200 then): target-year EPS 0, so P/E at the share price, P/E at the target
    and the multiple the price implies are n/a (None, null), while the price target is 28 × 0 +
    net cash per share and the upside (target ÷ price − 1) is a number; EPS against BofA's
    implied EPS 0/0 is n/a. Every compared column (the --set applies to each) says n/a alike,
    and the note's scenario table prints 'n/a'."""
    from models.compare import compare, headlines, resolve_scenarios
    from models.memo import by_unit
    overrides = ["valuation.eps_source=typed", "valuation.eps_reference.CY2027=0",
                 "valuation.china_in_reference_eps=included"]
    a = resolve_scenarios(["base"], overrides)["base"]
    full = engine.run(a).line_outputs
    assert full["valuation.eps_target"] == 0
    for key in ("valuation.pe_target_year", "valuation.pe_at_target",
                "valuation.implied_multiple", "valuation.eps_vs_reference.CY2027"):
        assert full[key] is None, key
    cash_ps = full["valuation.net_cash_per_share"]
    assert full["valuation.price_target"] == pytest.approx(cash_ps)
    assert full["valuation.upside"] == pytest.approx(cash_ps / a.value("valuation.share_price")
                                                     - 1)
    scenarios = resolve_scenarios(["base", "china_ban"], overrides)
    comparison = compare(engine.run(a), scenarios)
    for column in comparison.columns:
        assert column.values["valuation.pe_target_year"] is None, column.name
    assert comparison.columns[0].values == {k: full[k] for k, _ in headlines()}
    assert by_unit(None, "x") == "n/a"  # how the note's scenario table prints it


def test_one_read_of_each_overlay_gives_the_label_and_the_description():
    """The column label and the description come from one reader (they used to read the same
    overlay files twice): stacked overlays join their labels with ' + ' and descriptions with
    '; '; base has its own."""
    from models.compare import overlay_texts
    from models.paths import assumptions_dir
    label, description = overlay_texts("china_ban+levy_contra", assumptions_dir())
    assert label == "China ban + Levy contra"
    assert description == ("China keeps banning H200 purchases, citing backdoor risk "
                           "(Bernstein's second case); The 25% levy booked as a reduction of "
                           "revenue instead of cost of goods sold")
    assert overlay_texts("base", assumptions_dir()) == ("Base", "base assumption sheets")


def _same_values(x, y) -> bool:
    """Every row of two runs: same keys in the same order, bit-for-bit the same values."""
    if list(x.env.values) != list(y.env.values):
        return False
    for key, a in x.env.values.items():
        b = y.env.values[key]
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if not ((a == b).all() if a.dtype == object else a.tobytes() == b.tobytes()):
            return False
    return True


@pytest.mark.parametrize("overlays,overrides", [
    (["china_ban"], []), (["h20_terms"], []), (["nvda_bull"], []), (["bofa"], []),
    (["shorter_lives"], []), (["blackwell_rack_asp"], []),
    ([], ["depreciation.microsoft_method=syd"]),  # a choice that changes the model's rows
    ([], ["china.units_source=typed"]),  # … of a model others link to
    ([], ["valuation.eps_source=typed", "depreciation.salvage_fraction=0.05"]),
])
def test_a_scenario_run_reusing_the_build_run_equals_a_full_run(base, overlays, overrides):
    """engine.run(a, like=the build's run) (what compare does) takes unchanged models' rows and
    values from the build's run; every row comes out as a separate full run gives it."""
    main = engine.run(base)
    a = resolve(overlays, overrides)
    reused = engine.run(a, like=main)
    full = engine.run(a)
    assert _same_values(reused, full)
    assert [r.key for s in reused.specs.values() for r in s.rows] == \
        [r.key for s in full.specs.values() for r in s.rows]
    assert reused.outputs == full.outputs  # grids included
    kept = [m for m, spec in reused.specs.items() if spec is main.specs[m]]
    assert kept and len(kept) < len(main.specs)  # some models reused, the changed one not
    changed = {k.split(".")[0] for k in engine._changed_inputs(a, base)}
    assert not changed & set(kept)


def test_a_model_definition_reads_only_the_sheets_of_models_it_looks_at(base):
    """What engine.run(a, like=) relies on to keep a model's rows: its ``define`` reads the
    assumptions of its own sheet and of the models it links / looks at / takes a grid axis from
    (ModelSpec.reads) only, so no other assumption can change its rows."""
    from models.assumptions import Assumptions
    from models.engine import MODEL_MODULES, model_module
    from models.lineitems import ModelBuilder

    class Noted(dict):  # a dict that notes which models' keys are looked up
        seen: set = set()

        def _note(self, key):
            Noted.seen.add(str(key).split(".", 1)[0])

        def __getitem__(self, key):
            self._note(key)
            return super().__getitem__(key)

        def __contains__(self, key):
            self._note(key)
            return super().__contains__(key)

        def get(self, key, default=None):
            self._note(key)
            return super().get(key, default)

        def __iter__(self):
            Noted.seen.add("*every model*")
            return super().__iter__()

        def keys(self):
            Noted.seen.add("*every model*")
            return super().keys()

        def items(self):
            Noted.seen.add("*every model*")
            return super().items()

        def values(self):
            Noted.seen.add("*every model*")
            return super().values()

    noted = Assumptions(Noted(base.sheets), Noted(base.items), [], [], False, {}, {})
    specs = {}
    for name in MODEL_MODULES:
        Noted.seen = set()
        module = model_module(name)
        builder = ModelBuilder(name, module.TITLE, base.periods(name), noted, specs,
                               description=module.DESCRIPTION)
        module.define(builder)
        specs[name] = builder.spec
        assert Noted.seen <= {name, *builder.spec.reads}, name
    assert any(spec.reads for spec in specs.values())
