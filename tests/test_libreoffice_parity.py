"""Python and Excel agree: LibreOffice recalculates the workbook with stored values ignored and
every formula cell must equal Python's value (relative 1e-9)."""
import openpyxl
import pytest
import xlsxwriter

from conftest import require_tool
from models.cli import main
from models.recalc import compare, recalculate, soffice_path

@pytest.fixture(scope="module")
def lo():
    require_tool("LibreOffice (soffice)", soffice_path() is not None)


def test_recalculation_ignores_stored_values(lo, tmp_path):
    """Guard: a workbook whose stored value is wrong must come back corrected, or the parity
    test below would prove nothing."""
    path = tmp_path / "wrong.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("s")
    ws.write_number(0, 0, 2)
    ws.write_formula(0, 1, "=A1*21", None, 999)
    book.close()
    fresh = recalculate(path, tmp_path / "lo")
    assert openpyxl.load_workbook(fresh, data_only=True)["s"]["B1"].value == 42


@pytest.mark.parametrize("args", [[], ["--scenario", "levy_contra"],
                                  ["--scenario", "h20_terms", "--set",
                                   "china.h200_units.CY2025=12345"],
                                  ["--scenario", "bofa", "--set", "valuation.target_period=CY2026",
                                   "--compare", "base,bofa,china_ban+levy_contra"],
                                  ["--scenario", "blackwell_article_reading", "--scenario",
                                   "blackwell_rack_asp", "--set",
                                   "blackwell.claim_window_share.Q4FY2026=0.5"],
                                  ["--scenario", "china_ban"],
                                  ["--scenario", "china_open", "--set",
                                   "china_market.cambricon_chip=Cambricon_MLU590"],
                                  ["--scenario", "china_limited", "--set",
                                   "china.units_source=typed", "--set",
                                   "export_control.die_area_MTT_S4000=500"],
                                  # depreciation: life cuts (write-offs), accelerated policies,
                                  # mid-quarter convention, salvage, a 150% factor
                                  ["--scenario", "shorter_lives",
                                   "--set", "depreciation.convention=mid_quarter_q4",
                                   "--set", "depreciation.salvage_fraction=0.05",
                                   "--set", "depreciation.db_factor=1.5",
                                   "--set", "depreciation.meta_method=db",
                                   "--set", "depreciation.alphabet_method=syd",
                                   "--set", "depreciation.amazon_method=ddb",
                                   "--set", "depreciation.critic_life=4",
                                   "--set", "depreciation.alt_life_2=4.25"],
                                  # the Nvidia model: a reported quarter turned forecast, the
                                  # bear drivers, the levy as contra-revenue, China open
                                  ["--scenario", "nvda_bear", "--scenario", "china_open",
                                   "--set", "nvda.last_actual=Q4FY2026",
                                   "--set", "china.levy_treatment=contra_revenue",
                                   "--set", "china.levy_rate=0.15"]],
                         ids=["base", "levy_contra", "h20_terms+set", "bofa+CY2026+compare",
                              "blackwell_variants", "china_ban", "china_open+unknown_chip",
                              "china_limited+typed+filled_gap", "depreciation_methods",
                              "nvda_bear+china_open+forecast_q1fy27"])
def test_libreoffice_recalculation_matches_python(lo, tmp_path, args):
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--out", str(out), *args]) == 0
    fresh = recalculate(out / "model.xlsx", tmp_path / "lo")
    checked, mismatches = compare(out / "model.xlsx", fresh)
    assert checked > 100
    assert mismatches == [], mismatches[:10]


def test_verify_resolves_latest_and_run_names(lo, tmp_path, capsys):
    """Regression (issue 14): ``eqr verify latest`` and ``eqr verify <run name>`` said "no
    workbook found"; RUN now resolves as it does for rerun and diff."""
    reports = tmp_path / "reports"
    assert main(["build", "--no-pdf", "--no-compare", "--reports", str(reports)]) == 0
    name = next(p.name for p in reports.iterdir() if p.is_dir() and p.name != "latest")
    for ref in ("latest", name):
        assert main(["verify", ref, "--reports", str(reports)]) == 0
        assert "0 mismatches" in capsys.readouterr().out


def _row_of(ws, key: str) -> int:
    """The last row whose column C holds ``key`` (on a scenario sheet: its own input cell)."""
    return max(r for r in range(1, ws.max_row + 1) if ws.cell(r, 3).value == key)


def test_inputs_edit_recomputes_every_scenario_column_as_a_set_run(lo, default_run, tmp_path):
    """Issue 16: every compared scenario is live. Edit the levy rate and the H200 ASP on the
    Inputs sheet of the default build, recalculate in LibreOffice: every formula cell of the
    ``--set china.levy_rate=0.2 --set china.asp_usd=35000`` run — every scenario column and the
    probability-weighted target (a SUMPRODUCT over them) included — has the value LibreOffice
    gets. h20_terms sets both assumptions itself; in Python a --set wins over its overlay, so
    the same edit is made on its own input cells too."""
    import json
    edited = tmp_path / "edited" / "model.xlsx"
    edited.parent.mkdir()
    wb = openpyxl.load_workbook(default_run / "model.xlsx")
    names = [c.value for c in wb["Scenarios"][4]][3:]
    own = f"china_s{names.index('h20_terms') + 1}"
    for sheet in ("Inputs", own):
        wb[sheet].cell(_row_of(wb[sheet], "china.levy_rate"), 4).value = 0.2
        wb[sheet].cell(_row_of(wb[sheet], "china.asp_usd"), 4).value = 35000
    wb.save(edited)
    out = tmp_path / "set"
    assert main(["build", "--no-pdf", "--out", str(out), "--set", "china.levy_rate=0.2",
                 "--set", "china.asp_usd=35000"]) == 0
    fresh = recalculate(edited, tmp_path / "lo")
    checked, mismatches = compare(out / "model.xlsx", fresh)
    assert checked > 1000
    assert mismatches == [], mismatches[:10]
    before = json.loads((default_run / "outputs.json").read_text())
    after = json.loads((out / "outputs.json").read_text())
    key = "scenarios.probability_weighted.valuation.price_target"
    assert after[key] != pytest.approx(before[key], abs=1e-6)  # the edit moves the target
    cells = json.loads((out / "cells.json").read_text())
    sheet, cell = cells[key].split("!")
    assert openpyxl.load_workbook(fresh, data_only=True)[sheet][cell].value == pytest.approx(
        after[key], rel=1e-9)


def test_parity_counts_na_as_na_and_any_other_error_or_number_as_a_mismatch():
    """A margin of no revenue: Python stores NaN as '#N/A' and LibreOffice computes #N/A from
    NA(): a match. #DIV/0! (an IF(x=0,0,...) forgotten) or a number against #N/A is not."""
    from models.recalc import _same
    assert _same("#N/A", "#N/A", 1e-9, 1e-9)
    assert not _same("#N/A", "#DIV/0!", 1e-9, 1e-9)
    assert not _same("#N/A", 0.0, 1e-9, 1e-9)
    assert not _same(0.0, "#N/A", 1e-9, 1e-9)
    assert _same(0.45, 0.45 + 1e-12, 1e-9, 1e-9)
