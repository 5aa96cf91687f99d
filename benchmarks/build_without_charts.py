"""What a build costs without its charts: ``python benchmarks/build_without_charts.py OUT``.

Runs ``eqr build --no-pdf --out OUT`` in this process with the chart process replaced by one
that draws nothing (the memo's chart entries are placeholders; nothing imports matplotlib), and
prints the wall and CPU seconds since the interpreter started. That is a lower bound for the
build's own work (evaluation, scenario comparison, risk, workbook, memo) that no change to the
charts can beat: put it next to the import floor of ``benchmarks/run.py`` (issue 18). The
folder it writes is not a complete run (no chart files). Timings are never asserted in tests.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections import defaultdict

WALL = time.perf_counter()
from models import painter  # noqa: E402
from models.cli import main  # noqa: E402


class NoCharts:
    """Stands in for :class:`models.painter.Painter`: no process, no figures."""

    def __init__(self):
        self._entries = defaultdict(lambda: {"svg": "charts/none.svg", "png": "charts/none.png",
                                             "title": "", "sheet": "", "outputs": []})

    def draw(self, *args, **kwargs) -> None:
        pass

    def draw_risk(self, *args) -> None:
        pass

    def entries(self):
        return self._entries

    def wait_svgs(self) -> None:
        pass

    def finish(self, abort: bool = False) -> None:
        pass


def run(out: str) -> None:
    painter.Painter = NoCharts
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["build", "--no-pdf", "--out", out])
    times = os.times()
    print(f"exit {code}; wall {time.perf_counter() - WALL:.2f} s, CPU "
          f"{times.user + times.system:.2f} s; matplotlib imported: "
          f"{'matplotlib' in sys.modules}")


if __name__ == "__main__":
    run(sys.argv[1])
