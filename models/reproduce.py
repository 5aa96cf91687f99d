"""What a run needs to be reproduced, and reproducing it.

:func:`manifest_fields` adds to ``manifest.json`` every resolved assumption in full (value,
unit, label, source, note, bounds, range, who set it) and each sheet's periods and order, plus a
sha256 of the model code. :func:`assumptions_from_manifest` rebuilds the exact
:class:`~models.assumptions.Assumptions` of the run from that record alone, so a rerun gets the
same ``outputs.json`` even after the assumption sheets changed; the current sheets are only
compared (sha256) to say whether they changed. A manifest written before these fields existed
is rebuilt from the current sheets' structure and the manifest's resolved values.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.assumptions import Assumption, Assumptions, Sheet, load_base, \
    set_value
from models.errors import EqrError

# the manifest's record is written with the run (models.runs); this module reads it back
from models import paths
from models.runs import (ITEM_FIELDS, code_sha256, manifest_fields,  # noqa: F401 (re-exported)
                         write_run)

# --------------------------------------------------------------------------- reading runs
@dataclass
class Run:
    """A run folder as read back: its manifest and outputs."""

    folder: Path
    manifest: dict[str, Any]
    outputs: dict[str, float]

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id") or self.folder.name)

    @property
    def resolved(self) -> dict[str, Any]:
        return dict(self.manifest.get("resolved_assumptions") or {})

    def describe(self) -> str:
        scen = ", ".join(self.manifest.get("scenarios") or []) or "base"
        sets = self.manifest.get("overrides") or []
        text = f"{self.run_id} (scenarios: {scen}"
        if sets:
            text += f"; overrides: {', '.join(sets)}"
        if self.manifest.get("workbook"):
            text += f"; workbook: {self.manifest['workbook'].get('file')}"
        return text + ")"


def find_run(ref: str | Path, reports_dir: Path | None = None) -> Path:
    """A run folder from a path, a run folder name under ``reports/``, or ``latest``."""
    reports = Path(reports_dir or paths.reports_dir())
    ref_path = Path(ref)
    candidates = [ref_path, reports / str(ref)]
    if ref_path.name == "manifest.json":
        candidates.insert(0, ref_path.parent)
    for c in candidates:
        if c.is_dir():
            return c.resolve() if c.is_symlink() else c  # latest → the run it points at
    if str(ref) == "latest" and (reports / "LATEST").is_file():
        name = (reports / "LATEST").read_text(encoding="utf-8").strip()
        if (reports / name).is_dir():
            return reports / name
    known = sorted(p.name for p in reports.iterdir() if p.is_dir() and not
                   p.name.startswith(".")) if reports.is_dir() else []
    from models.errors import did_you_mean
    raise EqrError("no such run", key="RUN", found=str(ref),
                   expected=f"a run folder, or the name of one in {reports}",
                   hint=did_you_mean(str(ref), known))


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EqrError(f"not a complete run folder: no {path.name}", file=str(path.parent),
                       expected=f"a folder written by eqr build ({what})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EqrError(f"cannot read {path.name} ({exc.__class__.__name__})",
                       file=str(path)) from None


def load_run(ref: str | Path, reports_dir: Path | None = None) -> Run:
    folder = find_run(ref, reports_dir)
    manifest = _read_json(folder / "manifest.json", "manifest.json")
    if not isinstance(manifest, dict) or "resolved_assumptions" not in manifest:
        raise EqrError("manifest.json has no resolved_assumptions", file=str(folder /
                       "manifest.json"), expected="a manifest written by eqr build")
    outputs = _read_json(folder / "outputs.json", "outputs.json")
    return Run(folder, manifest, outputs)


# --------------------------------------------------------------------------- rebuilding
@dataclass
class Rebuilt:
    """The assumptions of a recorded run, and what had to be taken from elsewhere."""

    assumptions: Assumptions
    from_record: bool              # True: rebuilt from the manifest's full record alone
    missing: list[str]             # keys the current sheets have but the run did not record
    unknown: list[str]             # keys the run recorded that the current sheets lack


def assumptions_from_manifest(manifest: dict[str, Any],
                              directory: Path | None = None) -> Rebuilt:
    """The run's resolved assumptions: from the full record, else current sheets + values."""
    if manifest.get("assumption_items") and manifest.get("assumption_sheets"):
        return Rebuilt(_from_record(manifest), True, [], [])
    return _from_current_sheets(manifest, directory)


