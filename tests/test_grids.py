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


def test_grids_batched_together_equal_each_grid_run_alone(base, result):
    """All grids come from one batch evaluation (grids.all_grid_values); each equals, bit for
    bit, a batch run of that grid's own points alone, every model up to the grid's evaluated
    (the way each grid was computed before), and a one-point grid is a single run."""
    import numpy as np

    from models.grids import all_grid_values
    from models.lineitems import Env, batch_inputs, evaluate_spec

    grids = list(all_grids(result.specs))
    assert len(grids) >= 2
    batched = all_grid_values(base, result.specs)
    assert list(batched) == [g.key for g in grids]
    for grid in grids:
        r, c = len(grid.rows.values), len(grid.cols.values)
        inputs = batch_inputs(base, r * c)
        for axis, values in ((grid.rows, np.repeat(grid.rows.values, c)),
                             (grid.cols, np.tile(grid.cols.values, r))):
            column = (list(base[axis.key].value).index(axis.period) if axis.period else 0)
            inputs[axis.key][:, column] = np.asarray(
                values, dtype=object if inputs[axis.key].dtype == object else float)
        env = Env(inputs, result.specs)
        for spec in result.specs.values():
            evaluate_spec(spec, env, r * c)
            if spec.name == grid.model:
                break
        col = result.specs[grid.model].periods.index(grid.period) if grid.period else 0
        alone = env.get(grid.output.key)[:, col].astype(float).reshape(r, c)
        assert batched[grid.key].tobytes() == alone.tobytes(), grid.key


def test_a_one_point_grid_is_a_single_run(base, result):
    """A grid of one point is evaluated alone (N = 1), as before batching: with both axes at
    the inputs' own values its one value is, bit for bit, the run's own value."""
    from dataclasses import replace

    from models.grids import all_grid_values

    grids = list(all_grids(result.specs))
    grid = next(g for g in grids if not g.rows.period and not g.cols.period
                and not result.specs[g.model].row(g.output.name).series)
    one = replace(grid, name="one_point",
                  rows=replace(grid.rows, values=(base.value(grid.rows.key),)),
                  cols=replace(grid.cols, values=(base.value(grid.cols.key),)))
    values = all_grid_values(base, result.specs, [one] + grids)
    assert values[one.key].shape == (1, 1)
    assert values[one.key][0, 0].tobytes() == result.env.get(grid.output.key)[0, 0].tobytes()
    assert values[grid.key].tobytes() == result.grid_values[grid.key].tobytes()
