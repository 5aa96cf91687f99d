"""Switching China's response moves H200 units, China revenue and EPS consistently in
outputs.json, in the workbook cells (found through cells.json) and in memo.md; and switching the
choice inside the workbook recomputes to the same numbers (LibreOffice)."""
import json

import openpyxl
import pytest

from conftest import require_tool
from models import memo
from models.cli import main
from models.recalc import recalculate, soffice_path

CHINA_PERIODS = ("CY2025", "CY2026", "CY2027", "CY2028")
TRACKED = ("china_market.h200_units", "china.h200_units", "china.customer_revenue",
           "china.eps_contribution")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenarios")
    built = {}
    for scenario in ("china_ban", "china_open", "china_limited"):
        out = folder / scenario
        assert main(["build", "--no-pdf", "--out", str(out), "--scenario", scenario]) == 0
        built[scenario] = {
            "dir": out,
            "outputs": json.loads((out / "outputs.json").read_text()),
            "cells": json.loads((out / "cells.json").read_text()),
            "book": openpyxl.load_workbook(out / "model.xlsx", data_only=True),
            "memo": (out / "memo.md").read_text(),
        }
    return built


def cell_value(run, key):
    sheet, coord = run["cells"][key].split("!")
    return run["book"][sheet][coord].value


def test_outputs_and_workbook_cells_agree_in_every_scenario(runs):
    for name, run in runs.items():
        for item in TRACKED:
            for p in CHINA_PERIODS:
                key = f"{item}.{p}"
                assert cell_value(run, key) == pytest.approx(run["outputs"][key]), (name, key)


def test_units_revenue_and_eps_move_together(runs):
    ban, opened = runs["china_ban"]["outputs"], runs["china_open"]["outputs"]
    for p in CHINA_PERIODS:
        assert ban[f"china.h200_units.{p}"] == 0
        assert ban[f"china.customer_revenue.{p}"] == 0
        assert ban[f"china.eps_contribution.{p}"] == 0
    for o in (ban, opened):
        for p in CHINA_PERIODS:
            assert o[f"china.h200_units.{p}"] == o[f"china_market.h200_units.{p}"]
            assert o[f"china.customer_revenue.{p}"] == pytest.approx(
                o[f"china.h200_units.{p}"] * o["china.asp_usd"] / 1e6)
    assert opened["china.h200_units.CY2026"] > 0
    assert opened["china.customer_revenue.CY2026"] > 0
    assert opened["china.eps_contribution.CY2026"] > 0
    # the full opening is held back by the US-volume cap: it ships the cap, not the gap
    assert opened["china_market.h200_cumulative.CY2026"] == pytest.approx(
        opened["china_market.china_cap_cumulative.CY2026"])
    assert opened["china_market.h200_held_back_by_cap.CY2026"] > 0


def test_memo_shows_each_scenarios_own_figures(runs):
    hp = "CY2026"
    shown = {}
    for name, run in runs.items():
        o, text = run["outputs"], run["memo"]
        figures = (memo.units(o[f"china.h200_units.{hp}"]),
                   memo.usd_m(o[f"china.customer_revenue.{hp}"]),
                   memo.eps(o[f"china.eps_contribution.{hp}"]))
        sentence = (f"in {hp}, {figures[0]} H200 are {figures[1]} of customer revenue and "
                    f"{figures[2]} of EPS")
        assert sentence in text, name
        response = run["dir"] / "manifest.json"
        chosen = json.loads(response.read_text())["resolved_assumptions"][
            "china_market.china_response"]
        assert f"China's response in this run: **{chosen.replace('_', ' ')}**" in text
        shown[name] = figures
    assert len(set(shown.values())) == 3  # three responses, three sets of figures


@pytest.mark.parametrize("target", ["china_ban", "china_open"])
def test_switching_the_choice_in_the_workbook_recomputes(runs, tmp_path, target):
    """Type the other response into the Inputs sheet of the limited-purchase workbook; after
    LibreOffice recalculates, units, revenue and EPS equal the other scenario's outputs."""
    require_tool("LibreOffice (soffice)", soffice_path() is not None)
    source = runs["china_limited"]
    response = json.loads((runs[target]["dir"] / "manifest.json").read_text())[
        "resolved_assumptions"]["china_market.china_response"]
    book = openpyxl.load_workbook(source["dir"] / "model.xlsx")
    inputs = book["Inputs"]
    row = next(r for r in range(1, inputs.max_row + 1)
               if inputs.cell(r, 3).value == "china_market.china_response")
    inputs.cell(row, 4).value = response
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    fresh = openpyxl.load_workbook(recalculate(edited, tmp_path / "lo"), data_only=True)
    expected = runs[target]["outputs"]
    for item in TRACKED:
        for p in CHINA_PERIODS:
            key = f"{item}.{p}"
            sheet, coord = source["cells"][key].split("!")
            assert fresh[sheet][coord].value == pytest.approx(expected[key], rel=1e-9,
                                                              abs=1e-9), key


@pytest.mark.parametrize("name", ["export_control.md.j2", "export_control.html.j2",
                                  "china_market.md.j2", "china_market.html.j2"])
def test_sections_type_no_figures(name):
    """Every number in these sections comes from an output: no digit in the template text
    outside Jinja tags (HTML tags aside)."""
    import re
    from pathlib import Path
    text = (Path(__file__).resolve().parent.parent / "templates" / "sections" / name).read_text()
    prose = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<[^>]*>", "", text, flags=re.S)
    assert re.findall(r".{0,20}\d.{0,20}", prose) == []
