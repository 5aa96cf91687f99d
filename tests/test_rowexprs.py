"""Expression helpers: pick (CHOOSE/MATCH by name), running_total (capped recurrence), and the
Excel semantics of unknowns in comparisons and IF. LibreOffice agreement is checked on whole
workbooks by test_libreoffice_parity.py; these pin the numpy side against hand values."""
import numpy as np
import pytest

from models.lineitems import IF, Const, Env, InputValue, ModelBuilder, ModelSpec, evaluate_spec
from models.rowexprs import _choose, _match, pick, running_total


class _Sheet:
    """Just enough of Assumptions for a ModelBuilder without inputs."""


def build(periods, define, inputs=None):
    specs: dict[str, ModelSpec] = {}
    m = ModelBuilder("t", "t", periods, _Sheet(), specs)
    define(m)
    specs["t"] = m.spec
    env = Env(inputs or {}, specs)
    evaluate_spec(m.spec, env, 1)
    return m.spec, env


def test_match_and_choose_like_excel():
    names = ("H20", "H100", "H200")
    index = _match(np.array([["H200"], ["H20"], ["MI308"]], dtype=object), names, 0)
    assert index[:2, 0].tolist() == [3.0, 1.0] and np.isnan(index[2, 0])  # MATCH → #N/A
    out = _choose(np.array([[2.0], [np.nan]]), 10.0, np.array([[20.0], [21.0]]), 30.0)
    assert out[0, 0] == 20.0 and np.isnan(out[1, 0])


def test_pick_renders_choose_match_and_evaluates():
    def define(m):
        a = m.row("a", "a", "x", Const(5))
        b = m.row("b", "b", "x", Const(7))
        choice = m.row("choice", "choice", "text", Const("B"))
        m.row("picked", "picked", "x", pick(choice, {"A": a, "B": b}))
    spec, env = build(("P1",), define)
    assert env.get("t.picked")[0, 0] == 7


def test_running_total_with_cap():
    """flow 3, 0, 1, 5 against cap 2, 4, 6, 8 → 2, 2, 3, 8; without a cap 3, 3, 4, 9."""
    def define(m):
        flow = m.row("flow", "flow", "x", InputValue("flow", True))
        cap = m.row("cap", "cap", "x", InputValue("cap", True))
        running_total(m, "total", "total", "x", flow, cap=cap)
        running_total(m, "plain", "plain", "x", flow)
    inputs = {"flow": np.array([[3.0, 0, 1, 5]]), "cap": np.array([[2.0, 4, 6, 8]])}
    spec, env = build(("P1", "P2", "P3", "P4"), define, inputs)
    assert env.get("t.total")[0].tolist() == [2, 2, 3, 8]
    assert env.get("t.plain")[0].tolist() == [3, 3, 4, 9]


@pytest.mark.parametrize("cond, then, other, expected", [
    (np.nan, 1.0, 0.0, np.nan),       # IF(#N/A>=..., ...) is #N/A
    (1.0, 1.0, np.nan, 1.0),          # the branch not taken may be unknown
    (0.0, np.nan, 2.0, 2.0),
    (0.0, np.nan, np.nan, np.nan),
])
def test_if_with_unknowns_follows_excel(cond, then, other, expected):
    def define(m):
        c = m.row("c", "c", "x", Const(cond))
        m.row("out", "out", "x", IF(c >= 0.5, then, other))
    spec, env = build(("P1",), define)
    got = env.get("t.out")[0, 0]
    assert (np.isnan(got) and np.isnan(expected)) or got == expected
