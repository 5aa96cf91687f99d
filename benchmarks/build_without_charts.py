"""What a build costs without its charts: ``python benchmarks/build_without_charts.py OUT``.

Runs ``eqr build --no-pdf --out OUT`` in this process with the chart process replaced by one
that draws nothing and nothing imports matplotlib (the memo's chart entries, its titles and
file names, come from a helper process that drew the default run's charts first, before the
clock starts), and prints the wall and CPU seconds of the build's process. That is a lower bound for the
build's own work (evaluation, scenario comparison, risk, workbook, memo) that no change to the
charts can beat: put it next to the import floor of ``benchmarks/run.py`` (issue 18). The
folder it writes is not a complete run (no chart files). Timings are never asserted in tests.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time

ENTRIES = r"""
import json
from models import plots, risk
from models.assumptions import resolve
from models.painter import risk_chart
from models.runs import prepare_run
result = prepare_run(resolve())
charts = plots.charts_for(result, result.outputs)
analysis = risk.analyse(result)
charts.append(risk_chart(analysis, {**result.outputs, **risk.risk_outputs(analysis)}))
print(json.dumps({chart.key: plots.chart_entry(chart) for chart in charts}))
"""
CHART_ENTRIES = json.loads(subprocess.run([sys.executable, "-c", ENTRIES], check=True,
                                          capture_output=True, text=True).stdout)
WALL = time.perf_counter()
START = os.times()
from models import painter  # noqa: E402
from models.cli import main  # noqa: E402


class NoCharts:
    """Stands in for :class:`models.painter.Painter`: no process, no figures."""

    def __init__(self):
        self._entries = CHART_ENTRIES

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
    cpu = times.user + times.system - START.user - START.system
    print(f"exit {code}; wall {time.perf_counter() - WALL:.2f} s, CPU {cpu:.2f} s (after the "
          f"interpreter started); matplotlib imported: "
          f"{'matplotlib' in sys.modules}")


if __name__ == "__main__":
    run(sys.argv[1])
