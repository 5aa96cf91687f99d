"""Memo charts. ``models/plots/<model>.py`` may define ``charts(result, outputs) -> list[Chart]``.

Charts read figures only from ``outputs`` (the run's ``outputs.json``) so that every plotted
number traces back to an output name, and each names the workbook sheet it comes from.
Rendering (SVG for HTML/PDF, PNG beside the Markdown) is done by :func:`write_charts`, in a
child process beside the rest of the build (:func:`start_writing_charts`).
"""
from __future__ import annotations

import importlib
import os
import pickle
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

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


def write_charts(charts: list[Chart], folder: Path) -> dict[str, dict[str, Any]]:
    """Save each chart as SVG and PNG under ``folder/charts``; return what templates need."""
    out: dict[str, dict[str, Any]] = {}
    if not charts:
        return out
    target = folder / "charts"
    target.mkdir(exist_ok=True)
    for chart in charts:
        _save_svg(chart, target)
        _save_png(chart, target)
        out[chart.key] = chart_entry(chart)
    return out


def _save_svg(chart: Chart, target: Path) -> None:
    """Lay the figure out (once) and save its SVG (for the HTML and the PDF)."""
    with plt.rc_context(STYLE):
        chart.figure.tight_layout()
        chart.figure.savefig(target / f"{_stem(chart)}.svg", format="svg",
                             metadata={"Date": None})


def _save_png(chart: Chart, target: Path, lay_out: bool = False) -> None:
    """Save the figure's PNG (beside the Markdown) and close it; ``lay_out``: the figure was
    not laid out here by :func:`_save_svg` (its SVG was saved by another process)."""
    with plt.rc_context(STYLE):
        if lay_out:
            chart.figure.tight_layout()
        chart.figure.savefig(target / f"{_stem(chart)}.png", format="png", dpi=150)
    plt.close(chart.figure)


def _stem(chart: Chart) -> str:
    return chart.key.replace(".", "_")


def _can_fork() -> bool:
    return (hasattr(os, "fork") and not os.environ.get("EQR_SERIAL_CHARTS")
            and (os.cpu_count() or 1) >= 2)


