"""``eqr assumptions``: every resolved assumption with its value, unit, source, who set it and,
for an input the current choices disconnect, the switch that does (models.effects)."""
from __future__ import annotations

from pathlib import Path

from models.assumptions import Assumption, Assumptions, load_base, \
    scenario_path


def set_by_text(item: Assumption, directory: Path) -> str:
    """Where the value comes from: ``file:line`` of the base sheet, the overlay file, --set."""
    if item.set_by == item.file:
        return f"{item.file}:{item.line}" if item.line else item.file
    if item.set_by.startswith("scenario "):
        name = item.set_by.split(" ", 1)[1]
        try:
            return f"{item.set_by} ({_shown(scenario_path(name, directory))})"
        except Exception:  # a recorded name that is no longer valid: show it as it was
            return item.set_by
    return item.set_by


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def is_changed(item: Assumption) -> bool:
    """True if a scenario, --set or a workbook edit gave the item its value."""
    return item.set_by != item.file


def no_effect(result) -> dict[str, str]:
    """Assumption key → ``switch = value`` for each input the run's choices disconnect
    (``china.h200_units`` → ``china.units_source = market``), from an evaluated run."""
    from models.effects import inactive_inputs
    a = result.assumptions
    return {i.key: ", ".join(f"{key} = {value}" for key, value, _ in i.switches)
            for i in inactive_inputs(result, list(a.items)) if i.switches}


def table(a: Assumptions, *, model: str | None = None, changed: bool = False,
          directory: Path | None = None,
          inactive: dict[str, str] | None = None) -> list[list[str]]:
    """Rows of the listing; with ``changed``, only what scenarios/--set/workbook changed,
    with the base sheets' value beside it. ``inactive`` (from :func:`no_effect`) adds a
    column ``no effect while`` naming the switch that disconnects an input."""
    from models.memo import format_by_unit
    base = load_base(directory) if changed else None
    head = ["key", "value", "unit", "set by"] + (["base value"] if changed else []) \
        + (["no effect while"] if inactive is not None else []) + ["source"]
    rows = [head]
    for key, it in a.items.items():
        if model not in (None, it.model) or (changed and not is_changed(it)):
            continue
        row = [key, format_by_unit(it.value, it.unit), it.unit, set_by_text(it, directory)]
        if changed:
            was = base.items.get(key)
            row.append(format_by_unit(was.value, was.unit) if was else "(not in the sheets)")
        if inactive is not None:
            row.append(inactive.get(key, ""))
        rows.append(row + [it.source])
    return rows


def render(rows: list[list[str]]) -> str:
    if len(rows) == 1:
        return "no assumption matches (nothing changed?)\n"
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1] + "\n"
                   for r in rows)
