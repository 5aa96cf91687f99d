"""The model registry, the one dependency walk and the one output-key parser (issue 14)."""
from __future__ import annotations

import pytest

from models import engine, registry
from models.assumptions import resolve
from models.lineitems import find_output, row_deps


@pytest.mark.parametrize("name", registry.MODELS)
def test_every_registered_model_follows_the_protocol(name):
    module = registry.model_module(name)
    for attribute in registry.REQUIRED:
        assert hasattr(module, attribute), f"models/{name}.py has no {attribute}"
    assert callable(module.define)


def test_engine_and_manifest_read_the_registry():
    from models.reproduce import code_sha256
    assert engine.MODEL_MODULES == registry.MODELS
    hashed = code_sha256()
    for name in (*registry.MODELS, "vintage", "rowexprs", "grids"):
        assert f"models/{name}.py" in hashed, name  # rerun/diff see changes to these files


def test_the_dependency_walk_sees_sumproduct_rows():
    """Regression: SumProduct keeps its rows as ``scalars``/``series``, which the sweep's own
    walk missed (``eqr sweep --output depreciation.microsoft_depr_sl_alt1.FY2026`` ended in
    KeyError)."""
    from models.vintage import SumProduct
    specs = engine.build_specs(resolve())
    found = [row for spec in specs.values() for row in spec.rows
             if isinstance(row.expr, SumProduct)]
    assert found
    deps = {r.key for r in row_deps(found[0].expr)}
    assert {r.key for r in found[0].expr.scalars} <= deps
    assert {r.key for r in found[0].expr.series} <= deps


def test_sweep_of_a_sumproduct_output(tmp_path):
    from models.cli import main
    assert main(["sweep", "--n", "10", "--seed", "1", "--output",
                 "depreciation.microsoft_depr_sl_alt1.FY2026", "--out",
                 str(tmp_path / "sweep")]) == 0


def test_output_names_with_dotted_rows():
    """Regression: ``blackwell.seed_case.gap_low`` (a row named with a dot) was an unknown
    output for ``eqr diff --output``; both the sweep and diff use find_output now."""
    from models.headlines import outputs_for
    specs = engine.build_specs(resolve())
    row, period = find_output(specs, "blackwell.seed_case.gap_low")
    assert row.name == "seed_case.gap_low" and period is None
    row, period = find_output(specs, "nvda.revenue.Q3FY2027")
    assert row.key == "nvda.revenue" and period == "Q3FY2027"
    assert find_output(specs, "nvda.revenue.Q5FY2027") is None
    assert [h.output for h in outputs_for(specs, ["blackwell.seed_case.gap_low"])] == \
        ["blackwell.seed_case.gap_low"]
