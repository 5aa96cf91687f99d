"""Fuzz ``--set KEY=VALUE`` and ``--scenario NAME`` on the command line.

Keys come from the resolved assumptions (every model's, new ones included), misspelt or
extended; values are nasty text. Exit 0 with a run, or exit 2 naming the key or option; never a
traceback, never a partial run folder; a scenario name never reaches a file outside
``assumptions/scenarios``.
"""
from __future__ import annotations

import math
import shutil

import pytest
from hypothesis import given, strategies as st

from fuzz_support import (count_check, fresh, fuzz_settings, judge_input, printable_text,
                          run_cli)
from models.assumptions import ASSUMPTIONS_DIR, UNITS, available_scenarios, resolve

BASE = resolve()
FLAT_KEYS = sorted(BASE.flat_values())
ITEM_KEYS = sorted(BASE.items)

VALUE_TEXT = ["25", "100", "101", "-25", "-1", "0", "1", "1.5", "0.25", "25%", "1,000,000",
              "1e6", "1.0e300", "1e999", "-1e999", ".nan", "nan", ".inf", "inf", "-.inf",
              "yes", "no", "true", "false", "null", "~", "''", '""', "'0.25'", "[1, 2]",
              "{a: 1}", "0x1F", "040000", "1:30", "2025-12-01", "9" * 60, "1" * 5000,
              "=1+1", "@SUM(A1)", "<script>", "{{ 7*7 }}", "cogs", "COGS", "contra_revenue",
              "!!python/object/apply:os.system [ls]", "&a [*a]", "*x", "a: b", "- a",
              "CY2026", "CY2099", " ", "=", "==", "\u00a0", "😀", "\ud800", "\x00", "\x1b[31m"]


@st.composite
def keys(draw):
    key = draw(st.sampled_from(FLAT_KEYS + ITEM_KEYS))
    how = draw(st.integers(0, 9))
    if how == 0:
        key = key[:-1]
    elif how == 1:
        key = key + ".CY2026"
    elif how == 2:
        key = key.upper()
    elif how == 3:
        key = key.replace(".", "..", 1)
    elif how == 4:
        key = draw(printable_text(15))
    elif how == 5:
        key = " " + key + " "
    return key


@st.composite
def values(draw):
    return draw(st.one_of(st.sampled_from(VALUE_TEXT), st.sampled_from(VALUE_TEXT),
                          printable_text(12), st.floats().map(repr), st.integers().map(str),
                          st.text(max_size=4)))


@st.composite
def set_arguments(draw):
    n = draw(st.integers(1, 2))
    args = []
    for _ in range(n):
        form = draw(st.integers(0, 20))
        if form == 0:
            text = draw(printable_text(20))  # maybe no '=' at all
        elif form == 1:
            text = draw(keys()) + "="
        elif form == 2:
            text = "=" + draw(values())
        else:
            text = f"{draw(keys())}={draw(values())}"
        args += ["--set", text]
    return args


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz_set")


@fuzz_settings(250)
@given(args=set_arguments(), mode=st.integers(0, 39), force=st.booleans())
def test_fuzz_set_values(reports, args, mode, force):
    out = fresh(reports / "r")
    judge_input("set", args + (["--force"] if force else []), out, mode,
                where=("--set",) + tuple(a.split("=")[0].strip() for a in args[1::2]))


def test_set_count():
    count_check("set")


# --------------------------------------------------------------------------- valid values
def _numeric_items():
    for key, item in BASE.items.items():
        if UNITS[item.unit].kind != "number":
            continue
        for flat in ([f"{key}.{p}" for p in item.value] if item.is_series else [key]):
            yield flat, item


NUMERIC = list(_numeric_items())


@st.composite
def in_bounds(draw):
    """A key and a value inside its bounds (and unit), as a user would type it."""
    flat, item = draw(st.sampled_from(NUMERIC))
    unit = UNITS[item.unit]
    lo = item.bounds[0] if item.bounds[0] is not None else unit.lower
    hi = item.bounds[1] if item.bounds[1] is not None else unit.upper
    lo = -1e6 if lo is None else lo
    hi = (lo + 1e6) if hi is None else hi
    value = draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))
    return flat, value


@fuzz_settings(25)
@given(case=in_bounds())
def test_values_inside_bounds_are_accepted_and_applied(reports, case):
    """The other half of the contract: a good value is not refused, and it is used."""
    flat, value = case
    # the whole pipeline but the scenario comparison: the set value is under test, not overlays
    code, out, err = run_cli(["check", "--no-compare", "--set", f"{flat}={value!r}"])
    if code == 2 and "not a finite number" in err:
        return  # an extreme but legal input can still overflow a row: refused, cleanly
    assert code == 0, err
    a = resolve(overrides=[f"{flat}={value!r}"])
    assert math.isclose(a.flat_values()[flat], value, rel_tol=1e-12, abs_tol=0)


# --------------------------------------------------------------------------- scenario names
@st.composite
def scenario_names(draw):
    real = available_scenarios()
    return draw(st.one_of(
        st.sampled_from(real + ["../china", "../../etc/passwd", "/etc/passwd", "scenarios/x",
                                "..", ".", "", "x" * 65, "a\x00b", "con", "h20_terms\n",
                                "-x", "+x", "=x", "@x", "a b", "ä", "x/../y", "C:\\x",
                                "~/x", "$HOME", "*", "levy_contra.yaml"]),
        printable_text(20), st.text(max_size=6)))


@pytest.fixture(scope="module")
def trap(tmp_path_factory):
    """An assumptions folder with overlays outside scenarios/ that no name may reach."""
    root = tmp_path_factory.mktemp("trap") / "assumptions"
    shutil.copytree(ASSUMPTIONS_DIR, root)
    bait = "description: must never be applied\nset: {}\n"
    (root.parent / "escaped.yaml").write_text(bait)
    (root / "scenarios" / "sub").mkdir()
    (root / "scenarios" / "sub" / "nested.yaml").write_text(bait)
    return root


@fuzz_settings(120)
@given(names=st.lists(scenario_names(), min_size=1, max_size=3), mode=st.integers(0, 39))
def test_fuzz_scenario_names(trap, reports, names, mode):
    out = fresh(reports / "s")
    args = [x for n in names for x in ("--scenario", n)]
    code = judge_input("scenario names", ["--assumptions", str(trap)] + args, out, mode,
                       where=("--scenario",))
    if code == 0:
        assert all(n in available_scenarios(trap) for n in names)
        for run in out.iterdir():  # the folder name is one safe component
            assert run.parent == out and ".." not in run.name and "/" not in run.name


def test_scenario_name_count():
    count_check("scenario names")
