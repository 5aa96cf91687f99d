"""Memo charts. ``models/plots/<model>.py`` may define ``charts(run, outputs) -> list[Chart]``.

Charts read figures only from ``outputs`` (the run's ``outputs.json``) so that every plotted
number traces back to an output name, and each names the workbook sheet it comes from. Of the
run they see its assumptions and each model's periods (``run``: a
:class:`models.painter.ChartRun`, or the whole result, which has both). A build has them drawn
and saved by its chart process (:class:`models.painter.Painter`), which shares the saving (SVG
for HTML/PDF, PNG beside the Markdown) with a process of its own (:class:`ChartWriter`).
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = {
    "font.family": ["DejaVu Sans", "Noto Sans CJK SC"],
    "font.size": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "svg.hashsalt": "eqr",  # deterministic SVG ids
    "svg.fonttype": "none",  # text as text: a smaller SVG, 2x faster in WeasyPrint
}
PALETTE = ["#0b3d6b", "#d9822b", "#5b8c5a", "#8e6c8a", "#b8b8b8", "#c0392b"]


@dataclass
class Chart:
    """One figure for the memo: ``name`` is unique within its model."""

    model: str
    name: str
    title: str
    sheet: str
    figure: Any
    outputs: list[str] = field(default_factory=list)  # the output names plotted

    @property
    def key(self) -> str:
        return f"{self.model}.{self.name}"


def new_figure(width: float = 6.4, height: float = 2.8):
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    return fig, ax


def charts_for(result, outputs: dict[str, float]) -> list[Chart]:
    """Every model's charts, in model order.

    A chart that cannot be drawn from this run's outputs is the user's to fix (issue 9): an
    output it plots is missing (a sheet changed an assumption's shape) or unknown (``null``:
    it rests on an ``unknown: true`` figure). Figures already drawn are closed on any failure.
    """
    found: list[Chart] = []
    model = ""
    before = set(plt.get_fignums())
    try:
        for model in result.specs:
            try:
                module = importlib.import_module(f"models.plots.{model}")
            except ModuleNotFoundError as exc:
                if exc.name != f"models.plots.{model}":
                    raise
                continue
            with plt.rc_context(STYLE):
                found.extend(module.charts(result, outputs))
    except KeyError as exc:  # like a template naming an output the run does not have
        _close_new(before)
        from models.errors import EqrError
        raise EqrError(f"the {model} chart uses an output the run does not have: "
                       f"{exc.args[0] if exc.args else exc}", key=model,
                       hint="did a sheet turn a time series into a single value, or drop "
                            "an assumption the chart plots?") from None
    except TypeError as exc:
        _close_new(before)
        if "NoneType" not in str(exc):
            raise
        from models.errors import EqrError
        unknown = sorted(k for k, it in result.assumptions.items.items()
                         if getattr(it, "unknown", False))
        unknown = [k for k in unknown if k.startswith(f"{model}.")] or unknown
        raise EqrError(f"the {model} chart plots a figure that rests on an unknown "
                       f"assumption and cannot be drawn", key=model,
                       found=f"unknown: {', '.join(unknown[:4])}" if unknown else None,
                       hint="give the figure a value (in the sheet or with --set) to draw "
                            "this chart") from None
    except BaseException:
        _close_new(before)
        raise
    return found


def _close_new(before: set[int]) -> None:
    """Close every figure opened since ``before`` (a failed chart may leave some behind)."""
    for number in set(plt.get_fignums()) - before:
        plt.close(number)


def _save_svg(chart: Chart, target: Path) -> None:
    """Lay the figure out (once) and save its SVG (for the HTML and the PDF)."""
    with plt.rc_context(STYLE):
        _lay_out(chart.figure)
        chart.figure.savefig(target / f"{_stem(chart)}.svg", format="svg",
                             metadata={"Date": None})


def _save_png(chart: Chart, target: Path, lay_out: bool = False) -> None:
    """Save the figure's PNG (beside the Markdown) and close it; ``lay_out``: the figure was
    not laid out here by :func:`_save_svg` (its SVG was saved by another process)."""
    with plt.rc_context(STYLE):
        if lay_out:
            _lay_out(chart.figure)
        chart.figure.savefig(target / f"{_stem(chart)}.png", format="png", dpi=150)
    plt.close(chart.figure)


def _lay_out(figure) -> None:
    """Tight layout, done once: matplotlib then leaves a placeholder layout engine on the
    figure, and with any engine set every ``savefig`` draws the whole figure twice (a layout
    pass, then the real one). Without it, one draw per file: the same files, 40% less time."""
    figure.tight_layout()
    figure.set_layout_engine(None)


def _stem(chart: Chart) -> str:
    return chart.key.replace(".", "_")


class ChartWriter:
    """Save the charts (SVG and PNG, under ``folder/charts``) on two processes: this one and a
    forked child (:mod:`models.forked`) share them through a queue (a pipe holding each
    chart's number: whichever process is free takes the next one), so neither waits for the
    other whatever each chart costs.

    Without the PDF each process saves the SVG and the PNG of the charts it takes; this one
    takes its share in :meth:`finish`. With ``svgs_first`` (a build with the PDF, which reads
    only the SVGs) both save SVGs only, :meth:`wait_svgs` returns once every SVG is on disk,
    and :meth:`finish` then saves every PNG here (while the note is printed). A chart drawn
    after the fork (the risk chart) is saved here with :meth:`add_here`.

    :meth:`finish` waits for the child and re-raises its error; call it before anything reads
    the files (the manifest's file list). If this process fails first, ``finish(abort=True)``
    kills the child. Without a fork (:func:`models.forked.can_fork`) everything is done right
    here, SVGs first. Same files either way."""

    def __init__(self, charts: list[Chart], folder: Path, svgs_first: bool = False):
        from models import forked
        self.entries = {chart.key: chart_entry(chart) for chart in charts}
        self._charts = list(charts)
        self._target = folder / "charts"
        self._svgs_first = svgs_first
        self._child = None
        self._queue: int | None = None  # the queue's read end (None once empty or serial)
        self._done = False
        self._svgs_done = False
        self._added: list[Chart] = []
        self._theirs: set[int] = set()  # numbers of the charts the child saved (and laid out)
        if charts:
            self._target.mkdir(exist_ok=True)
        if charts and forked.can_fork():
            self._queue = queue = _queue(len(charts))

            def work(channel) -> None:
                taken = []
                for number in _take(queue):
                    _save_svg(charts[number], self._target)
                    if not svgs_first:
                        _save_png(charts[number], self._target)
                    taken.append(number)
                channel.tell_data(",".join(map(str, taken)).encode())

            self._child = forked.start(work)
        if self._child is None:  # no second process: everything here, the SVGs first
            self._close_queue()
            for chart in charts:
                _save_svg(chart, self._target)
            self._svgs_done = True

    def add_here(self, chart: Chart) -> dict[str, Any]:
        """Save a chart drawn after the fork here: its SVG now, and its PNG now too unless
        ``svgs_first`` (then in :meth:`finish`, with the others)."""
        self.entries[chart.key] = chart_entry(chart)
        self._target.mkdir(exist_ok=True)
        try:
            _save_svg(chart, self._target)
            if not self._svgs_first:
                _save_png(chart, self._target)
        except BaseException:
            plt.close(chart.figure)
            raise
        if self._svgs_first:
            self._added.append(chart)
        return self.entries[chart.key]

    def wait_svgs(self) -> None:
        """With ``svgs_first``: save SVGs from the queue, then return once the child's are on
        disk too (or raise the child's error)."""
        if self._svgs_done or not self._svgs_first:
            return
        self._svgs_done = True
        self._work_the_queue()
        self._hear_the_child()

    def finish(self, abort: bool = False) -> None:
        if self._done:
            return
        self._done = True
        if abort:
            for chart in self._charts + self._added:
                plt.close(chart.figure)
            self._close_queue()
            if self._child is not None:
                self._child.wait(kill=True)
            return
        try:
            if self._svgs_first:
                self.wait_svgs()
                for number, chart in enumerate(self._charts):  # every PNG here
                    _save_png(chart, self._target, lay_out=number in self._theirs)
            elif self._child is None:
                for chart in self._charts:
                    _save_png(chart, self._target)
            else:
                self._work_the_queue()
                self._hear_the_child()
                for number in sorted(self._theirs):  # the child has its own copy
                    plt.close(self._charts[number].figure)
            for chart in self._added:
                _save_png(chart, self._target)
        except BaseException:
            self._done = False
            self.finish(abort=True)
            raise
        if self._child is not None:
            self._child.wait()

    def _work_the_queue(self) -> None:
        """Save the charts left in the queue here (SVG, and PNG unless ``svgs_first``)."""
        if self._queue is None:
            return
        for number in _take(self._queue):
            chart = self._charts[number]
            _save_svg(chart, self._target)
            if not self._svgs_first:
                _save_png(chart, self._target)
        self._close_queue()

    def _hear_the_child(self) -> None:
        """The numbers of the charts the child saved (raises its error if it failed)."""
        message = self._child.hear_data()
        if not message:  # the caller's finish(abort=True) closes the figures
            self._child.raise_error("the chart-saving process ended without saving the charts")
        self._theirs = {int(n) for n in message.decode().split(",") if n}

    def _close_queue(self) -> None:
        if self._queue is not None:
            os.close(self._queue)
            self._queue = None


def _queue(n: int) -> int:
    """A pipe holding the numbers 0 .. n-1 (4 bytes each), its write end closed: the read end,
    for :func:`_take` in two processes at once (a read of 4 bytes from a pipe is atomic)."""
    read, write = os.pipe()
    try:
        from models.forked import _widen, _write_all
        _widen(write)
        _write_all(write, b"".join(i.to_bytes(4, "little") for i in range(n)))
    finally:
        os.close(write)
    return read


def _take(queue: int):
    """The next chart numbers from the queue, until it is empty."""
    while True:
        data = os.read(queue, 4)
        if len(data) < 4:
            return
        yield int.from_bytes(data, "little")


def chart_entry(chart: Chart) -> dict[str, Any]:
    """What templates get for one chart (the files are ``charts/<model>_<name>.svg|png``)."""
    stem = chart.key.replace(".", "_")
    return {"svg": f"charts/{stem}.svg", "png": f"charts/{stem}.png", "title": chart.title,
            "sheet": chart.sheet, "outputs": chart.outputs}
