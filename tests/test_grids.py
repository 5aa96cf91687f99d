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
                single = engine.run(a).line_outputs
                key = grid.output.key + (f".{grid.period}" if grid.period else "")
                assert values[i, j] == pytest.approx(single[key], rel=1e-12, abs=1e-12)


def test_grid_cells_are_outputs(result):
    o = result.outputs
    assert o["china.grid_margin_levy.row.0"] == pytest.approx(0.15)
    assert o["china.grid_margin_levy.0.0"] == pytest.approx(0.55)


def test_a_pinned_axis_is_a_one_point_grid(base):
    """CY2025 has no licences (approval rate low = high = 0 in the sheet): the approval-rate
    grid keeps its one meaningful row instead of refusing the headline period."""
    a = set_value(base, "china.headline_period", "CY2025", set_by="test")
    result = engine.run(a)
    grid = next(g for g in all_grids(result.specs) if "approval" in g.rows.name)
    assert grid.rows.values == (0.0,) and len(grid.cols.values) > 1
    frame = grid_frame(result, grid.key)
    assert frame.shape == (1, len(grid.cols.values))
    single = engine.run(a).line_outputs[f"{grid.output.key}.CY2025"]
    assert frame.iloc[0, -1] == pytest.approx(single)


def test_rows_depending_on_matches_a_recursive_closure(result):
    """The one-pass dependency table (reused by the grids and the scenario sheets) against an
    independent answer: each row's inputs closed recursively over the rows it reads."""
    from models.lineitems import input_deps, row_deps, rows_depending_on
    rows = {row.key: row for spec in result.specs.values() for row in spec.rows}
    closure: dict[str, frozenset] = {}

    def inputs_of(key):
        if key not in closure:
            expr = rows[key].expr
            closure[key] = frozenset()  # a recurrence reads its own previous period
            closure[key] = frozenset({i.key for i in input_deps(expr)}).union(
                *(inputs_of(r.key) for r in row_deps(expr)))
        return closure[key]

    for grid in all_grids(result.specs):
        keys = {grid.rows.key, grid.cols.key}
        found = rows_depending_on(result.specs, keys)
        assert found == {k for k in rows if inputs_of(k) & keys}
        assert grid.output.key in found
    only_china = {"china": result.specs["china"]}  # another set of specs: its own table
    in_china = rows_depending_on(only_china, {"china.levy_rate"})
    assert "china.levy" in in_china  # levy = gross × levy_rate
    assert in_china <= {row.key for row in result.specs["china"].rows}
    assert rows_depending_on(result.specs, set()) == set()
