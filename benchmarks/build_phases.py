"""Where a build's CPU time goes: ``python benchmarks/build_phases.py OUT [build options]``.

Runs one ``eqr build --out OUT`` in this process with the charts saved here
(``EQR_SERIAL_CHARTS=1``, so their cost is counted) and prints the CPU seconds of the imports,
of the build and of its main phases (nested phases are included in their parents:
``_write_model``, ``_write_grids``, the scenario sheets and XlsxWriter's ``close`` are inside
``write_workbook``; ``run_models`` of the compared scenarios inside ``compare``; ``_save_svg``
includes the chart's layout). ``benchmarks/build_timeline.py`` shows where the same phases
fall in wall time when the build runs as it normally does, on two processes. CPU seconds
(``time.process_time``) are far less sensitive than wall seconds to other load on a shared
machine, and unlike cProfile's figures they are not inflated by the profiler itself.
Compare two trees with ``PYTHONPATH=<tree>``; timings are never asserted in tests.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import time

os.environ["EQR_SERIAL_CHARTS"] = "1"
START = time.process_time()
WALL = time.perf_counter()
from models.cli import main  # noqa: E402

PHASES = [
    ("models.runs", "prepare_run"), ("models.runs", "check_finite"),
    ("models.compare", "compare"), ("models.compare", "run_models"),
    ("models.engine", "build_specs"), ("models.risk", "analyse"),
    ("models.plots", "charts_for"), ("models.painter", "risk_chart"),
    ("models.plots", "_save_svg"), ("models.plots", "_save_png"),
    ("models.workbook", "write_workbook"), ("models.workbook", "_write_model"),
    ("models.workbook", "_write_grids"), ("models.workbook", "_grey_disconnected_inputs"),
    ("models.compare_sheet", "make_plan"), ("models.compare_sheet", "write_scenario_sheets"),
    ("models.runs", "_write_text"), ("models.memo", "check_templates"),
    ("models.memo", "load_weasyprint"), ("models.memo", "write_pdf"),
]
TIMES: dict[str, float] = {}


def _timed(name: str, f):
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return f(*args, **kwargs)
        finally:
            TIMES[name] = TIMES.get(name, 0.0) + time.process_time() - start
    return wrapper


def _instrument() -> None:
    for module_name, attr in PHASES:
        module = importlib.import_module(module_name)
        setattr(module, attr, _timed(f"{module_name}.{attr}", getattr(module, attr)))
    import xlsxwriter.workbook
    book = xlsxwriter.workbook.Workbook
    book.close = _timed("xlsxwriter Workbook.close", book.close)


def run(argv: list[str]) -> None:
    _instrument()
    imported = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["build", "--out", *argv])
    done = time.process_time()
    print(f"exit {code}; CPU s: imports {imported - START:.2f}, build {done - imported:.2f}; "
          f"wall {time.perf_counter() - WALL:.2f} s")
    for name, seconds in sorted(TIMES.items(), key=lambda kv: -kv[1]):
        print(f"  {name:45s} {seconds:6.2f}")


if __name__ == "__main__":
    run(sys.argv[1:])