def _from_record(manifest: dict[str, Any]) -> Assumptions:
    sheets = {}
    for model, s in manifest["assumption_sheets"].items():
        sheets[model] = Sheet(model=model, title=s["title"], periods=tuple(s["periods"]),
                              file=s["file"], sha256=s["sha256"],
                              assumptions=tuple(s["assumptions"]))
    items = {}
    forced = bool(manifest.get("forced"))
    for key, rec in manifest["assumption_items"].items():
        try:
            fields = {f: rec.get(f) for f in ITEM_FIELDS if f in rec}
            fields["bounds"] = tuple(fields.get("bounds") or (None, None))
            fields["choices"] = tuple(fields.get("choices") or ())
            fields["note"] = fields.get("note") or ""
            fields["unknown"] = bool(fields.get("unknown"))
            items[key] = Assumption(key=key, **fields)
        except (AttributeError, TypeError, ValueError) as exc:
            raise EqrError("manifest.json: a malformed assumption record", key=key,
                           file="manifest.json", found=f"{exc.__class__.__name__}: {exc}"[:200],
                           hint="the manifest was edited; rebuild the run") from None
        _check_recorded_value(items[key], forced)
    return Assumptions(sheets=sheets, items=items,
                       scenarios=list(manifest.get("scenarios") or []),
                       overrides=list(manifest.get("overrides") or []),
                       forced=bool(manifest.get("forced")))


def _check_recorded_value(item: Assumption, forced: bool) -> None:
    """A recorded value is checked exactly as a sheet value or ``--set`` is (unit, bounds,
    choices, 25-for-25%): ``eqr rerun`` does not trust the manifest (issue 17, case 6)."""
    from models.assumptions import UNITS, check_scalar
    if not isinstance(item.unit, str) or item.unit not in UNITS:
        raise EqrError("manifest.json: an assumption with an unknown unit", key=item.key,
                       file="manifest.json", found=item.unit)
    if item.unknown:
        return
    try:
        if isinstance(item.value, dict):
            for period, value in item.value.items():
                check_scalar(item, value, f"{item.key}.{period}", "manifest.json", None,
                             force=forced)
        else:
            check_scalar(item, item.value, item.key, "manifest.json", None, force=forced)
    except (TypeError, ValueError, AttributeError) as exc:
        raise EqrError("manifest.json: a recorded value of the wrong type", key=item.key,
                       file="manifest.json", found=f"{exc.__class__.__name__}: {exc}"[:200]
                       ) from None


def _from_current_sheets(manifest: dict[str, Any], directory: Path) -> Rebuilt:
    a = load_base(directory)
    resolved = manifest["resolved_assumptions"]
    flat = a.flat_values()
    unknown = [k for k in resolved if k not in flat]
    missing = [k for k in flat if k not in resolved]
    a = _with_values(a, {k: v for k, v in resolved.items() if k in flat and flat[k] != v})
    a.scenarios = list(manifest.get("scenarios") or [])
    a.overrides = list(manifest.get("overrides") or [])
    a.forced = bool(manifest.get("forced"))
    return Rebuilt(a, False, missing, unknown)


def sheets_changed(manifest: dict[str, Any], directory: Path | None = None) -> list[str]:
    """Assumption files whose current sha256 differs from the run's (or that are gone)."""
    directory = Path(directory) if directory is not None else paths.assumptions_dir()
    changed = []
    for f in manifest.get("assumption_files") or []:
        path = Path(f.get("path", ""))
        candidates = [path, Path(directory) / path.name]
        current = next((p for p in candidates if p.is_file()), None)
        if current is None:
            changed.append(f"{f.get('path')} (gone)")
        elif hashlib.sha256(current.read_bytes()).hexdigest() != f.get("sha256"):
            changed.append(str(f.get("path")))
    return changed


