"""Assumption sheets: load YAML, validate, apply scenario overlays and ``--set`` overrides.

A sheet (``assumptions/<model>.yaml``) looks like::

    model: china
    title: Nvidia H200 sales to China
    periods: [CY2025, CY2026, CY2027, CY2028]
    assumptions:
      levy_rate:
        label: US government levy on H200 China revenue
        unit: fraction
        value: 0.25
        source: Bernstein note; BofA note (Dec 2025)
        bounds: [0, 1]          # optional hard bounds (refused outside unless forced)
        low: 0.15               # optional range, used by the sweep
        high: 0.30
        note: optional text

A time series has ``value: {CY2025: ..., CY2026: ...}`` keyed by every period of the sheet.
A figure no source gives is an explicit gap, never a made-up number: ``unknown: true`` in place
of ``value`` (a scalar with a numeric unit), with a ``note`` saying why. Its value is ``None``;
models evaluate it as NaN (Excel ``#N/A``), so every row that needs it is visibly not a number::

      die_area_MTT_S4000:
        unit: mm2
        unknown: true
        source: "none found: Moore Threads does not publish the die size"
        note: "needed only for the performance density; the 3A090.a status stays open"
A scenario overlay (``assumptions/scenarios/<name>.yaml``) changes a few keys::

    description: China allows a limited one-off purchase
    set:
      china.h200_units.CY2026: 500000
      china.levy_treatment: {value: contra_revenue, source: "...", note: "..."}

Every problem raises :class:`models.errors.EqrError` naming file and line (or the key),
what was expected and what was found.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from models.errors import EqrError, did_you_mean

from models.paths import default_dir

ASSUMPTIONS_DIR = default_dir("assumptions")
SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
KEY_PART = re.compile(r"^[A-Za-z0-9_]+$")


# --------------------------------------------------------------------------- units
@dataclass(frozen=True)
class Unit:
    """What an assumption's unit allows: numeric or text, and default bounds."""

    kind: str  # "number" | "choice" | "text" | "period"
    lower: float | None = None
    upper: float | None = None
    integer: bool = False


_NONNEG = Unit("number", 0.0, None)
UNITS: dict[str, Unit] = {
    "fraction": Unit("number", 0.0, 1.0),
    "fraction (signed)": Unit("number", -1.0, 1.0),
    "pp": Unit("number", None, None),
    "units": _NONNEG,
    "dies per package": _NONNEG,
    "count": _NONNEG,
    "USD": _NONNEG,
    "USD per unit": _NONNEG,
    "USD per share": Unit("number", None, None),
    "USD m": Unit("number", None, None),
    "USD bn": Unit("number", None, None),
    "bn shares": _NONNEG,
    "x": _NONNEG,
    "years": _NONNEG,
    "months": _NONNEG,
    "quarters": _NONNEG,
    "GW": _NONNEG,
    "MW": _NONNEG,
    "kW": _NONNEG,
    "kW per rack": _NONNEG,
    "W": _NONNEG,
    "ratio": _NONNEG,
    "TFLOPS": _NONNEG,
    "TOPS": _NONNEG,
    "bits": _NONNEG,
    "TPP": _NONNEG,
    "TPP per mm2": _NONNEG,
    "mm2": _NONNEG,
    "GB": _NONNEG,
    "TB/s": _NONNEG,
    "USD per GPU-hour": _NONNEG,
    "GPUs per rack": _NONNEG,
    "choice": Unit("choice"),
    "text": Unit("text"),
    "period": Unit("period"),
}


