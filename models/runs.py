"""Run folders: build one run atomically, write its manifest, keep earlier runs untouched.

A run is written into a hidden temporary folder beside its destination and renamed into place
only when every file is complete; a failed or interrupted build leaves no run folder and does not
move ``reports/latest``.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from models import __version__
from models.assumptions import Assumptions
from models.engine import Result, run as run_models
from models.errors import EqrError
from models.paths import default_dir
from models.reproduce import manifest_fields

REPORTS_DIR = default_dir("reports")
TMP_PREFIX = ".incomplete-"
SCENARIO_SLUG = re.compile(r"[^A-Za-z0-9_\-+]")


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


def check_out_dir(out: Path) -> None:
    """``--out`` must be a new or empty folder (earlier runs are never overwritten)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EqrError("output folder is not empty", key="--out",
                       expected="a new or empty folder", found=str(out),
                       hint="earlier runs are never overwritten; choose another folder")


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


def write_run(a: Assumptions, *, out: Path | None = None, reports_dir: Path | None = None,
              templates_dir: Path | None = None, pdf: bool = False, paper: str = "a4",
              extra_manifest: dict[str, Any] | None = None,
              after_write: Callable[[Path], None] | None = None,
              scenarios: dict[str, Assumptions] | None = None) -> Path:
    """Evaluate the models and write a complete run folder; return its path.

    ``scenarios`` (name → resolved assumptions) are compared side by side on a Scenarios sheet
    and as outputs ``scenarios.<name>.<output>`` (see :mod:`models.compare`)."""
    result = run_models(a)
    comparison = None
    if scenarios:
        from models.compare import compare
        comparison = compare(result, scenarios)
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    rid = run_id(a)
    reports = Path(reports_dir or REPORTS_DIR)
    if out is not None:
        out = Path(out)
        check_out_dir(out)
        final = out
    else:
        final = _unique(reports / rid)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + final.name + "-", dir=final.parent))
    os.chmod(tmp, 0o755)
    try:
        _write_files(tmp, result, rid, created, templates_dir, pdf, extra_manifest or {},
                     comparison, paper)
        if after_write:
            after_write(tmp)
        if final.exists():  # an empty --out folder
            final.rmdir()
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out is None:
        point_latest(reports, final)
    return final


def _write_files(folder: Path, result: Result, rid: str, created: str,
                 templates_dir: Path | None, pdf: bool, extra: dict[str, Any],
                 comparison=None, paper: str = "a4") -> None:
    from models import memo, plots, workbook  # heavy imports only when writing

    a = result.assumptions
    outputs = result.outputs
    info = {"run_id": rid, "created": created, "scenarios": ", ".join(a.scenarios),
            "overrides": ", ".join(a.overrides), "version": __version__,
            "paper": paper, "sections": memo.sections(result.specs, templates_dir),
            "compare": comparison.names if comparison else [],
            "compare_live": [c.name for c in comparison.columns if c.live] if comparison else [],
            "compare_weighted": list(comparison.probabilities) if comparison else [],
            "compare_headlines": [
                {"key": k, "label": label,
                 "unit": result.specs[k.split(".")[0]].row(k.split(".")[1]).unit}
                for k, label in comparison.headlines] if comparison else []}
    extra_sheets = []
    if comparison:
        from models.compare_sheet import sheet_writer
        outputs.update(comparison.outputs())
        extra_sheets.append(sheet_writer(comparison))
        extra = {"compared_scenarios": comparison.names, **extra}
    cells = workbook.write_workbook(result, folder / "model.xlsx", info, extra_sheets)
    _dump(folder / "outputs.json", outputs)
    _dump(folder / "cells.json", cells)
    charts = plots.write_charts(plots.charts_for(result, outputs), folder)
    figures: list = []
    for name, text in memo.render_all(result, outputs, cells, info, templates_dir,
                                      charts, figures).items():
        (folder / name).write_text(text, encoding="utf-8")
    _dump(folder / memo.FIGURES_FILE, memo.figure_index(figures, cells))
    if pdf:
        memo.write_pdf(folder / "memo.html", folder / "memo.pdf")
    _dump(folder / "manifest.json", manifest(a, rid, created, {
        "files": sorted(p.name for p in folder.iterdir()) + ["manifest.json"],
        "paper": paper, **extra}))


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n",
                    encoding="utf-8")


def point_latest(reports: Path, final: Path) -> None:
    """Make ``reports/latest`` point at ``final`` (replaced atomically)."""
    link = reports / "latest"
    tmp = reports / f".latest-{os.getpid()}"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(final.name if final.parent.resolve() == reports.resolve() else final,
                       target_is_directory=True)
        os.replace(tmp, link)
    except OSError:
        (reports / "LATEST").write_text(final.name + "\n", encoding="utf-8")


def clean_incomplete(reports: Path) -> list[Path]:
    """Remove temporary folders left by builds that were killed mid-write."""
    removed = []
    if reports.is_dir():
        for p in reports.glob(TMP_PREFIX + "*"):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed
