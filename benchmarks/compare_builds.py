"""Compare two run folders built from the same assumptions (e.g. before/after a speed-up).

``python benchmarks/compare_builds.py BEFORE AFTER`` checks that nothing was given up:
``outputs.json`` and ``cells.json`` values, every workbook cell's formula and stored value
(openpyxl, both with and without ``data_only``), ``memo.md`` and ``memo.html`` text (ignoring the
line with the build timestamp), ``memo_figures.json``, and the chart files byte for byte.
Prints one line per difference (at most 20 per file) and a summary; exit status 1 if any differ.

To build the two folders: ``git stash``/``git worktree`` the old code and run
``PYTHONPATH=<tree> python -m models build --no-pdf --out <folder>`` for each.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")


def _text(path: Path) -> list[str]:
    return [TIMESTAMP.sub("<built>", line)
            for line in path.read_text(encoding="utf-8").splitlines()]


def _workbook(path: Path) -> dict[tuple[str, str], tuple]:
    import openpyxl
    formulas = openpyxl.load_workbook(path, data_only=False)
    values = openpyxl.load_workbook(path, data_only=True)
    cells = {}
    for ws in formulas.worksheets:
        wv = values[ws.title]
        for row in ws.iter_rows():
            for c in row:
                v = wv[c.coordinate].value
                if c.value is None and v is None:
                    continue
                f = c.value
                if hasattr(f, "text"):  # ArrayFormula / DataTableFormula
                    f = ("array", f.ref, f.text)
                if isinstance(v, str):  # the Cover sheet's build timestamp
                    v = TIMESTAMP.sub("<built>", v)
                    f = TIMESTAMP.sub("<built>", f) if isinstance(f, str) else f
                cells[(ws.title, c.coordinate)] = (f, v, c.number_format)
    return cells


def _diff_maps(name: str, a: dict, b: dict, problems: list[str]) -> int:
    keys = sorted(set(a) | set(b), key=str)
    bad = [k for k in keys if a.get(k, "<missing>") != b.get(k, "<missing>")]
    for k in bad[:20]:
        problems.append(f"{name} {k}: {a.get(k, '<missing>')!r} != {b.get(k, '<missing>')!r}")
    return len(keys)


def _diff_lines(name: str, a: list[str], b: list[str], problems: list[str]) -> int:
    if len(a) != len(b):
        problems.append(f"{name}: {len(a)} lines != {len(b)} lines")
    shown = 0
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and shown < 20:
            problems.append(f"{name} line {i + 1}: {x[:120]!r} != {y[:120]!r}")
            shown += 1
    return len(a)


def compare(before: Path, after: Path) -> tuple[list[str], dict[str, int]]:
    problems: list[str] = []
    counts = {}
    for name in ("outputs.json", "cells.json", "memo_figures.json"):
        a = json.loads((before / name).read_text())
        b = json.loads((after / name).read_text())
        if isinstance(a, dict) and isinstance(b, dict):
            counts[name] = _diff_maps(name, a, b, problems)
        else:
            counts[name] = 1
            if a != b:
                problems.append(f"{name} differs")
    counts["model.xlsx cells"] = _diff_maps("model.xlsx", _workbook(before / "model.xlsx"),
                                            _workbook(after / "model.xlsx"), problems)
    for name in ("memo.md", "memo.html"):
        counts[name + " lines"] = _diff_lines(name, _text(before / name), _text(after / name),
                                              problems)
    charts_a = sorted(p.name for p in (before / "charts").iterdir())
    charts_b = sorted(p.name for p in (after / "charts").iterdir())
    if charts_a != charts_b:
        problems.append(f"charts: {charts_a} != {charts_b}")
    for name in sorted(set(charts_a) & set(charts_b)):
        if (hashlib.sha256((before / "charts" / name).read_bytes()).digest()
                != hashlib.sha256((after / "charts" / name).read_bytes()).digest()):
            problems.append(f"charts/{name}: bytes differ")
    counts["chart files"] = len(charts_a)
    return problems, counts


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    problems, counts = compare(Path(args[0]), Path(args[1]))
    for p in problems:
        print(p)
    print("compared: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print("IDENTICAL" if not problems else f"DIFFERENT ({len(problems)} differences shown)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
