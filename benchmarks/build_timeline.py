"""When each phase of a build runs, in wall seconds, in the build and its helper processes:
``python benchmarks/build_timeline.py OUT [build options]`` (e.g. ``--no-pdf``).

A build runs on up to four processes: ``P`` the build (evaluates, compares the scenarios,
analyses the risk, writes the workbook and the memo); ``C`` the chart process
(:class:`models.painter.Painter`: imports matplotlib, draws the charts, saves its share);
``G`` the chart process's helper (saves the other charts); ``W`` with the PDF, the printer
(:class:`models.printer.Printer`). This prints each phase's start and end (seconds since the
interpreter started), so the critical path can be read off. Wall seconds depend on the
machine's load (``uptime``); timings are never asserted in tests.
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
    ("models.runs", "prepare_run"), ("models.compare", "compare"), ("models.risk", "analyse"),
    ("models.painter", "risk_chart"), ("models.runs", "_write_text"),
    ("models.workbook", "write_workbook"), ("models.memo", "load_weasyprint"),
    ("models.memo", "write_pdf"), ("models.painter.Painter", "entries"),
    ("models.painter.Painter", "wait_svgs"), ("models.painter.Painter", "finish"),
]
CHART_PHASES = [  # traced in the chart process
    ("models.plots", "charts_for"), ("models.plots", "_save_svg"), ("models.plots", "_save_png"),
    ("models.plots.ChartWriter", "wait_svgs"),
]


ROLE = "W"  # a helper process: the printer ("W"), unless _serve made it the chart process


def _log(text: str) -> None:
    if os.getpid() == PARENT:
        who = "P"
    else:
        who = ROLE if os.getppid() == PARENT else "G"  # G: the chart process's own helper
    os.write(2, f"{time.perf_counter() - START:6.2f} {who} {text}\n".encode())


def _traced(name: str, f):
    def wrapper(*args, **kwargs):
        _log(f"start {name}")
        try:
            return f(*args, **kwargs)
        finally:
            _log(f"end   {name}")
    return wrapper


def _trace(phases) -> None:
    for module_name, attr in phases:
        try:
            owner = importlib.import_module(module_name)
        except ModuleNotFoundError:  # a class: models.plots.ChartWriter
            module_name, cls = module_name.rsplit(".", 1)
            owner = getattr(importlib.import_module(module_name), cls)
        setattr(owner, attr, _traced(attr, getattr(owner, attr)))


def _serve_traced(serve):
    """The chart process: matplotlib's modules are traced there (the build never imports
    them)."""
    def wrapper(channel):
        global ROLE
        ROLE = "C"
        _log("start import matplotlib")
        _trace(CHART_PHASES)
        _log("end   import matplotlib")
        return serve(channel)
    return wrapper


def run(argv: list[str]) -> None:
    _log("imported models.cli")
    _trace(PHASES)
    import models.painter
    models.painter._serve = _serve_traced(models.painter._serve)
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["build", "--out", *argv])
    _log(f"exit {code}")


if __name__ == "__main__":
    run(sys.argv[1:])
