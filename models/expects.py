"""What a scenario overlay says it moves (issue 15): its ``expects`` and ``inert_on`` fields.

An overlay declares the headline outputs (models.headlines) it is meant to move, and which
way, against the base case on each units path (the choices of :data:`PATH_SWITCH`)::

    expects:
      china.eps_contribution.CY2026: down                       # on every path
      valuation.price_target: {market: unchanged, typed: down}  # per path (all paths named)
    inert_on:
      typed: "the typed units are the analyst's own forecast; only a ban overrides them"

``inert_on`` names the paths on which the overlay is meant to move no headline output at
all, with the reason. ``tests/test_overlay_expects.py`` evaluates every bundled overlay on every
path and holds it to these declarations. This module only reads and checks the fields; the
output names are checked against the models' headlines by :func:`check_outputs` once the models
are defined (``engine.build_specs``), so reading an overlay needs no model.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection, Mapping

from models.errors import EqrError, did_you_mean
from models.textcheck import as_text, describe as _kind

#: the choice whose values are the units paths an overlay's expectations are stated for
PATH_SWITCH = "china.units_source"
DIRECTIONS = ("up", "down", "unchanged")
FIELDS = ("expects", "inert_on")


@dataclass(frozen=True)
class Expectations:
    """Per path: headline output → direction, and the paths where nothing may move."""

    by_path: dict[str, dict[str, str]] = field(default_factory=dict)
    inert: dict[str, str] = field(default_factory=dict)  # path → reason
    file: str = ""  # the overlay, as shown in errors
    lines: dict[str, int | None] = field(default_factory=dict)  # output → its line in ``file``

    def on(self, path: str) -> dict[str, str]:
        return self.by_path.get(path, {})


def paths(a) -> tuple[str, ...]:
    """The units paths: the choices of :data:`PATH_SWITCH` (none if the sheets lack it)."""
    item = a.items.get(PATH_SWITCH)
    return tuple(item.choices) if item is not None else ()


def parse(data: Mapping, a, file: str, line_of) -> Expectations:
    """Check an overlay's ``expects`` and ``inert_on`` against the sheets ``a`` (the paths of
    :data:`PATH_SWITCH`; the output names wait for :func:`check_outputs`);
    ``line_of(mapping, key)`` gives a key's line. Raises :class:`EqrError` naming the file,
    line and key."""
    if not any(name in data for name in FIELDS):
        return Expectations()
    choices = paths(a)
    inert = _inert(data.get("inert_on"), choices, file, line_of(data, "inert_on"), line_of)
    raw = data.get("expects")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise EqrError("'expects' must be a mapping", file=file, line=line_of(data, "expects"),
                       expected="headline output: up | down | unchanged", found=_kind(raw))
    by_path: dict[str, dict[str, str]] = {p: {} for p in choices}
    lines: dict[str, int | None] = {}
    for output, spec in raw.items():
        line = line_of(raw, output) or line_of(data, "expects")
        lines[str(output)] = line
        per_path = _directions(spec, choices, file, line, str(output))
        for path, direction in per_path.items():
            if path in inert and direction != "unchanged":
                raise EqrError(f"'expects' says {output} moves {direction} on the {path} path, "
                               f"but 'inert_on' says nothing moves there", file=file,
                               line=line, key=str(output),
                               expected=f"unchanged on {path}, or {path} not in inert_on")
            by_path[path][str(output)] = direction
    return Expectations(by_path, inert, file, lines)


def check_outputs(declared: Expectations, outputs: Collection[str]) -> None:
    """Every output an overlay's ``expects`` names is one of ``outputs`` (the headline outputs
    of the models, models.headlines), else an :class:`EqrError` naming the file, line and key."""
    for output, line in declared.lines.items():
        if output not in outputs:
            raise EqrError("unknown headline output in 'expects'", file=declared.file, line=line,
                           key=output, expected="a headline output (model.row[.PERIOD], "
                                                "as eqr diff lists them)",
                           hint=did_you_mean(output, outputs))


def _directions(spec: Any, choices: tuple[str, ...], file: str, line: int | None,
                output: str) -> dict[str, str]:
    """``down`` → every path; ``{market: down, typed: unchanged}`` → each path named."""
    if isinstance(spec, dict):
        for path in spec:
            if path not in choices:
                raise EqrError(f"unknown units path in 'expects' for {output}", file=file,
                               line=line, key=f"{output}.{path}",
                               expected=f"one of {list(choices)} (the choices of "
                                        f"{PATH_SWITCH})", found=path,
                               hint=did_you_mean(str(path), choices))
        missing = [p for p in choices if p not in spec]
        if missing:
            raise EqrError(f"'expects' for {output} names some units paths, not all",
                           file=file, line=line, key=output,
                           expected=f"a direction for each of {list(choices)}, or one for "
                                    f"all", found=f"no direction for {', '.join(missing)}")
        return {p: _direction(spec[p], file, line, f"{output}.{p}") for p in choices}
    direction = _direction(spec, file, line, output)
    return {p: direction for p in choices}


def _direction(value: Any, file: str, line: int | None, key: str) -> str:
    if not isinstance(value, str) or value not in DIRECTIONS:
        raise EqrError("bad direction in 'expects'", file=file, line=line, key=key,
                       expected=" | ".join(DIRECTIONS), found=_kind(value),
                       hint=did_you_mean(str(value), DIRECTIONS))
    return value


def _inert(raw: Any, choices: tuple[str, ...], file: str, line: int | None,
           line_of) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise EqrError("'inert_on' must be a mapping", file=file, line=line,
                       expected="units path: reason", found=_kind(raw))
    out = {}
    for path, reason in raw.items():
        where = line_of(raw, path) or line
        if path not in choices:
            raise EqrError("unknown units path in 'inert_on'", file=file, line=where,
                           key=str(path), expected=f"one of {list(choices)} (the choices "
                                                   f"of {PATH_SWITCH})",
                           hint=did_you_mean(str(path), choices))
        text = as_text(reason, "an 'inert_on' reason", file, where, str(path)) \
            if reason is not None else ""
        if not text.strip():
            raise EqrError("'inert_on' needs a reason for each path", file=file, line=where,
                           key=str(path), expected="text: why nothing moves on this path",
                           found=_kind(reason))
        out[str(path)] = text.strip()
    return out


def inert_warnings(a, scenarios: Mapping | None = None) -> list[str]:
    """A line for each overlay applied in this run (or in a compared scenario) that says it
    moves no headline output on the current units path but does on another: ``--set
    china.units_source=typed --scenario china_open`` is the base case again, and the user is
    told why. (An overlay inert on every path, one that restates the base, is not reported.)"""
    out: list[str] = []
    for resolved in [a, *(scenarios or {}).values()]:
        path = resolved.items[PATH_SWITCH].value if PATH_SWITCH in resolved.items else None
        for name in resolved.scenarios:
            inert = resolved.inert_on.get(name, {})
            moving = [p for p in paths(resolved) if p not in inert]
            if path not in inert or not moving:
                continue
            line = (f"scenario {name} changes no headline output while {PATH_SWITCH} = "
                    f"{path} ({inert[path]}); it does with --set {PATH_SWITCH}="
                    f"{moving[0]}")
            if line not in out:
                out.append(line)
    return out
