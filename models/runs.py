"""Run folders: build one run atomically, write its manifest, keep earlier runs untouched.

A run is written into a hidden temporary folder beside its destination and renamed into place
only when every file is complete; a failed or interrupted build leaves no run folder and does not
move ``reports/latest``.
"""
from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from models import __version__
from models.assumptions import Assumptions
from models.engine import Result, run as run_models
from models import paths
from models.errors import EqrError, os_error
from models.registry import ENGINE_MODULES, MODELS

TMP_PREFIX = ".incomplete-"
SCENARIO_SLUG = re.compile(r"[^A-Za-z0-9_\-+]")


def __getattr__(name: str):
    """``REPORTS_DIR``: the default reports folder, resolved when used (models.paths)."""
    if name == "REPORTS_DIR":
        return paths.reports_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: the fields of each assumption the manifest records (models.reproduce rebuilds from them)
ITEM_FIELDS = ("label", "unit", "value", "source", "note", "bounds", "low", "high", "dist",
               "choices", "file", "line", "set_by", "unknown")


def code_sha256() -> dict[str, str]:
    """sha256 of each file whose code computes the outputs: the models and the engine."""
    folder = Path(__file__).resolve().parent
    out = {}
    for name in (*ENGINE_MODULES, *MODELS):
        path = folder / f"{name}.py"
        if path.exists():
            out[f"models/{name}.py"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def manifest_fields(a: Assumptions) -> dict[str, Any]:
    """The full record of the resolved assumptions (added to manifest.json)."""
    sheets = {m: {"title": s.title, "periods": list(s.periods), "file": s.file,
                  "sha256": s.sha256, "assumptions": list(s.assumptions)}
              for m, s in a.sheets.items()}
    items = {}
    for key, it in a.items.items():
        rec = {f: getattr(it, f) for f in ITEM_FIELDS}
        rec["bounds"] = list(it.bounds)
        rec["choices"] = list(it.choices)
        items[key] = rec
    return {"assumption_sheets": sheets, "assumption_items": items,
            "code_sha256": code_sha256()}


def run_id(a: Assumptions, today: dt.date | None = None) -> str:
    """``<date>_<scenarios or base>[+set]_<hash of resolved assumptions>``."""
    day = (today or dt.date.today()).isoformat()
    label = "+".join(a.scenarios) or "base"
    if a.overrides:
        label += "+set"
    label = SCENARIO_SLUG.sub("-", label)[:80]
    return f"{day}_{label}_{a.digest()[:8]}"


def _unique(path: Path) -> Path:
    if not path.exists():
        return path
    for i in range(2, 10_000):
        candidate = path.with_name(f"{path.name}-{i}")
        if not candidate.exists():
            return candidate
    raise EqrError("too many runs with the same name", found=str(path))


def check_path(path: Path | None, option: str) -> None:
    """A path from the command line the OS can use (a NUL byte makes every call fail)."""
    if path is not None and "\x00" in str(path):
        raise EqrError("a path cannot contain a NUL byte", key=option, found=str(path))


def check_out_dir(out: Path) -> None:
    """``--out`` must be a new or empty folder (earlier runs are never overwritten)."""
    check_path(out, "--out")
    check_no_detour(out, "--out")
    try:
        if out.is_symlink():
            raise EqrError("output folder is a symbolic link", key="--out",
                           expected="a new or empty folder (give the link's target)",
                           found=str(out))
        if out.exists() and not out.is_dir():
            raise EqrError("output folder is a file", key="--out",
                           expected="a new or empty folder", found=str(out))
        if out.exists() and any(out.iterdir()):
            raise EqrError("output folder is not empty", key="--out",
                           expected="a new or empty folder", found=str(out),
                           hint="earlier runs are never overwritten; choose another folder")
    except OSError as exc:
        raise _os_error(exc, "cannot use the output folder", out) from None


def check_no_detour(path: Path, option: str) -> None:
    """Refuse ``..`` after a named folder (``a/../b``): creating the path would create ``a``
    only to leave it, and the same name reads differently once ``a`` is a link. A leading
    ``../`` is fine (issue 17)."""
    parts = Path(path).parts
    for i, part in enumerate(parts):
        if part == ".." and i > 0 and parts[i - 1] not in ("..", path.anchor):
            raise EqrError("the path goes into a folder and back out again ('x/..')",
                           key=option, expected="a path without 'name/..'",
                           found=str(path),
                           hint=f"write it as {os.path.normpath(path)}; nothing was written")


def _os_error(exc: OSError, what: str, path: Path | None = None) -> EqrError:
    return os_error(exc, what, path)


def manifest(a: Assumptions, rid: str, created: str, extra: dict[str, Any]) -> dict[str, Any]:
    files = [{"path": s.file, "sha256": s.sha256, "model": s.model} for s in a.sheets.values()]
    return {
        "run_id": rid,
        "package": "eqr",
        "version": __version__,
        "created": created,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "assumption_files": files,
        "scenarios": list(a.scenarios),
        "overrides": list(a.overrides),
        "forced": a.forced,
        "assumptions_sha256": a.digest(),
        "resolved_assumptions": a.flat_values(),
        **manifest_fields(a),
        **extra,
    }


def prepare_run(a: Assumptions) -> Result:
    """Evaluate the models and refuse results that cannot be written truthfully.

    Everything a build checks before it writes a byte; ``eqr check`` runs this too.
    """
    result = run_models(a)
    check_finite(result)
    from models.effects import changed_keys, inactive_inputs
    changed = changed_keys(a)
    result.inactive = [i for i in inactive_inputs(result, changed) if i.switches] \
        if changed else []
    return result


def check_finite(result: Result) -> None:
    """Refuse a NaN or infinity that does not come from an unknown figure.

    A row that rests on an ``unknown: true`` assumption is NaN by design (``null`` in
    outputs.json, ``#N/A`` on the workbook). Anything else non-finite — an infinity, or a NaN in
    a row no unknown figure feeds — is an overflow or a division by zero from an extreme input,
    and would otherwise turn silently into ``null``.
    """
    import numpy as np

    unknown = {k for k, it in result.assumptions.items.items() if getattr(it, "unknown", False)}
    depends: dict[int, bool] = {}
    gaps: dict[str, bool] = {}
    bad: list[str] = []
    for spec in result.specs.values():
        for row in spec.rows:
            values = np.asarray(result.env.get(row.key)[0])
            if values.dtype.kind not in "fc":
                continue
            if np.isinf(values).any() or (
                    np.isnan(values).any() and not _rests_on(row, unknown, depends)
                    and not _declares_gaps(row, gaps)):
                bad.append(row.key)
    grids = getattr(result, "grid_values", None) or {}
    for key, values in grids.items():
        arr = np.asarray(values, dtype=float)
        if np.isinf(arr).any() or (np.isnan(arr).any() and not unknown):
            bad.append(key)
    if bad:
        raise EqrError("the models produced a value that is not a finite number", key=bad[0],
                       expected="finite numbers (or null where an unknown figure is used)",
                       found=f"{len(bad)} row(s) infinite or NaN: {', '.join(bad[:3])}"
                             + (", ..." if len(bad) > 3 else ""),
                       hint="an input far outside its usual range (--force?) made a row "
                            "overflow or divide by zero; check the inputs of that row")


def _declares_gaps(row, memo: dict[str, bool]) -> bool:
    """Does a row (or a row it reads) hold a gap by design: ``NA()`` (a figure that does not
    exist, e.g. other income of a reported quarter) or a period mapped to no source period
    (a reported row after the last reported quarter)?"""
    from models.lineitems import Across, Func, row_deps, walk
    if row.key not in memo:
        memo[row.key] = False  # rows only refer back; stay safe
        memo[row.key] = any(isinstance(node, Across) or (isinstance(node, Func)
                                                          and node.name == "NA")
                            for node in walk(row.expr)) or any(
            _declares_gaps(dep, memo) for dep in row_deps(row.expr) if dep is not row)
    return memo[row.key]


def _rests_on(node: Any, keys: set[str], memo: dict[int, bool]) -> bool:
    """Does a row or expression use (directly or through other rows) an input in ``keys``?

    Walks whatever a node holds (expressions, rows, lists of them), so expression types added
    later are covered without listing them here.
    """
    from models.lineitems import Expr, InputValue, Row
    if not keys:
        return False
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = False  # cycles cannot happen (rows only refer back), but stay safe
    if isinstance(node, InputValue):
        found = node.key in keys
    elif isinstance(node, Row):
        found = _rests_on(node.expr, keys, memo)
    elif isinstance(node, Expr):
        parts = list(vars(node).values()) if hasattr(node, "__dict__") else []
        found = any(_rests_on(p, keys, memo) for p in parts
                    if isinstance(p, (Expr, Row, list, tuple)))
    elif isinstance(node, (list, tuple)):
        found = any(_rests_on(p, keys, memo) for p in node if isinstance(p, (Expr, Row)))
    else:
        found = False
    memo[id(node)] = found
    return found


def dry_run(a: Assumptions, templates_dir: Path | None = None, paper: str = "a4",
            scenarios: dict[str, Assumptions] | None = None) -> Result:
    """Everything a build does except writing files (and the PDF): evaluate, refuse non-finite
    results, compare the scenarios, lay out the workbook's cells, draw the charts and render
    the memo in memory — :func:`_write_files` with no folder. ``eqr check`` runs this."""
    result = prepare_run(a)
    _write_files(None, result, run_id(a), dt.datetime.now(dt.timezone.utc).replace(
        microsecond=0).isoformat(), templates_dir, None, {}, scenarios, paper)
    return result


def compared_values(a: Assumptions, scenarios: dict[str, Assumptions]) -> dict[str, dict]:
    """Per compared scenario, the assumption values that differ from the run's own (recorded
    in the manifest so that ``eqr rerun`` rebuilds the Scenarios sheet even after the sheets or
    overlays changed)."""
    own = a.flat_values()
    return {name: {k: v for k, v in s.flat_values().items() if own.get(k, _MISSING) != v}
            for name, s in scenarios.items()}


_MISSING = object()


def write_run(a: Assumptions, *, out: Path | None = None, reports_dir: Path | None = None,
              templates_dir: Path | None = None, pdf: bool = False, paper: str = "a4",
              extra_manifest: dict[str, Any] | None = None,
              after_write: Callable[[Path], None] | None = None,
              scenarios: dict[str, Assumptions] | None = None,
              warnings: list[str] | None = None, printer=None, painter=None) -> Path:
    """Evaluate the models and write a complete run folder; return its path.

    ``scenarios`` (name → resolved assumptions) are compared side by side on a Scenarios sheet
    and as outputs ``scenarios.<name>.<output>`` (see :mod:`models.compare`). ``warnings``, if
    given, receives a line per changed input the current choices disconnect (for the caller to
    print once the run is written; the manifest records them as ``inactive_inputs``).

    Atomic: files go to a hidden ``.incomplete-<host>-<pid>-<start>-...`` folder beside the
    destination, renamed into place only when complete. Any failure (bad input, disk full,
    Ctrl-C, SIGTERM) removes it; a SIGKILL leaves it, and the next build removes it once its
    owning process is gone. ``reports/latest`` moves only after the rename.

    The charts are drawn and saved by a :class:`models.painter.Painter`, and with ``pdf`` the
    note is printed by a :class:`models.printer.Printer` (``painter``, ``printer``: ones the
    caller started earlier, so that matplotlib and WeasyPrint are imported while the sheets are
    read); either is stopped if the build fails.
    """
    from models.painter import Painter
    try:
        if pdf and printer is None:
            from models.printer import Printer
            printer = Printer()
        if painter is None:
            painter = Painter()
        return _write_run(a, out, reports_dir, templates_dir, printer if pdf else None, paper,
                          extra_manifest, after_write, scenarios, warnings, painter)
    except BaseException:
        stop_helpers(printer, painter)
        raise


def stop_helpers(*helpers) -> None:
    """Stop a build's helper processes (:class:`models.painter.Painter`,
    :class:`models.printer.Printer`; None for one not started): after a failure, so that
    nothing writes into the run folder any more. A helper that finished is left alone."""
    for helper in helpers:
        if helper is not None:
            helper.finish(abort=True)


def _write_run(a: Assumptions, out: Path | None, reports_dir: Path | None,
               templates_dir: Path | None, printer, paper: str,
               extra_manifest: dict[str, Any] | None,
               after_write: Callable[[Path], None] | None,
               scenarios: dict[str, Assumptions] | None, warnings: list[str] | None,
               painter) -> Path:
    result = prepare_run(a)
    if scenarios:
        extra_manifest = {**(extra_manifest or {}),
                          "compared_values": compared_values(a, scenarios)}
    if result.inactive:  # changed inputs the current choices disconnect (models.effects)
        extra_manifest = {**(extra_manifest or {}), "inactive_inputs": [
            {"key": i.key, "switches": [s[0] for s in i.switches], "message": i.message()}
            for i in result.inactive]}
    from models.expects import inert_warnings
    inert = inert_warnings(a, scenarios)  # overlays that say they move nothing on this path
    if inert:
        extra_manifest = {**(extra_manifest or {}), "inert_scenarios": inert}
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    rid = run_id(a)
    reports = Path(reports_dir or paths.reports_dir())
    check_path(reports, "--reports")
    check_path(templates_dir, "--templates")
    if out is not None:
        out = Path(out)
        check_out_dir(out)
        final = out
    else:
        check_no_detour(reports, "--reports")
        final = reports / rid
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        clean_incomplete(final.parent)
        tmp = _make_tmp(final)
    except OSError as exc:
        raise _os_error(exc, "cannot create the run folder", final.parent) from None
    placed: list[Path] = []  # where the rename put (or was putting) the folder
    try:
        _write_files(tmp, result, rid, created, templates_dir, printer, extra_manifest or {},
                     scenarios, paper, painter)
        if after_write:
            after_write(tmp)
        _test_pause(tmp)
        final = _move_into_place(tmp, final, replace_empty=out is not None, placed=placed)
    except BaseException as exc:
        if placed and not tmp.exists() and placed[-1].is_dir():
            # interrupted after the rename: the run is complete and stays (issue 17)
            exc.eqr_written = placed[-1]
            raise
        shutil.rmtree(tmp, ignore_errors=True)
        os_exc = _underlying_os_error(exc)
        if os_exc is not None:  # name the destination, not the hidden folder just removed
            if isinstance(os_exc.filename, str) and os_exc.filename.startswith(str(tmp)):
                os_exc.filename = str(final) + os_exc.filename[len(str(tmp)):]
            raise _os_error(os_exc, "cannot write the run", final) from None
        if isinstance(exc, EqrError):  # e.g. a PDF error naming tmp/memo.html
            raise _renamed(exc, tmp, final) from None
        raise
    try:
        if out is None:
            point_latest(reports, final)
        if warnings is not None:
            warnings.extend(i.message() for i in result.inactive)
            warnings.extend(inert)
    except BaseException as exc:  # Ctrl-C or SIGTERM now: the run exists, say so
        exc.eqr_written = final
        raise
    return final


def _renamed(err: EqrError, tmp: Path, final: Path) -> EqrError:
    """``err`` with the removed temporary folder's path replaced by the run's own path (the
    path the user will see), in its file and its text."""
    def fix(text):
        return text.replace(str(tmp), str(final)) if isinstance(text, str) else text

    return EqrError(fix(err.message), file=fix(err.file), line=err.line, key=err.key,
                    expected=fix(err.expected), found=fix(err.found), hint=fix(err.hint))


def _underlying_os_error(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc``: itself, or the one XlsxWriter wraps in FileCreateError."""
    if isinstance(exc, OSError):
        return exc
    from xlsxwriter.exceptions import FileCreateError
    if isinstance(exc, FileCreateError) and exc.args and isinstance(exc.args[0], OSError):
        return exc.args[0]
    return None


def _make_tmp(final: Path) -> Path:
    """A fresh hidden folder beside ``final`` whose name says which process owns it."""
    owner = f"{_HOST}-{os.getpid()}-{_start_token(os.getpid())}"
    label = SCENARIO_SLUG.sub("-", final.name)[:40]
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{owner}-{label}-", dir=final.parent))
    os.chmod(tmp, 0o755)
    return tmp


def _move_into_place(tmp: Path, final: Path, replace_empty: bool,
                     placed: list[Path] | None = None) -> Path:
    """Rename the complete folder to ``final`` (or ``final-2``, ... if another build took it).
    ``placed`` receives the destination before each rename, so that an interrupt that comes
    right after a rename can tell where the run went."""
    placed = [] if placed is None else placed
    if replace_empty:  # --out: a new or empty folder, checked before writing
        if final.is_dir() and not final.is_symlink():
            final.rmdir()  # fails (ENOTEMPTY) if something appeared there meanwhile
        placed.append(final)
        os.rename(tmp, final)
        return final
    candidate = _unique(final)
    for _ in range(100):
        try:
            placed.append(candidate)
            os.rename(tmp, candidate)  # never replaces a non-empty folder (a finished run)
            return candidate
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            candidate = _unique(final)  # a concurrent build took the name first
    raise EqrError("too many concurrent runs with the same name", found=str(final))


def _test_pause(tmp: Path) -> None:
    """Test hook: with EQR_TEST_PAUSE_BEFORE_RENAME=<seconds>, announce the complete temporary
    folder on stderr and wait before renaming it, so a test can kill the build mid-write; the
    wait ends early once the file named by EQR_TEST_RESUME_FILE exists."""
    seconds = os.environ.get("EQR_TEST_PAUSE_BEFORE_RENAME")
    if seconds:
        print(f"eqr-test: paused before rename: {tmp}", file=sys.stderr, flush=True)
        resume = os.environ.get("EQR_TEST_RESUME_FILE")
        deadline = time.monotonic() + float(seconds)
        while time.monotonic() < deadline and not (resume and os.path.exists(resume)):
            time.sleep(0.05)


def _write_files(folder: Path | None, result: Result, rid: str, created: str,
                 templates_dir: Path | None, printer, extra: dict[str, Any],
                 scenarios: dict[str, Assumptions] | None = None, paper: str = "a4",
                 painter=None) -> None:
    """Write every file of a run into ``folder``; with ``folder=None`` (``eqr check``) do all
    the same work in memory and write nothing (the workbook's cells are laid out, not written;
    charts are drawn, not saved; no PDF). Keep both paths in this one function.

    The charts need only the run's own outputs: the chart process (``painter``, a
    :class:`models.painter.Painter`) draws and saves them while this one compares the
    scenarios, analyses the risk and writes the workbook and the memo; with the PDF
    (``printer``) the note is printed by another process once the memo's HTML and every SVG
    are written."""
    try:
        _write_all(folder, result, rid, created, templates_dir, printer, extra, scenarios,
                   paper, painter)
    except BaseException:  # stop the helpers before the caller removes the folder
        stop_helpers(painter, printer)
        raise


def _write_all(folder, result, rid, created, templates_dir, printer, extra, scenarios, paper,
               painter) -> None:
    """:func:`_write_files`, whose caller stops the helpers on failure."""
    from models import memo, workbook  # heavy imports only when writing
    dry = folder is None

    a = result.assumptions
    outputs = result.outputs
    if dry:
        from models import plots
        from models.painter import ChartRun
        figures = plots.charts_for(ChartRun(result), outputs)  # what a build's charts get
        entries = {chart.key: plots.chart_entry(chart) for chart in figures}
        for chart in figures:
            plots.plt.close(chart.figure)
    else:
        painter.draw(result, outputs, folder, svgs_first=printer is not None)
    comparison = None
    extra_sheets = []
    if scenarios:
        from models.compare import compare
        from models.compare_sheet import sheet_writer
        comparison = compare(result, scenarios)
        outputs.update(comparison.outputs())
        extra_sheets.append(sheet_writer(comparison))
        extra = {"compared_scenarios": comparison.names, **extra}
    info = _run_info(result, rid, created, templates_dir, paper, comparison)
    from models import risk as risk_model
    risk = risk_model.analyse(result)
    if risk is not None:
        outputs.update(risk_model.risk_outputs(risk))
        extra_sheets.append(risk_model.sheet_writer(risk))
    if dry:
        if risk is not None:
            from models.painter import risk_chart
            chart = risk_chart(risk, outputs)
            entries[chart.key] = plots.chart_entry(chart)
            plots.plt.close(chart.figure)
        cells = workbook.cell_map(result, extra_sheets)
        _json(outputs), _json(cells)
        figures = _write_text(result, outputs, cells, info, templates_dir, entries, None)
        _json(memo.figure_index(figures, cells))
        return
    painter.draw_risk(risk, outputs)
    # the workbook while the chart process draws the charts the memo shows, then the note
    cells = workbook.write_workbook(result, folder / "model.xlsx", info, extra_sheets)
    figures = _write_text(result, outputs, cells, info, templates_dir, painter.entries(), folder)
    if printer is not None:  # the note is laid out now, while the PNGs are saved
        painter.wait_svgs()
        printer.print(folder / "memo.html", folder / "memo.pdf")
    _dump(folder / "outputs.json", outputs)
    _dump(folder / "cells.json", cells)
    _dump(folder / memo.FIGURES_FILE, memo.figure_index(figures, cells))
    painter.finish()
    if printer is not None:
        printer.finish()
    _dump(folder / "manifest.json", manifest(a, rid, created, {
        "files": sorted(p.name for p in folder.iterdir()) + ["manifest.json"],
        "paper": paper, **extra}))


def _write_text(result: Result, outputs: dict, cells, info: dict,
                templates_dir: Path | None, charts: dict, folder: Path | None) -> list:
    """Render the memo into ``folder`` (with None, in memory only); return the figures it
    shows (for :func:`models.memo.figure_index`, written once the cells are known)."""
    from models import memo
    figures: list = []
    texts = memo.render_all(result, outputs, cells, info, templates_dir, charts, figures)
    if folder is not None:
        for name, text in texts.items():
            (folder / name).write_text(text, encoding="utf-8")
    return figures


def _json(data: Any) -> str:
    """What :func:`_dump` would write (so a dry run meets the same JSON errors)."""
    return json.dumps(data, indent=2, sort_keys=False, allow_nan=False)


def _run_info(result: Result, rid: str, created: str, templates_dir: Path | None,
              paper: str = "a4", comparison=None) -> dict[str, Any]:
    """What the memo templates know about the run (``run``)."""
    from models import memo
    a = result.assumptions
    return {"run_id": rid, "created": created, "scenarios": ", ".join(a.scenarios),
            "overrides": ", ".join(a.overrides), "version": __version__,
            "paper": paper, "sections": memo.sections(result.specs, templates_dir),
            "compare": comparison.names if comparison else [],
            "compare_labels": _compare_labels(comparison),
            "compare_live": [c.name for c in comparison.columns if c.live or c.own_sheets]
            if comparison else [],
            "compare_weighted": list(comparison.probabilities) if comparison else [],
            "compare_headlines": [
                {"key": k, "label": label,
                 "unit": result.specs[k.split(".")[0]].row(k.split(".")[1]).unit}
                for k, label in comparison.headlines] if comparison else []}


def _compare_labels(comparison) -> dict[str, str]:
    """Each compared scenario's column label, for the note's tables."""
    if not comparison:
        return {}
    return {c.name: c.label for c in comparison.columns}


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n",
                    encoding="utf-8")


def point_latest(reports: Path, final: Path) -> None:
    """Make ``reports/latest`` point at ``final`` (replaced atomically).

    Called only after ``final`` is complete. Where symlinks are not possible, ``LATEST`` holds
    the folder's name; if even that fails the run stands and a warning says so.
    """
    link = reports / "latest"
    if link.is_dir() and not link.is_symlink():  # a copy, or a folder someone made there
        (reports / "LATEST").write_text(final.name + "\n", encoding="utf-8")
        print(f"eqr: warning: {link} is a real folder, not the link eqr keeps there, so it "
              f"does not show this run (left as it is; {reports / 'LATEST'} names the run); "
              f"move or rename the folder and the next build makes the link again",
              file=sys.stderr)
        return
    tmp = reports / f"{LATEST_TMP_PREFIX}{_HOST}-{os.getpid()}-{_start_token(os.getpid())}"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(final.name if final.parent.resolve() == reports.resolve() else final,
                       target_is_directory=True)
        os.replace(tmp, link)
    except OSError:
        try:
            if tmp.is_symlink():
                tmp.unlink()
            (reports / "LATEST").write_text(final.name + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"eqr: warning: the run is complete but {link} was not updated "
                  f"({exc.strerror})", file=sys.stderr)


# --------------------------------------------------------------------------- stale folders
# A build killed with SIGKILL (or a power cut) leaves its hidden temporary folder. The folder's
# name carries the owner's host, pid and process start time; the next build in the same folder
# removes it once that process is gone. Never a live (concurrent) build's folder; never a run.
_HOST = hashlib.sha256(platform.node().encode()).hexdigest()[:8]
LATEST_TMP_PREFIX = ".latest-"
_OWNED = re.compile(r"^(?:\.incomplete-|\.latest-)"
                    r"(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-(?P<start>\d+)")
LEGACY_STALE_AFTER_S = 24 * 3600  # folders from builds before owners were recorded


def _start_token(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux /proc), "0" if unknown.

    With the pid it identifies a process even after the pid is reused.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError, ValueError):
        return "0"


def _owner_alive(pid: int, start: str) -> bool:
    if pid == os.getpid():  # this process, unless an earlier one had the same pid
        return start == "0" or _start_token(pid) in ("0", start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's live process
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state in ("Z", "X"):  # killed, not yet reaped: it writes nothing more
            return False
    except (OSError, IndexError):
        pass
    return start == "0" or _start_token(pid) in ("0", start)


def is_stale(path: Path, now: float | None = None) -> bool:
    """Is ``path`` a temporary folder (or latest link) left by a build that no longer runs?"""
    name = path.name
    if not (name.startswith(TMP_PREFIX) or name.startswith(LATEST_TMP_PREFIX)):
        return False
    m = _OWNED.match(name)
    if m:
        return m["host"] == _HOST and not _owner_alive(int(m["pid"]), m["start"])
    try:  # an older name without an owner: only when nobody has touched it for a day
        age = (now or time.time()) - path.lstat().st_mtime
    except OSError:
        return False
    return name.startswith(TMP_PREFIX) and age > LEGACY_STALE_AFTER_S


def clean_incomplete(folder: Path) -> list[Path]:
    """Remove temporary folders left in ``folder`` by builds that were killed mid-write."""
    removed = []
    try:
        entries = list(folder.iterdir()) if folder.is_dir() else []
    except OSError:
        return removed
    for p in entries:
        if is_stale(p):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                try:
                    p.unlink()
                except OSError:
                    continue
            removed.append(p)
    return removed


def list_runs(reports: Path | None = None) -> list[Path]:
    """Complete run folders in ``reports`` (oldest first by name): never a hidden temporary
    folder, never the ``latest`` link."""
    reports = Path(reports or paths.reports_dir())
    try:
        return sorted(p for p in reports.iterdir()
                      if not p.name.startswith(".") and not p.is_symlink() and p.is_dir()
                      and (p / "manifest.json").is_file())
    except OSError:
        return []
