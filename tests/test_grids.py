"""Sensitivity grids: each cell equals a separate run with the two inputs set."""
import pytest

from models import engine
from models.assumptions import set_value
from models.grids import all_grids, grid_frame


@pytest.fixture(scope="module")
def result(base):
    return engine.run(base)


def test_margin_grid_hand_values(result):
    """Levy 15%, 70% product margin: in COGS GM = 1 − 0.15 − 0.30 = 0.55; as contra-revenue
    GM = 0.55 / 0.85."""
    frame = grid_frame(result, "china.grid_margin_levy")
    assert frame.loc[0.15, "cogs"] == pytest.approx(0.55)
    assert frame.loc[0.15, "contra_revenue"] == pytest.approx(0.55 / 0.85)
    assert frame.loc[0.25, "cogs"] == pytest.approx(0.45)


def test_every_grid_cell_equals_a_single_run(base, result):
    for grid in all_grids(result.specs):
        values = result.grid_values[grid.key]
        for i, rv in enumerate(grid.rows.values):
            for j, cv in enumerate(grid.cols.values):
                a = set_value(base, grid.rows.name, rv, set_by="test")
                a = set_value(a, grid.cols.name, cv, set_by="test")
                single = engine.run(a).outputs
                key = grid.output.key + (f".{grid.period}" if grid.period else "")
                assert values[i, j] == pytest.approx(single[key], rel=1e-12, abs=1e-12)


def test_grid_cells_are_outputs(result):
    o = result.outputs
    assert o["china.grid_margin_levy.row.0"] == pytest.approx(0.15)
    assert o["china.grid_margin_levy.0.0"] == pytest.approx(0.55)
