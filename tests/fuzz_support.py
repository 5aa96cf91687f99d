"""Shared machinery for the fuzz tests (tests/test_fuzz_*.py).

Every generated input goes through :func:`run_and_judge`, which runs the CLI in-process and
asserts the contract of issue 9: exit 0 with a complete run, or exit 2 with one line
``eqr: error: <where>: ...``; never a traceback, never an internal error, never a partial run
folder or a leftover temporary folder. It also counts what it saw; ``tests/conftest.py`` prints
the totals at the end of the session, and each fuzz test asserts its own minimum number of
rejected (bad) inputs — the minimums add up to at least :data:`REQUIRED_BAD_INPUTS`.

Strategies are derived from whatever assumption sheets exist (``resolve().items`` and the sheet
files), so a model added later is fuzzed without touching these tests.

``EQR_FUZZ_SCALE`` (default 1) multiplies the number of examples, e.g. ``EQR_FUZZ_SCALE=10`` for
a long soak.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import shutil
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings, strategies as st

from models.assumptions import ASSUMPTIONS_DIR, UNITS, resolve
from models.cli import main

REQUIRED_BAD_INPUTS = 1000
SCALE = max(1, int(os.environ.get("EQR_FUZZ_SCALE", "1") or 1))

#: what run_and_judge saw, by category: total, rejected (exit 2), accepted (exit 0), built
STATS: dict[str, Counter] = {}
#: every category's minimum of rejected (bad) inputs, asserted by its test; together at least
#: REQUIRED_BAD_INPUTS (the read-back's category comes on top once --from-workbook exists)
PLAN = {"sheets/structured": 250, "sheets/bytes": 220, "sheets/classics": 44, "set": 200,
        "scenario names": 100, "overlays/generated": 160, "overlays/mutated": 85,
        "templates": 8, "markdown": 6}
assert sum(PLAN.values()) >= REQUIRED_BAD_INPUTS

LOCATION = re.compile(r"^eqr: error: (\S[^\n]*?:\d+: |\S[^\n]*?: )")


def fuzz_settings(n: int) -> settings:
    """Hypothesis settings for a fuzz test with ``n`` examples (times EQR_FUZZ_SCALE)."""
    # derandomize, database and print_blob come from the active profile (tests/conftest.py):
    # "ci" (derandomized: every CI run draws the same inputs) or "dev" (random, for soaks)
    return settings(max_examples=n * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much,
                                           HealthCheck.function_scoped_fixture])


def bundled_sheets() -> dict[str, Path]:
    """model name → its bundled sheet file (every sheet that exists, new models included)."""
    a = resolve()
    return {m: ASSUMPTIONS_DIR / Path(s.file).name for m, s in a.sheets.items()}


# --------------------------------------------------------------------------- running
def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def assert_no_partial_output(folder: Path, code: int) -> None:
    """``folder`` (a reports folder) holds only complete runs and ``latest``; after a failure,
    no run at all; never a hidden temporary folder."""
    if not folder.exists():
        return
    entries = sorted(folder.iterdir())
    leftovers = [p.name for p in entries if p.name.startswith(".")]
    assert leftovers == [], f"temporary folders left behind: {leftovers}"
    runs = [p for p in entries if p.name not in ("latest", "LATEST")]
    if code != 0:
        assert runs == [], f"a failed build left {[p.name for p in runs]}"
        assert not (folder / "latest").exists()
    for run in runs:
        assert_complete_run(run)


def assert_complete_run(run: Path) -> None:
    manifest = json.loads((run / "manifest.json").read_text())
    for name in manifest["files"]:
        path = run / name
        if path.is_dir():  # e.g. charts/
            assert any(path.iterdir()), name
        else:
            assert path.is_file() and path.stat().st_size > 0, name
    outputs = json.loads((run / "outputs.json").read_text())
    # a number, or null where an unknown figure is used; never NaN or infinity
    assert all(v is None or math.isfinite(v) for v in outputs.values())


def run_and_judge(category: str, argv: list[str], reports: Path | None = None,
                  where: tuple[str, ...] = (), count: bool = True) -> tuple[int, str]:
    """Run ``eqr argv`` in-process and assert the bad-input contract; count the outcome
    (``count=False``: a second look at an input already counted).

    ``where``: fragments one of which an error message must contain (the file's name, the key,
    the option) — the message names file and line or key.
    """
    if not count:
        stats = STATS.setdefault(category, Counter())
        before = stats["total"], stats["rejected"], stats["accepted"]
        try:
            return run_and_judge(category, argv, reports, where)
        finally:
            stats["total"], stats["rejected"], stats["accepted"] = before
    code, out, err = run_cli(argv)
    if os.environ.get("EQR_FUZZ_LOG"):  # see what the fuzzer provoked: one line per input
        with open(os.environ["EQR_FUZZ_LOG"], "a", encoding="utf-8", errors="replace") as log:
            log.write(f"{category}\t{code}\t{err.strip() or out.strip()}\n")
    stats = STATS.setdefault(category, Counter())
    stats["total"] += 1
    if "Traceback" in err or "Traceback" in out or "internal error" in err:
        stats["tracebacks"] += 1
    assert "Traceback" not in err and "Traceback" not in out, err
    assert "internal error" not in err, f"internal error (a bug) for {argv}:\n{err}"
    assert code in (0, 2), f"exit {code} for {argv}: {err}"
    if code == 2:
        stats["rejected"] += 1
        assert err.startswith("eqr: error: "), err
        assert err.count("\n") == 1 and err.endswith("\n"), f"not one line: {err!r}"
        assert LOCATION.match(err), f"error does not say where: {err}"
        if where:
            assert any(w in err for w in where), f"error names none of {where}: {err}"
    else:
        stats["accepted"] += 1
    if reports is not None:
        try:
            assert_no_partial_output(reports, code)
        except AssertionError as exc:
            stats["partial"] += 1
            if os.environ.get("EQR_FUZZ_LOG"):
                with open(os.environ["EQR_FUZZ_LOG"], "a", encoding="utf-8") as log:
                    log.write(f"{category}\tPARTIAL\t{exc}\n")
            raise
    return code, err


#: per category, how many accepted inputs also go through the whole pipeline — a real build
#: (BUILD_BUDGET, drawn for about one example in 40) or a full ``check`` (FULL_BUDGET: models
#: evaluated, scenarios compared, charts drawn, memo rendered). Each costs seconds, so the
#: other accepted inputs stop at ``check --quick``; rejected inputs are rejected there already
#: (and a build drawn for one must be refused too, writing nothing).
BUILD_BUDGET = 1
FULL_BUDGET = 2


def judge_input(category: str, args: list[str], reports: Path, mode: int,
                where: tuple[str, ...] = ()) -> int:
    """Judge one generated input (``args`` after the command): see BUILD_BUDGET."""
    code, _ = run_and_judge(category, ["check", "--quick", *args], None, where)
    stats = STATS[category]
    build = ["build", "--no-pdf", "--reports", str(reports), *args]
    if code == 2:
        if mode == 0:
            again, _ = run_and_judge(category, build, reports, where, count=False)
            assert again == 2, "check --quick refused it but build did not"
        return code
    # past the quick stage an error may come from a model, chart or memo line: it must still
    # say where (file and line, or key), but not necessarily name the generated input
    if mode == 0 and stats["built"] < BUILD_BUDGET:
        code, _ = run_and_judge(category, build, reports, count=False)
        stats["built"] += code == 0
        stats["full"] += 1
    elif stats["full"] < FULL_BUDGET:
        code, _ = run_and_judge(category, ["check", *args], reports, count=False)
        stats["full"] += 1
    if code == 2:  # refused only by the whole pipeline: a rejected input after all
        stats["rejected"] += 1
        stats["accepted"] -= 1
    return code


def fresh(folder: Path) -> Path:
    """An empty folder (removed and recreated)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def summary() -> str:
    total = Counter()
    for c in STATS.values():
        total.update(c)
    lines = [f"fuzz: {total['total']} generated inputs, {total['rejected']} rejected with a "
             f"clean error (exit 2), {total['accepted']} valid; {total['full']} accepted inputs "
             f"taken through the whole pipeline ({total['built']} real builds); "
             f"{total['tracebacks']} tracebacks, {total['partial']} partial run folders "
             f"(required: >= {REQUIRED_BAD_INPUTS * SCALE} rejected when every fuzz test runs)"]
    for name, c in sorted(STATS.items()):
        lines.append(f"  {name}: {c['total']} inputs, {c['rejected']} rejected, "
                     f"{c['accepted']} valid ({c['full']} whole pipeline, {c['built']} built)")
    return "\n".join(lines)


