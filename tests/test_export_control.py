"""Export control: TPP, performance density and the ECCN 3A090.a test against the published
arithmetic, the rule's own boundaries, and an independent implementation of the rule text."""
import pytest
from hypothesis import given, settings, strategies as st

from models import engine, export_control
from models.assumptions import set_value
from models.errors import EqrError

EC = "export_control"


def run_with(a, **values):
    for key, v in values.items():
        a = set_value(a, key, v, set_by="test")
    return engine.run(a).line_outputs


@pytest.fixture(scope="module")
def o(base):
    return engine.run(base).line_outputs


def test_h20_tpp_is_148_times_16_and_not_caught(o):
    """TechCoffee: the H20's TPP was cut to ~2,368 (seed-facts chip.h20.tpp) = 148 × 16;
    density 2,368 / 814 mm² = 2.91 < 5.92, TPP < 4,800: outside 3A090.a."""
    assert o[f"{EC}.tpp.H20"] == 2368
    assert o[f"{EC}.performance_density.H20"] == pytest.approx(2368 / 814)
    assert o[f"{EC}.eccn_3a090a.H20"] == 0


def test_h200_tpp_matches_the_published_15832_and_is_caught(o):
    """public-facts tpp_h100_h200 = 15,832 = 989.5 dense TFLOPS × 16; far above 4,800."""
    assert o[f"{EC}.tpp.H200"] == 15_832
    assert o[f"{EC}.tpp.H100"] == 15_832
    assert o[f"{EC}.eccn_3a090a.H200"] == 1
    # within the Jan-2026 case-by-case limits (TPP < 21,000, bandwidth 4.8 < 6.5 TB/s) ...
    assert o[f"{EC}.case_by_case_eligible.H200"] == 1
    # ... which a B200 (TPP 2,250 × 16 = 36,000) is not
    assert o[f"{EC}.tpp.B200"] == 36_000
    assert o[f"{EC}.case_by_case_eligible.B200"] == 0


def test_a100_is_caught_which_is_why_the_a800_existed(o):
    """312 × 16 = 4,992 ≥ 4,800."""
    assert o[f"{EC}.tpp.A100"] == 4992
    assert o[f"{EC}.eccn_3a090a.A100"] == 1


def test_every_chip_figure_cites_its_source(base):
    chips = export_control.chips(base)
    assert {"H20", "H100", "H200", "B200", "B300", "Ascend_910B", "Ascend_910C", "MTT_S4000",
            "Kunlun_P800"} <= set(chips)
    for chip in chips:
        for prefix, _, _ in export_control.CHIP_FIGURES:
            item = base[f"{EC}.{prefix}_{chip}"]
            assert item.source.strip(), item.key
            if item.unknown:
                assert item.value is None
                assert item.source.startswith("unknown:") and item.note.strip(), item.key
            else:
                assert isinstance(item.value, float), item.key
                # a figure that is not an analyst assumption names where it was read
                assert not item.source.startswith("unknown:"), item.key


def test_unknown_figures_are_gaps_not_zeros(o):
    """Cambricon MLU590: no TFLOPS figure, so TPP, density and status are unknown (None)."""
    for measure in ("tflops", "tpp", "performance_density", "eccn_3a090a"):
        assert o[f"{EC}.{measure}.Cambricon_MLU590"] is None


def test_status_is_unknown_only_when_it_turns_on_the_missing_figure(base, o):
    """Ascend 910C: die area unknown, but TPP 12,480 ≥ 4,800 decides it. MTT S4000: TPP
    100 × 16 = 1,600 sits on the density threshold's floor, so the missing die area leaves
    the status open; filling the gap decides it either way."""
    assert o[f"{EC}.performance_density.Ascend_910C"] is None
    assert o[f"{EC}.eccn_3a090a.Ascend_910C"] == 1
    assert o[f"{EC}.tpp.MTT_S4000"] == 1600
    assert o[f"{EC}.eccn_3a090a.MTT_S4000"] is None
    large = run_with(base, **{f"{EC}.die_area_MTT_S4000": 500})  # 1,600 / 500 = 3.2 < 5.92
    small = run_with(base, **{f"{EC}.die_area_MTT_S4000": 200})  # 1,600 / 200 = 8.0 ≥ 5.92
    assert large[f"{EC}.eccn_3a090a.MTT_S4000"] == 0
    assert small[f"{EC}.eccn_3a090a.MTT_S4000"] == 1


