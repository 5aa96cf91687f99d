"""The memo's charts, drawn and saved by a forked process that imports matplotlib while the
build runs (issue 18).

matplotlib takes a third of a second to import, and drawing and saving the charts is the
build's largest single cost; the charts need nothing but the run's outputs, its assumptions
and each model's periods (:class:`ChartRun`). So ``eqr build`` starts a :class:`Painter` first
thing: its process imports matplotlib on the second core while the build reads the sheets and
runs the models, and the build itself never imports it. Then the build calls

- :meth:`Painter.draw` with the evaluated run: the process draws the models' charts and starts
  saving them (:class:`models.plots.ChartWriter`, which shares the saving with a process of
  its own);
- :meth:`Painter.draw_risk` once the scenarios are compared and the risk analysed (the risk
  chart marks the bear, bull and probability-weighted targets);
- :meth:`Painter.entries` for what the memo templates get of each chart;
- :meth:`Painter.wait_svgs` (with the PDF): every SVG is on disk when it returns;
- :meth:`Painter.finish`: waits for the rest and re-raises the process's error (a chart that
  cannot be drawn is the user's :class:`~models.errors.EqrError`); ``finish(abort=True)``
  stops it.

Without a fork (:func:`models.forked.start`) the same calls do the work right here, in the
same order, writing the same files. One difference: a chart that cannot be drawn is reported
when the build asks for the entries (after the workbook is written) rather than at once; if
the build meets another error first, that one is reported. Either way nothing is written.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Any


FAILED = "the chart process ended without drawing the charts"


class ChartRun:
    """What a chart sees of a run (``charts(run, outputs)`` in ``models/plots/<model>.py``):
    the resolved assumptions (``assumptions``) and each model's ``periods`` (``specs``). Small
    enough to hand to the chart process; the figures themselves come from the outputs."""

    def __init__(self, result):
        self.assumptions = result.assumptions
        self.specs = {name: SimpleNamespace(periods=tuple(spec.periods))
                      for name, spec in result.specs.items()}


class Painter:
    def __init__(self):
        from models import forked
        self._child = forked.start(_serve)
        self._writer = None  # without a fork: the charts' writer here
        self._entries: dict[str, Any] | None = None
        self._done = False

    def draw(self, result, outputs: dict[str, Any], folder: Path, svgs_first: bool) -> None:
        """Draw the models' charts of ``result`` and start saving them under
        ``folder/charts`` (with ``svgs_first``, every SVG before any PNG)."""
        job = (ChartRun(result), outputs, folder, svgs_first)
        if self._child is None:
            self._writer = _start(*job)
        else:
            self._child.send(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))

    def draw_risk(self, risk, outputs: dict[str, Any]) -> None:
        """Draw and save the risk chart (``risk``: :func:`models.risk.analyse`'s, or None:
        no risk chart)."""
        if self._child is None:
            chart, self._entries = _draw_risk(self._writer, risk, outputs)
            if chart is not None:
                self._writer.add_here(chart)
        else:
            self._child.send(pickle.dumps((risk, outputs), protocol=pickle.HIGHEST_PROTOCOL))

    def entries(self) -> dict[str, Any]:
        """Each chart's entry for the templates (:func:`models.plots.chart_entry`), once
        :meth:`draw_risk` was called."""
        if self._entries is None:
            data = self._child.hear_data()
            if not data:
                self._child.raise_error(FAILED)
            self._entries = pickle.loads(data)
        return self._entries

    def wait_svgs(self) -> None:
        """Return once every chart's SVG is on disk (with ``svgs_first``)."""
        self.entries()
        if self._child is not None and self._child.hear() != b"s":
            self._child.raise_error(FAILED)

    def finish(self, abort: bool = False) -> None:
        """Wait for every file (or, with ``abort``, stop); a second call does nothing."""
        if self._done:
            return
        self._done = True
        if self._child is not None:
            self._child.wait(kill=abort)
        elif self._writer is not None:
            self._writer.finish(abort=abort)


def _start(run: ChartRun, outputs: dict[str, Any], folder: Path, svgs_first: bool):
    """Draw the charts and hand them to a writer (which starts saving them)."""
    from models import plots
    charts = plots.charts_for(run, outputs)
    return plots.ChartWriter(charts, folder, svgs_first=svgs_first)


def risk_chart(risk, outputs: dict[str, Any]):
    """The risk chart (:mod:`models.plots.risk`), drawn in this process."""
    from models import plots
    from models.plots import risk as risk_plot
    with plots.plt.rc_context(plots.STYLE):
        return risk_plot.chart(risk, outputs)


def _draw_risk(writer, risk, outputs: dict[str, Any]):
    """The risk chart (None without a risk analysis) and every chart's entry, the risk chart's
    included (the build waits for the entries: they come before the chart is saved)."""
    from models.plots import chart_entry
    chart = risk_chart(risk, outputs) if risk is not None else None
    entries = dict(writer.entries)
    if chart is not None:
        entries[chart.key] = chart_entry(chart)
    return chart, entries


def _serve(channel) -> None:
    """In the chart process: import matplotlib, then draw and save the run's charts (none if
    the build gave up first)."""
    import models.plots  # noqa: F401 - matplotlib: the heavy import, first
    message = channel.receive()
    if not message:
        return
    run, outputs, folder, svgs_first = pickle.loads(message)
    writer = _start(run, outputs, folder, svgs_first)
    try:
        message = channel.receive()
        if not message:  # the build failed meanwhile
            writer.finish(abort=True)
            return
        chart, entries = _draw_risk(writer, *pickle.loads(message))
        channel.tell_data(pickle.dumps(entries))
        if chart is not None:
            writer.add_here(chart)
        if svgs_first:
            writer.wait_svgs()
            channel.tell(b"s")
        writer.finish()
    except BaseException:
        writer.finish(abort=True)
        raise