def count_check(category: str, minimum: int | None = None, scaled: bool = True) -> None:
    """Assert (and print) how many bad inputs a fuzz test rejected: at least its PLAN minimum
    (times EQR_FUZZ_SCALE for generated inputs)."""
    minimum = PLAN[category] if minimum is None else minimum
    if category not in STATS:
        import pytest
        pytest.skip(f"the {category} fuzz test did not run in this session (run its whole file)")
    c = STATS[category]
    print(f"\n{category}: {c['total']} inputs, {c['rejected']} rejected (exit 2), "
          f"{c['accepted']} valid; {c['tracebacks']} tracebacks, {c['partial']} partial run "
          f"folders")
    assert c["tracebacks"] == 0 and c["partial"] == 0
    assert c["rejected"] >= minimum * (SCALE if scaled else 1), (
        f"{category}: only {c['rejected']} bad inputs were rejected; expected >= {minimum}")


# --------------------------------------------------------------------------- strategies
_FORMULA_TEXT = ["=1+1", "+1+1", "-2+3", "@SUM(1,2)", "=HYPERLINK(\"http://x\",\"y\")",
                 "=cmd|' /C calc'!A0", "<script>alert(1)</script>", "{{ 7*7 }}",
                 "{% raw %}", "</td></tr>", "&amp;"]
