"""When each phase of a build runs, in wall seconds, in the parent and in the chart child:
``python benchmarks/build_timeline.py OUT [build options]`` (e.g. ``--no-pdf``).

A build runs on two processes (:class:`models.plots.ChartWriter`): the parent evaluates,
compares, analyses the risk, writes the memo and the workbook; a forked child saves the
charts and, with the PDF, lays the note out. This prints each phase's start and end (seconds
since the interpreter started, ``P`` parent, ``C`` child) and the longest chain, so the
critical path can be read off. Wall seconds depend on the machine's load (``uptime``);
timings are never asserted in tests.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import time

START = time.perf_counter()
PARENT = os.getpid()
from models.cli import main  # noqa: E402

PHASES = [
    ("models.runs", "prepare_run"), ("models.plots", "charts_for"),
    ("models.compare", "compare"), ("models.risk", "analyse"), ("models.runs", "_risk_chart"),
    ("models.runs", "_write_text"), ("models.workbook", "write_workbook"),
    ("models.plots", "_save_svg"), ("models.plots", "_save_png"),
    ("models.memo", "load_weasyprint"), ("models.memo", "write_pdf"),
    ("models.plots.ChartWriter", "wait_svgs"),
]


def _log(text: str) -> None:
    who = "P" if os.getpid() == PARENT else "C"
    os.write(2, f"{time.perf_counter() - START:6.2f} {who} {text}\n".encode())


def _traced(name: str, f):
    def wrapper(*args, **kwargs):
        _log(f"start {name}")
        try:
            return f(*args, **kwargs)
        finally:
            _log(f"end   {name}")
    return wrapper


def run(argv: list[str]) -> None:
    _log("imported models.cli")
    for module_name, attr in PHASES:
        try:
            owner = importlib.import_module(module_name)
        except ModuleNotFoundError:  # a class: models.plots.ChartWriter
            module_name, cls = module_name.rsplit(".", 1)
            owner = getattr(importlib.import_module(module_name), cls)
        setattr(owner, attr, _traced(attr, getattr(owner, attr)))
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["build", "--out", *argv])
    _log(f"exit {code}")


if __name__ == "__main__":
    run(sys.argv[1:])