@pytest.mark.parametrize("tflops, die, caught", [
    (300.0, 10_000.0, 1),      # TPP exactly 4,800: caught whatever the density
    (299.9375, 10.0, 1),       # TPP 4,799: density 479.9 ≥ 5.92 and TPP ≥ 1,600
    (299.9375, 10_000.0, 0),   # TPP 4,799, density 0.48
    (148.0, 400.0, 1),         # TPP 2,368 and density 2,368 / 400 = 5.92 exactly
    (148.0, 401.0, 0),         # TPP 2,368 and density 5.905
    (99.9375, 1.0, 0),         # TPP 1,599: below the floor whatever the density
])
def test_3a090a_boundaries(base, tflops, die, caught):
    o = run_with(base, **{f"{EC}.tflops_H20": tflops, f"{EC}.die_area_H20": die})
    assert o[f"{EC}.eccn_3a090a.H20"] == caught


def rule_text(tpp, density):
    """ECCN 3A090.a as written: TPP ≥ 4800, or TPP ≥ 1600 and PD ≥ 5.92 (None if it turns on
    an unknown density)."""
    if tpp >= 4800:
        return 1
    if tpp < 1600:
        return 0
    if density is None:
        return None
    return 1 if density >= 5.92 else 0


@settings(max_examples=60, deadline=None)
@given(tflops=st.floats(min_value=1, max_value=5000), die=st.one_of(
    st.none(), st.floats(min_value=10, max_value=2000)))
def test_status_follows_the_rule_text(base, tflops, die):
    values = {f"{EC}.tflops_MTT_S4000": tflops}
    if die is not None:
        values[f"{EC}.die_area_MTT_S4000"] = die
    o = run_with(base, **values)
    tpp = o[f"{EC}.tpp.MTT_S4000"]
    assert tpp == pytest.approx(tflops * 16, rel=1e-12)
    density = None if die is None else tpp / die
    assert o[f"{EC}.eccn_3a090a.MTT_S4000"] == rule_text(tpp, density)


def test_a_chip_missing_a_figure_is_refused(sheets):
    from models.assumptions import resolve
    f = sheets / "export_control.yaml"
    text = f.read_text()
    start = text.index("  tdp_H20:")
    end = text.index("  # ---", start)
    f.write_text(text[:start] + text[end:])
    with pytest.raises(EqrError, match="chip 'H20' has no tdp figure"):
        engine.run(resolve(directory=sheets))


def test_workbook_shows_gaps_as_na_with_the_reason(tmp_path):
    import json

    import openpyxl

    from models.cli import main
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--out", str(out)]) == 0
    cells = json.loads((out / "cells.json").read_text())
    outputs = json.loads((out / "outputs.json").read_text())
    assert outputs[f"{EC}.tpp.Cambricon_MLU590"] is None
    wb = openpyxl.load_workbook(out / "model.xlsx")
    values = openpyxl.load_workbook(out / "model.xlsx", data_only=True)
    sheet, coord = cells[f"{EC}.tpp.Cambricon_MLU590"].split("!")
    assert values[sheet][coord].value == "#N/A"
    sheet, coord = cells[f"{EC}.tpp.H20"].split("!")
    assert wb[sheet][coord].value.startswith("=") and values[sheet][coord].value == 2368
    assert f"{EC}.tpp.H20" in wb.defined_names
    inputs = wb["Inputs"]
    row = next(r for r in range(1, inputs.max_row + 1)
               if inputs.cell(r, 3).value == f"{EC}.tflops_Cambricon_MLU590")
    gap = inputs.cell(row, 4)
    assert gap.value == "=NA()"
    assert gap.comment is not None and "Unknown:" in gap.comment.text
    assert values["Inputs"].cell(row, 4).value == "#N/A"