_WORDS = ["yes", "no", "on", "off", "y", "n", "true", "false", "null", "~", "", " ", "NaN",
          ".nan", ".inf", "-.inf", "inf", "25%", "1,000,000", "0.25", "1e6", "1:30", "040000",
          "0x1F", "2025-12-01", "CY2026", "cogs", "contra_revenue", "∞", "二五", "😀",
          "a" * 300, "\u202eevil", "x\ty"]


def nasty_scalars() -> st.SearchStrategy:
    """Wrong or odd single values: types, NaN/inf, huge, percent-like, injection text."""
    return st.one_of(
        st.none(), st.booleans(),
        st.integers(min_value=-10**6, max_value=10**6),
        st.sampled_from([25, 100, 101, -25, 10**15, 10**20, 10**101, -10**30, 10**400]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([1e-300, 1e300, -0.0, 0.5, 1.0, 1.5, 99.9]),
        st.sampled_from(_WORDS), st.sampled_from(_FORMULA_TEXT),
        printable_text(20), printable_text(20), st.text(max_size=5),
    )


def printable_text(max_size: int) -> st.SearchStrategy:
    """Any text without control characters or surrogates (those are one error, soon found)."""
    return st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=max_size)


def nasty_values() -> st.SearchStrategy:
    """A nasty scalar, or a list/mapping of them, nested a little."""
    return st.recursive(
        nasty_scalars(),
        lambda inner: st.one_of(st.lists(inner, max_size=4),
                                st.dictionaries(printable_text(8), inner, max_size=4)),
        max_leaves=8)


def unit_names() -> st.SearchStrategy:
    return st.one_of(st.sampled_from(sorted(UNITS)), st.sampled_from(["%", "percent", "USD",
                                                                      "Fraction", ""]))
