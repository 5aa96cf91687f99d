"""Every bundled scenario overlay moves what it says it moves, on every units path (issue 15).

Each overlay declares in its YAML (``expects``, ``inert_on``; models/expects.py) the headline
outputs it is meant to move and which way against the base case. Here each one is evaluated in
memory on each units path (``china.units_source`` = market and = typed) and held to that: a
declared output that does not move that way fails, and so does an overlay that moves no headline
output on a path it does not declare itself inert on (or moves one on a path it does).
"""
from __future__ import annotations

import math

import pytest

from models import engine
from models.assumptions import available_scenarios, resolve
from models.errors import EqrError
from models.assumptions import read_expectations as load
from models.expects import PATH_SWITCH, paths
from models.headlines import headlines

PATHS = paths(resolve())
OVERLAYS = available_scenarios()
TOL = 1e-9  # relative: below it an output did not move


def test_both_units_paths_and_every_overlay_are_covered():
    assert PATHS == ("market", "typed")
    assert len(OVERLAYS) == 11


_cache: dict = {}


def outputs(path: str, scenario: str | None = None) -> dict:
    key = (path, scenario)
    if key not in _cache:
        a = resolve([scenario] if scenario else [], overrides=[f"{PATH_SWITCH}={path}"])
        _cache[key] = engine.run(a).line_outputs
    return _cache[key]


def direction(before: float | None, after: float | None) -> str:
    if before is None and after is None:  # n/a in both (no China revenue: no margin)
        return "unchanged"
    if before is None or after is None:
        return "n/a"
    if abs(after - before) <= TOL * max(1.0, abs(before)):
        return "unchanged"
    return "up" if after > before else "down"


def moved(path: str, scenario: str) -> dict[str, str]:
    base, o = outputs(path), outputs(path, scenario)
    names = [h.output for h in headlines(engine.build_specs(resolve()))]
    found = {k: direction(base[k], o[k]) for k in names}
    return {k: d for k, d in found.items() if d != "unchanged"}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", OVERLAYS)
def test_overlay_moves_what_it_declares(name, path):
    declared = load(name)
    base, after = outputs(path), outputs(path, name)
    wrong = {k: (want, direction(base[k], after[k])) for k, want in declared.on(path).items()
             if direction(base[k], after[k]) != want}
    assert not wrong, f"{name} on the {path} path: output: (declared, found) {wrong}"
    changed = moved(path, name)
    if path in declared.inert:
        assert not changed, (f"{name} says it moves nothing on the {path} path "
                             f"({declared.inert[path]}) but moves {changed}")
    else:
        assert changed, f"{name} moves no headline output on the {path} path (inert)"
        assert any(d in ("up", "down") for d in declared.on(path).values()), \
            f"{name} declares no output it moves on the {path} path"


def test_a_ban_takes_the_china_profit_out_of_the_target_on_the_typed_path():
    """Hand check of one declaration: typed path, CY2027 (the target year) 1,000,000 units ×
    $40,000 = $40,000m; gross profit at 70% margin less the 25% levy = 45% → $18,000m; no opex,
    15% tax → $15,300m; ÷ 24,483m shares = $0.6249 a share, gone under the ban."""
    typed, ban = outputs("typed"), outputs("typed", "china_ban")
    assert typed["china.eps_contribution.CY2027"] == pytest.approx(15_300 / 24_483, rel=1e-9)
    assert ban["china.eps_contribution.CY2027"] == 0
    assert not math.isclose(typed["valuation.price_target"], ban["valuation.price_target"])


# --------------------------------------------------------------------------- validation
def write(sheets, text: str):
    (sheets / "scenarios" / "x.yaml").write_text(
        "description: x\nset:\n  china.levy_rate: 0.2\n" + text)


@pytest.mark.parametrize("text, fragment", [
    ("expects:\n  valuation.price_targt: down\n", "did you mean 'valuation.price_target'?"),
    ("expects:\n  valuation.price_target: lower\n", "expected up | down | unchanged"),
    ("expects:\n  valuation.price_target: {market: down, typd: down}\n",
     "unknown units path"),
    ("expects:\n  valuation.price_target: {market: down}\n", "no direction for typed"),
    ("expects:\n  valuation.price_target: down\ninert_on:\n  typed: reason\n",
     "but 'inert_on' says nothing moves there"),
    ("inert_on:\n  typed: ''\n", "needs a reason"),
    ("expects: [valuation.price_target]\n", "'expects' must be a mapping"),
])
def test_bad_declarations_are_refused_naming_file_and_key(sheets, text, fragment):
    write(sheets, text)
    with pytest.raises(EqrError) as err:  # output names are checked once the models exist
        engine.build_specs(resolve(["x"], directory=sheets))
    message = str(err.value)
    assert "scenarios/x.yaml" in message and fragment in message


def test_a_good_declaration_loads(sheets):
    write(sheets, "expects:\n  china.gross_profit.CY2026: {market: up, typed: up}\n")
    assert load("x", sheets).on("typed") == {"china.gross_profit.CY2026": "up"}
    assert resolve(["x"], directory=sheets).value("china.levy_rate") == 0.2


def test_an_overlay_inert_on_this_path_is_reported():
    """``--set china.units_source=typed --scenario china_open`` is the base case again: the run
    says so (and the build/check print it), naming the switch; on the market path, or for an
    overlay that restates the base on every path (china_limited), nothing is said."""
    from models.expects import inert_warnings
    typed = [f"{PATH_SWITCH}=typed"]
    [line] = inert_warnings(resolve(["china_open"], overrides=typed))
    assert line.startswith("scenario china_open changes no headline output while "
                           "china.units_source = typed (")
    assert line.endswith("it does with --set china.units_source=market")
    assert inert_warnings(resolve(["china_open"])) == []
    assert inert_warnings(resolve(["china_limited"], overrides=typed)) == []
    compared = {"china_open": resolve(["china_open"], overrides=typed)}
    assert inert_warnings(resolve(overrides=typed), compared) == [line]