# --------------------------------------------------------------------------- YAML with lines
class _LineDict(dict):
    """A mapping that remembers the line of each key (1-based)."""

    lines: dict


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    out = _LineDict()
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise EqrError("a mapping key must be a plain name", file=loader.name,
                           line=key_node.start_mark.line + 1, found=key)
        key = str(key)
        if key in out:
            raise EqrError(f"duplicate key {key!r}", file=loader.name,
                           line=key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, keeping key line numbers; broken YAML becomes an EqrError."""
    shown = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EqrError("file not found", file=shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EqrError(f"cannot read file ({exc.__class__.__name__})", file=shown) from None
    loader = _LineLoader(text)
    loader.name = shown
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise EqrError(f"broken YAML: {exc.problem or exc.context}", file=shown, line=line) from None
    except yaml.YAMLError as exc:
        raise EqrError(f"broken YAML: {exc}", file=shown) from None
    finally:
        loader.dispose()


def _line(mapping: Any, key: str) -> int | None:
    return getattr(mapping, "lines", {}).get(key)


# --------------------------------------------------------------------------- data types
@dataclass(frozen=True)
class Assumption:
    """One input: value (number, text, or {period: number}), unit, source and where it was set."""

    key: str
    label: str
    unit: str
    value: Any
    source: str
    note: str = ""
    bounds: tuple[float | None, float | None] = (None, None)
    low: Any = None
    high: Any = None
    dist: str = "triangular"
    choices: tuple[str, ...] = ()
    file: str = ""
    line: int | None = None
    set_by: str = ""  # the base file, or "scenario NAME", or "--set", or "workbook"
    unknown: bool = False  # an explicit gap: value is None (see the module docstring)

    @property
    def is_series(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def model(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]


@dataclass(frozen=True)
class Sheet:
    """One model's assumption sheet: its periods and its assumptions in sheet order."""

    model: str
    title: str
    periods: tuple[str, ...]
    file: str
    sha256: str
    assumptions: tuple[str, ...]  # keys in sheet order


@dataclass
class Assumptions:
    """Resolved assumptions for a run: every sheet, every value, and what changed them."""

    sheets: dict[str, Sheet]
    items: dict[str, Assumption]
    scenarios: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    forced: bool = False

    # -- access -----------------------------------------------------------
    def __getitem__(self, key: str) -> Assumption:
        try:
            return self.items[key]
        except KeyError:
            raise EqrError("unknown assumption", key=key,
                           hint=did_you_mean(key, self.items)) from None

    def value(self, key: str) -> Any:
        return self[key].value

    def periods(self, model: str) -> tuple[str, ...]:
        return self.sheets[model].periods

    def for_model(self, model: str) -> list[Assumption]:
        return [self.items[k] for k in self.sheets[model].assumptions]

    def flat_values(self) -> dict[str, Any]:
        """``key`` or ``key.period`` → value: the form ``--set`` and the workbook use."""
        out: dict[str, Any] = {}
        for key, item in self.items.items():
            if item.is_series:
                for period, v in item.value.items():
                    out[f"{key}.{period}"] = v
            else:
                out[key] = item.value
        return out

    def digest(self) -> str:
        """A hash of the resolved values: same inputs → same hash."""
        blob = json.dumps(self.flat_values(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def copy(self) -> "Assumptions":
        return Assumptions(dict(self.sheets), dict(self.items), list(self.scenarios),
                           list(self.overrides), self.forced)


# --------------------------------------------------------------------------- loading sheets
_ITEM_FIELDS = {"label", "unit", "value", "source", "note", "bounds", "low", "high", "dist",
                "choices", "unknown"}
_SHEET_FIELDS = {"model", "title", "periods", "assumptions"}


def _require_mapping(obj: Any, file: str, line: int | None, what: str) -> Mapping:
    if not isinstance(obj, dict):
        raise EqrError(f"{what} must be a mapping", file=file, line=line,
                       expected="key: value pairs", found=type(obj).__name__)
    return obj


def _check_fields(data: Mapping, allowed: set[str], required: set[str], file: str,
                  line: int | None, where: str) -> None:
    for key in data:
        if key not in allowed:
            raise EqrError(f"unknown field {key!r} in {where}", file=file,
                           line=_line(data, key) or line, expected=f"one of {sorted(allowed)}",
                           hint=did_you_mean(key, allowed))
    for key in sorted(required - set(data)):
        raise EqrError(f"missing field {key!r} in {where}", file=file, line=line)


def load_sheet(path: Path) -> tuple[Sheet, list[Assumption]]:
    """Read one assumption sheet and validate its structure and every value."""
    file = _display(path)
    data = read_yaml(path)
    _require_mapping(data, file, 1, "an assumption sheet")
    _check_fields(data, _SHEET_FIELDS, {"model", "periods", "assumptions"}, file, 1, "the sheet")
    model = data["model"]
    if not isinstance(model, str) or not KEY_PART.match(model):
        raise EqrError("bad model name", file=file, line=_line(data, "model"),
                       expected="a name of letters, digits and _", found=model)
    periods = data["periods"]
    if (not isinstance(periods, list) or not periods
            or not all(isinstance(p, str) and KEY_PART.match(p) for p in periods)
            or len(set(periods)) != len(periods)):
        raise EqrError("bad periods", file=file, line=_line(data, "periods"),
                       expected="a list of distinct period names such as [CY2025, CY2026]",
                       found=periods)
    items_raw = _require_mapping(data["assumptions"], file, _line(data, "assumptions"),
                                 "'assumptions'")
    items: list[Assumption] = []
    for name, raw in items_raw.items():
        line = _line(items_raw, name)
        key = f"{model}.{name}"
        if not KEY_PART.match(name):
            raise EqrError("bad assumption name", file=file, line=line,
                           expected="letters, digits and _", found=name)
        raw = _require_mapping(raw, file, line, f"assumption {key}")
        _check_fields(raw, _ITEM_FIELDS, {"unit", "source"}, file, line,
                      f"assumption {key}")
        if "value" not in raw and "unknown" not in raw:
            raise EqrError(f"missing field 'value' in assumption {key}", file=file, line=line,
                           hint="a figure no source gives is written 'unknown: true' with a note")
        item = _build_item(key, raw, file, line, tuple(periods))
        items.append(item)
    sheet = Sheet(model=model, title=str(data.get("title", model)), periods=tuple(periods),
                  file=file, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                  assumptions=tuple(i.key for i in items))
    return sheet, items


def _build_item(key: str, raw: Mapping, file: str, line: int | None,
                periods: tuple[str, ...]) -> Assumption:
    unit_name = raw["unit"]
    if unit_name not in UNITS:
        raise EqrError("unknown unit", file=file, line=_line(raw, "unit") or line, key=key,
                       expected="a unit from models.assumptions.UNITS", found=unit_name,
                       hint=did_you_mean(str(unit_name), UNITS))
    source = raw["source"]
    if not isinstance(source, str) or not source.strip():
        raise EqrError("every assumption needs a source", file=file,
                       line=_line(raw, "source") or line, key=key,
                       expected="the publication or filing (or 'unknown: <why>')", found=source)
    bounds = raw.get("bounds", [None, None])
    if (not isinstance(bounds, list) or len(bounds) != 2
            or not all(b is None or _is_number(b) for b in bounds)):
        raise EqrError("bad bounds", file=file, line=_line(raw, "bounds") or line, key=key,
                       expected="[lower, upper] (null for open)", found=bounds)
    choices = raw.get("choices", [])
    if UNITS[unit_name].kind == "choice" and (not isinstance(choices, list) or not choices):
        raise EqrError("a choice needs its list of choices", file=file, line=line, key=key,
                       expected="choices: [a, b]", found=choices)
    if UNITS[unit_name].kind == "period":
        choices = list(periods)  # a period assumption must name one of the sheet's periods
    dist = raw.get("dist", "triangular")
    if dist not in ("triangular", "uniform"):
        raise EqrError("unknown distribution", file=file, line=_line(raw, "dist") or line,
                       key=key, expected="triangular or uniform", found=dist)
    item = Assumption(
        key=key, label=str(raw.get("label", key.split(".", 1)[1].replace("_", " "))),
        unit=unit_name, value=None, source=source.strip(), note=str(raw.get("note", "") or ""),
        bounds=(bounds[0], bounds[1]), dist=dist, choices=tuple(str(c) for c in choices),
        file=file, line=line, set_by=file)
    if "unknown" in raw:
        return _unknown_item(item, raw, file, line)
    value = _coerce_value(item, raw["value"], periods, file, _line(raw, "value") or line)
    low = _coerce_range(item, raw.get("low"), periods, file, _line(raw, "low") or line)
    high = _coerce_range(item, raw.get("high"), periods, file, _line(raw, "high") or line)
    return replace(item, value=value, low=low, high=high)


def _unknown_item(item: Assumption, raw: Mapping, file: str, line: int | None) -> Assumption:
    """An explicit gap: ``unknown: true``, no value, no range, and a note saying why."""
    where = _line(raw, "unknown") or line
    if raw["unknown"] is not True:
        raise EqrError("bad 'unknown'", file=file, line=where, key=item.key,
                       expected="'unknown: true' (or leave the field out and give a value)",
                       found=raw["unknown"])
    if raw.get("value") is not None:
        raise EqrError("an unknown figure cannot also have a value", file=file,
                       line=_line(raw, "value") or where, key=item.key,
                       expected="either 'value: <number>' or 'unknown: true'", found=raw["value"])
    if UNITS[item.unit].kind != "number":
        raise EqrError(f"a {item.unit} assumption cannot be unknown", file=file, line=where,
                       key=item.key, expected="a number unit (a gap in a figure)")
    for extra in ("low", "high"):
        if raw.get(extra) is not None:
            raise EqrError(f"an unknown figure has no range ({extra!r})", file=file,
                           line=_line(raw, extra) or where, key=item.key,
                           hint="give a value with low/high if the range is known")
    if not item.source.lower().startswith("unknown:"):
        raise EqrError("an unknown figure's source must say so", file=file,
                       line=_line(raw, "source") or where, key=item.key,
                       expected="source: \"unknown: <where it was looked for>\"",
                       found=item.source)
    if not item.note.strip():
        raise EqrError("an unknown figure needs a note saying why it is unknown", file=file,
                       line=where, key=item.key, expected="note: <why no source gives it>")
    return replace(item, unknown=True)


def _coerce_range(item: Assumption, raw: Any, periods, file, line):
    if raw is None:
        return None
    return _coerce_value(item, raw, periods, file, line, what="range value")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _coerce_value(item: Assumption, raw: Any, periods: tuple[str, ...], file: str,
                  line: int | None, what: str = "value") -> Any:
    """Check a whole value (scalar or series) against the item's unit, bounds and periods."""
    if isinstance(raw, dict):
        if UNITS[item.unit].kind != "number":
            raise EqrError(f"a {item.unit} assumption cannot be a time series", file=file,
                           line=line, key=item.key, found=dict(raw))
        for period in raw:
            if period not in periods:
                raise EqrError(f"unknown period {period!r}", file=file,
                               line=_line(raw, period) or line, key=item.key,
                               expected=f"one of {list(periods)}",
                               hint=did_you_mean(str(period), periods))
        missing = [p for p in periods if p not in raw]
        if missing:
            raise EqrError("time series is missing periods", file=file, line=line,
                           key=item.key, expected=f"a value for each of {list(periods)}",
                           found=f"no value for {', '.join(missing)}")
        return {p: check_scalar(item, raw[p], f"{item.key}.{p}", file,
                                _line(raw, p) or line, what) for p in periods}
    return check_scalar(item, raw, item.key, file, line, what)


def check_scalar(item: Assumption, raw: Any, key: str, file: str | None, line: int | None,
                 what: str = "value", force: bool = False) -> Any:
    """Validate one number or text against the item's unit, choices and bounds."""
    unit = UNITS[item.unit]
    if unit.kind in ("choice", "period"):
        if raw not in item.choices:
            raise EqrError(f"unknown {what}", file=file, line=line, key=key,
                           expected=f"one of {list(item.choices)}", found=raw,
                           hint=did_you_mean(str(raw), item.choices))
        return raw
    if unit.kind == "text":
        if not isinstance(raw, str) or not raw.strip():
            raise EqrError(f"bad {what}", file=file, line=line, key=key,
                           expected="a non-empty text", found=raw)
        return raw
    if raw is None:
        raise EqrError(f"missing {what}", file=file, line=line, key=key,
                       expected=f"a number in {item.unit}", found=raw,
                       hint="a figure no source gives is written 'unknown: true' with a note, "
                            "not left blank")
    if not _is_number(raw):
        raise EqrError(f"wrong type of {what}", file=file, line=line, key=key,
                       expected=f"a number in {item.unit}", found=raw)
    value = float(raw)
    if item.unit == "fraction" and 1.0 < value <= 100.0:
        raise EqrError(f"{what} looks like a percentage given as a whole number", file=file,
                       line=line, key=key, expected="a fraction between 0 and 1", found=raw,
                       hint=f"did you mean {value / 100:g}?")
    lower = item.bounds[0] if item.bounds[0] is not None else unit.lower
    upper = item.bounds[1] if item.bounds[1] is not None else unit.upper
    if not force:
        if lower is not None and value < lower:
            raise EqrError(f"{what} below its lower bound {lower:g}", file=file, line=line,
                           key=key, expected=f">= {lower:g} {item.unit}", found=raw,
                           hint="use --force to run outside the sheet's bounds"
                           if item.bounds[0] is not None else None)
        if upper is not None and value > upper:
            raise EqrError(f"{what} above its upper bound {upper:g}", file=file, line=line,
                           key=key, expected=f"<= {upper:g} {item.unit}", found=raw,
                           hint="use --force to run outside the sheet's bounds"
                           if item.bounds[1] is not None else None)
    return value


# --------------------------------------------------------------------------- the resolved set
def load_base(directory: Path = ASSUMPTIONS_DIR) -> Assumptions:
    """Load every base sheet (``*.yaml`` directly in ``directory``)."""
    files = sorted(p for p in Path(directory).glob("*.yaml"))
    if not files:
        raise EqrError("no assumption sheets (*.yaml) found", file=_display(Path(directory)))
    sheets: dict[str, Sheet] = {}
    items: dict[str, Assumption] = {}
    for path in files:
        sheet, sheet_items = load_sheet(path)
        if sheet.model in sheets:
            raise EqrError(f"model {sheet.model!r} is defined twice", file=sheet.file,
                           found=f"also in {sheets[sheet.model].file}")
        sheets[sheet.model] = sheet
        for item in sheet_items:
            items[item.key] = item
    return Assumptions(sheets=sheets, items=items)


def scenario_path(name: str, directory: Path = ASSUMPTIONS_DIR) -> Path:
    """The overlay file of a scenario; names cannot leave ``assumptions/scenarios``."""
    if not isinstance(name, str) or not SCENARIO_NAME.match(name):
        raise EqrError("bad scenario name", key="--scenario",
                       expected="letters, digits, '-' and '_' (no paths)", found=name)
    return Path(directory) / "scenarios" / f"{name}.yaml"


def available_scenarios(directory: Path = ASSUMPTIONS_DIR) -> list[str]:
    return sorted(p.stem for p in (Path(directory) / "scenarios").glob("*.yaml"))


def apply_scenario(a: Assumptions, name: str, directory: Path = ASSUMPTIONS_DIR,
                   force: bool = False) -> Assumptions:
    path = scenario_path(name, directory)
    if not path.exists():
        raise EqrError("unknown scenario", key="--scenario",
                       expected=f"one of {available_scenarios(directory)}", found=name,
                       hint=did_you_mean(name, available_scenarios(directory)))
    file = _display(path)
    data = read_yaml(path)
    _require_mapping(data, file, 1, "a scenario overlay")
    _check_fields(data, {"description", "set"}, {"set"}, file, 1, "the overlay")
    changes = _require_mapping(data["set"], file, _line(data, "set"), "'set'")
    out = a.copy()
    for key, raw in changes.items():
        line = _line(changes, key)
        source = note = None
        if isinstance(raw, dict):
            _check_fields(raw, {"value", "source", "note"}, {"value"}, file, line, key)
            source, note, raw = raw.get("source"), raw.get("note"), raw["value"]
        out = set_value(out, key, raw, set_by=f"scenario {name}", file=file, line=line,
                        source=source, note=note, force=force)
    out.scenarios.append(name)
    return out


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` → (key, value); the value is read as a YAML scalar (0.15, cogs, 1e6)."""
    if "=" not in text:
        raise EqrError("bad --set", key="--set", expected="KEY=VALUE, e.g. china.levy_rate=0.15",
                       found=text)
    key, _, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not key or not raw:
        raise EqrError("bad --set", key="--set", expected="KEY=VALUE with both sides",
                       found=text)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    if isinstance(value, (dict, list)) or value is None:
        value = raw
    return key, value


def apply_override(a: Assumptions, text: str, force: bool = False) -> Assumptions:
    key, value = parse_override(text)
    out = set_value(a, key, value, set_by="--set", force=force)
    out.overrides.append(f"{key}={value}")
    return out


def set_value(a: Assumptions, key: str, raw: Any, *, set_by: str, file: str | None = None,
              line: int | None = None, source: str | None = None, note: str | None = None,
              force: bool = False) -> Assumptions:
    """Return a copy of ``a`` with ``key`` (``model.name`` or ``model.name.PERIOD``) set."""
    if not isinstance(key, str):
        raise EqrError("bad key", file=file, line=line, expected="model.name[.PERIOD]",
                       found=key)
    base_key, period = key, None
    if key not in a.items:
        head, _, tail = key.rpartition(".")
        if head in a.items:
            base_key, period = head, tail
        else:
            valid = list(a.flat_values())
            raise EqrError("unknown assumption", file=file, line=line, key=key,
                           hint=did_you_mean(key, valid))
    item = a.items[base_key]
    where = file or set_by
    if item.is_series:
        if period is None:
            raise EqrError("a time series is set one period at a time", file=file, line=line,
                           key=key, expected=f"{key}.<period> with a period in "
                                             f"{list(item.value)}", found=raw)
        if period not in item.value:
            raise EqrError("unknown period", file=file, line=line, key=key,
                           expected=f"one of {list(item.value)}", found=period,
                           hint=did_you_mean(period, item.value))
        new_value = dict(item.value)
        new_value[period] = check_scalar(item, raw, key, where if file else None, line,
                                         force=force)
    else:
        if period is not None:
            raise EqrError(f"{base_key} is not a time series", file=file, line=line, key=key,
                           expected=base_key, found=key)
        new_value = check_scalar(item, raw, key, where if file else None, line, force=force)
    out = a.copy()
    out.items[base_key] = replace(
        item, value=new_value, set_by=set_by, unknown=False,
        source=str(source) if source else item.source,
        note=str(note) if note else item.note)
    out.forced = a.forced or force
    return out


def resolve(scenarios: Iterable[str] = (), overrides: Iterable[str] = (),
            directory: Path = ASSUMPTIONS_DIR, force: bool = False) -> Assumptions:
    """Base sheets, then each scenario overlay in order, then each ``--set``."""
    a = load_base(directory)
    for name in scenarios:
        a = apply_scenario(a, name, directory, force=force)
    for text in overrides:
        a = apply_override(a, text, force=force)
    check_models(a)
    return a


def check_models(a: Assumptions) -> None:
    """Each model's own checks of its resolved assumptions, beyond units and bounds (a life
    above zero, salvage below cost): ``validate(a)`` in ``models/<model>.py`` where defined.
    Runs before anything is written, so a bad sheet value or ``--set`` stops the build."""
    from models.engine import MODEL_MODULES, model_module  # lazy: the engine imports this module
    for name in MODEL_MODULES:
        if name in a.sheets:
            validate = getattr(model_module(name), "validate", None)
            if validate is not None:
                validate(a)


def deep_copy(a: Assumptions) -> Assumptions:
    return copy.deepcopy(a)
