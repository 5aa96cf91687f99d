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
    "svg.fonttype": "path",
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


def _save_png(chart: Chart, target: Path) -> None:
    """Save the laid-out figure's PNG (beside the Markdown) and close it."""
    with plt.rc_context(STYLE):
        chart.figure.savefig(target / f"{_stem(chart)}.png", format="png", dpi=150)
    plt.close(chart.figure)


def _stem(chart: Chart) -> str:
    return chart.key.replace(".", "_")


def start_writing_charts(charts: list[Chart], folder: Path, svg_first: bool = False
                         ) -> tuple[dict[str, dict[str, Any]], Callable[..., None]]:
    """Save the charts (as :func:`write_charts`) in a forked child process while the caller
    writes the workbook and the memo: matplotlib's rendering is the build's largest single cost
    and needs nothing else the build produces. Returns what templates need at once and a
    ``finish()`` that saves the last third of the charts here (the caller's other work is
    shorter than the charts: this balances the two cores), waits for the child's files and
    re-raises its error; call it before anything reads the charts (the manifest's file list).
    If the caller fails first, ``finish(abort=True)`` kills the child. Without ``os.fork``
    (or with ``EQR_SERIAL_CHARTS=1``, or on one core) all are saved right here.

    ``svg_first`` (a build with the PDF, which reads only the SVGs): the child saves every
    chart, the SVGs first, and ``finish(svg_only=True)`` returns as soon as they are written,
    so that WeasyPrint lays out the note while the child saves the PNGs; ``finish()`` then
    waits for the rest. Same files either way."""
    entries = {chart.key: chart_entry(chart) for chart in charts}
    if (not charts or not hasattr(os, "fork") or os.environ.get("EQR_SERIAL_CHARTS")
            or (os.cpu_count() or 1) < 2):
        write_charts(charts, folder)
        return entries, lambda abort=False, svg_only=False: None
    (folder / "charts").mkdir(exist_ok=True)
    here = 0 if svg_first else len(charts) // 3
    theirs, ours = charts[:len(charts) - here], charts[len(charts) - here:]
    read_end, write_end = os.pipe()
    svg_read, svg_write = os.pipe()  # one byte once the child's SVGs are written
    pid = os.fork()
    if pid == 0:  # the child: save, report any error through the pipe, never return
        code = 1
        try:
            os.close(read_end)
            os.close(svg_read)
            _child_setup()
            if svg_first:
                for chart in theirs:
                    _save_svg(chart, folder / "charts")
                os.write(svg_write, b"s")
                for chart in theirs:
                    _save_png(chart, folder / "charts")
            else:
                write_charts(theirs, folder)
            code = 0
        except BaseException as exc:  # noqa: BLE001 - handed to the parent
            try:
                data = pickle.dumps(exc)
                pickle.loads(data)
            except Exception:  # an exception that does not survive pickling
                data = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
            try:
                os.write(write_end, data)
            except OSError:
                pass
        finally:
            os._exit(code)
    os.close(write_end)
    os.close(svg_write)
    for chart in theirs:  # the child has its own copy
        plt.close(chart.figure)
    state = {"svgs": False, "reaped": False}

    def finish(abort: bool = False, svg_only: bool = False) -> None:
        if state["reaped"]:
            return
        if svg_only and not abort:
            if os.read(svg_read, 1) == b"s":  # else the child failed: wait and raise below
                state["svgs"] = True
                return
        if abort:
            for chart in ours:
                plt.close(chart.figure)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        else:
            try:
                write_charts(ours, folder)
            except BaseException:
                finish(abort=True)
                raise
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        os.close(svg_read)
        _, status = os.waitpid(pid, 0)
        state["reaped"] = True
        if abort or status == 0:
            return
        if data:
            raise pickle.loads(data)
        raise RuntimeError(f"the chart-saving process ended with status {status}")

    return entries, finish


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