def code_changed(manifest: dict[str, Any]) -> list[str]:
    """Model or engine files whose code differs from the run's (empty if not recorded)."""
    recorded = manifest.get("code_sha256") or {}
    now = code_sha256()
    return sorted(k for k in set(recorded) | set(now) if recorded.get(k) != now.get(k)) \
        if recorded else []


def compare_outputs(old: dict[str, float], new: dict[str, float]) -> list[str]:
    """Differences between two outputs.json maps, one line each (empty: identical)."""
    lines = []
    for key in old.keys() | new.keys():
        if key not in new:
            lines.append(f"{key}: only in the original ({old[key]!r})")
        elif key not in old:
            lines.append(f"{key}: only in the rerun ({new[key]!r})")
        elif not _same(old[key], new[key]):
            lines.append(f"{key}: {old[key]!r} → {new[key]!r}")
    return sorted(lines)


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float) and x != x and y != y:
        return True  # both NaN
    return x == y


# --------------------------------------------------------------------------- rerun
@dataclass
class Rerun:
    """What ``eqr rerun`` did: the new folder, notes for the user, and output differences."""

    original: Run
    folder: Path
    notes: list[str]
    differences: list[str]


def rerun(ref: str | Path, *, out: Path | None = None, reports_dir: Path | None = None,
          directory: Path | None = None, templates_dir: Path | None = None,
          pdf: bool = False) -> Rerun:
    """Rebuild a recorded run from its manifest into a new folder and compare outputs.json."""
    directory = Path(directory) if directory is not None else paths.assumptions_dir()
    original = load_run(ref, reports_dir)
    rebuilt = assumptions_from_manifest(original.manifest, directory)
    notes = []
    changed = sheets_changed(original.manifest, directory)
    if changed:
        how = ("the run's recorded values are used" if rebuilt.from_record else
               "the run's recorded values are applied to the current sheets")
        notes.append(f"assumption sheets changed since the run: {', '.join(changed)}; {how}")
    if rebuilt.unknown:
        notes.append("recorded assumptions the current sheets no longer have (not applied): "
                     + ", ".join(rebuilt.unknown))
    if rebuilt.missing:
        notes.append("assumptions the run did not record (current sheet values used): "
                     + ", ".join(rebuilt.missing))
    code = code_changed(original.manifest)
    if code:
        notes.append(f"model code changed since the run: {', '.join(code)}")
    extra = {"rerun_of": {"run_id": original.run_id, "folder": str(original.folder),
                          "from_record": rebuilt.from_record}}
    if original.manifest.get("workbook"):
        extra["workbook"] = original.manifest["workbook"]
    scenarios = None
    names = original.manifest.get("compared_scenarios")
    recorded = original.manifest.get("compared_values")
    if names and isinstance(recorded, dict) and set(names) <= set(recorded):
        # the run's Scenarios sheet, rebuilt from the values it recorded
        scenarios = {name: _with_values(rebuilt.assumptions, recorded[name]) for name in names}
    elif names:  # an older run: its overlays, applied to the current sheets
        from models.compare import resolve_scenarios
        scenarios = resolve_scenarios(names, rebuilt.assumptions.overrides, directory)
    folder = write_run(rebuilt.assumptions, out=out, reports_dir=reports_dir,
                       templates_dir=templates_dir, pdf=pdf, extra_manifest=extra,
                       paper=original.manifest.get("paper", "a4"), scenarios=scenarios)
    new_outputs = json.loads((folder / "outputs.json").read_text(encoding="utf-8"))
    return Rerun(original, folder, notes, compare_outputs(original.outputs, new_outputs))


def _with_values(a: Assumptions, values: dict[str, Any]) -> Assumptions:
    """``a`` with recorded values set (a compared scenario's differences from the run)."""
    for key, value in values.items():
        a = set_value(a, key, value, set_by="run record", force=True)
    return a


# --------------------------------------------------------------------------- command