class ChartWriter:
    """Save the charts (SVG and PNG, as :func:`write_charts`) in a forked child process while
    the caller goes on with the rest of the build: matplotlib's rendering is the build's
    largest single cost and needs nothing else the build produces.

    Without the PDF, the child saves all but the last ``here`` charts; :meth:`finish` saves
    those here. With the PDF (``pdf=(prepare, job)``, the note printed with WeasyPrint, which
    reads only the SVGs), the child saves the SVGs of all but the last ``here`` charts, calls
    ``prepare()`` (imports WeasyPrint) and waits; the caller writes the memo's HTML and calls
    :meth:`go`, which saves the last ``here`` SVGs and lets the child run ``job()`` (lay the
    note out) while :meth:`finish` saves every PNG here. ``here`` balances the two processes
    (``benchmarks/build_timeline.py`` shows both). A chart the caller draws later (the
    risk chart, which needs the scenario comparison) is saved here with :meth:`add_here`.

    :meth:`finish` waits for the child and re-raises its error; call it before anything reads
    the files (the manifest's file list). If the caller fails first, ``finish(abort=True)``
    kills the child. Without ``os.fork`` (or with ``EQR_SERIAL_CHARTS=1``, or on one core)
    everything is done right here, in the same order. Same files either way."""

    def __init__(self, charts: list[Chart], folder: Path,
                 pdf: tuple[Callable[[], None], Callable[[], None]] | None = None,
                 here: int = 0):
        self.entries = {chart.key: chart_entry(chart) for chart in charts}
        self._target = folder / "charts"
        self._pdf = pdf
        self._pid: int | None = None
        self._done = False
        self._added: list[Chart] = []
        self._svgs_here: list[Chart] = []
        if charts or pdf:
            self._target.mkdir(exist_ok=True)
        if not _can_fork() or not (charts or pdf):
            self._theirs: list[Chart] = []
            self._ours = list(charts)
            for chart in charts:  # the SVGs first, as the child would
                _save_svg(chart, self._target)
            return
        here = max(0, min(here, len(charts)))
        self._theirs, self._ours = charts[:len(charts) - here], charts[len(charts) - here:]
        self._svgs_here = list(self._ours) if pdf else []
        self._read, write = os.pipe()  # the child's error, pickled
        go_read, self._go = os.pipe()  # one byte: the memo's HTML is written
        pid = os.fork()
        if pid == 0:
            os.close(self._read)
            os.close(self._go)
            self._child(write, go_read)  # never returns
        os.close(write)
        os.close(go_read)
        self._pid = pid
        if pdf:  # the PNGs are saved here (laid out here, where the child saved the SVG)
            self._ours = list(charts)
        else:
            for chart in self._theirs:  # the child has its own copy
                plt.close(chart.figure)

    def _child(self, error_pipe: int, go_read: int) -> None:
        code = 1
        try:
            _child_setup()
            if self._pdf:
                prepare, job = self._pdf
                for chart in self._theirs:
                    _save_svg(chart, self._target)
                prepare()
                if os.read(go_read, 1) == b"g":  # else the caller gave up
                    job()
            else:
                write_charts(self._theirs, self._target.parent)
            code = 0
        except BaseException as exc:  # noqa: BLE001 - handed to the parent
            try:
                data = pickle.dumps(exc)
                pickle.loads(data)
            except Exception:  # an exception that does not survive pickling
                data = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
            try:
                os.write(error_pipe, data)
            except OSError:
                pass
        finally:
            os._exit(code)

    def add_here(self, chart: Chart) -> dict[str, Any]:
        """Save a chart drawn after the fork: its SVG now, its PNG in :meth:`finish`."""
        self.entries[chart.key] = chart_entry(chart)
        self._target.mkdir(exist_ok=True)
        try:
            _save_svg(chart, self._target)
        except BaseException:
            plt.close(chart.figure)
            raise
        self._added.append(chart)
        return self.entries[chart.key]

    def go(self) -> None:
        """The memo's HTML is written: the PDF may be laid out (by the child, or here)."""
        if not self._pdf:
            return
        if self._pid is None:
            prepare, job = self._pdf
            prepare()
            job()
            return
        for chart in self._svgs_here:
            _save_svg(chart, self._target)
        try:
            os.write(self._go, b"g")
        except OSError:  # the child has failed already: finish() reports why
            pass

    def finish(self, abort: bool = False) -> None:
        if self._done:
            return
        self._done = True
        added = self._added
        if abort:
            for chart in self._ours + added:
                plt.close(chart.figure)
            if self._pid is not None:
                try:
                    os.kill(self._pid, signal.SIGKILL)
                except OSError:
                    pass
        else:
            try:
                self._save_ours(added)
            except BaseException:
                self._done = False
                self.finish(abort=True)
                raise
        if self._pid is None:
            return
        try:
            os.close(self._go)  # a child still waiting for the go reads end-of-file
        except OSError:
            pass
        with os.fdopen(self._read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        if abort or status == 0:
            return
        if data:
            raise pickle.loads(data)
        raise RuntimeError(f"the chart-saving process ended with status {status}")

    def _save_ours(self, added: list[Chart]) -> None:
        for chart in self._ours:
            if self._pid is not None and not self._pdf:  # our share: not saved yet
                _save_svg(chart, self._target)
                _save_png(chart, self._target)
            else:  # laid out again unless its SVG was saved here
                _save_png(chart, self._target, lay_out=self._pid is not None
                          and not any(chart is c for c in self._svgs_here))
        for chart in added:
            _save_png(chart, self._target)


def _child_setup() -> None:
    """In the forked chart writer: default signal handling (the parent's handlers turn
    SIGTERM into cleanup of the run folder, the parent's job) and, on Linux, die with the
    parent so a killed build leaves no process writing."""
    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, signal.SIG_DFL)
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before prctl
        os._exit(1)


def chart_entry(chart: Chart) -> dict[str, Any]:
    """What templates get for one chart (the files are ``charts/<model>_<name>.svg|png``)."""
    stem = chart.key.replace(".", "_")
    return {"svg": f"charts/{stem}.svg", "png": f"charts/{stem}.png", "title": chart.title,
            "sheet": chart.sheet, "outputs": chart.outputs}
