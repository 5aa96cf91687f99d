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
    expects:                          # optional: headline outputs it moves (models.expects)
      china.reported_revenue.CY2026: down

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

from models.errors import EqrError, did_you_mean

from models.paths import assumptions_dir
from models.registry import MODELS, optional
from models.yamlread import (UNDERFLOW, UNDERFLOW_EXPECTED, display as _display,  # noqa: F401
                             line_of as _line, parse_bytes as _parse_bytes, parse_yaml,
                             read_bytes as _read_bytes, read_yaml, underflows)
from models.textcheck import (BAD_CHARS as _BAD_CHARS, LARGEST_NUMBER,  # noqa: F401
                              as_text as _as_text, check_text, describe as _kind,
                              invisible_format_character, number_problem as _number_problem)


def __getattr__(name: str):
    """``ASSUMPTIONS_DIR``: the default folder, resolved when used (models.paths)."""
    if name == "ASSUMPTIONS_DIR":
        return assumptions_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "growth rate": Unit("number", -1.0, None),  # 0.12 = +12% (q/q or y/y); may exceed 100%
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
    #: scenario → units path → why the overlay moves nothing there (its ``inert_on``)
    inert_on: dict[str, dict[str, str]] = field(default_factory=dict)
    #: scenario → what its overlay declares it moves (output names checked by the engine)
    declared: dict[str, Any] = field(default_factory=dict)

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
        """A hash of the resolved values and ranges: same inputs → same hash.

        The ranges (low, high, dist) count because outputs depend on them (the sensitivity
        grids' axes are drawn from them); labels, sources and notes do not.
        """
        ranges = {k: [it.low, it.high, it.dist] for k, it in self.items.items()
                  if it.low is not None or it.high is not None}
        blob = json.dumps({"values": self.flat_values(), "ranges": ranges}, sort_keys=True,
                          default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def copy(self) -> "Assumptions":
        return Assumptions(dict(self.sheets), dict(self.items), list(self.scenarios),
                           list(self.overrides), self.forced, dict(self.inert_on),
                           dict(self.declared))


# --------------------------------------------------------------------------- loading sheets
_ITEM_FIELDS = {"label", "unit", "value", "source", "note", "bounds", "low", "high", "dist",
                "choices", "unknown"}
_SHEET_FIELDS = {"model", "title", "periods", "assumptions"}
MAX_NAME_CHARS = 64
MAX_CHOICE_LIST_CHARS = 255  # Excel's limit for a drop-down's list of choices


def _require_mapping(obj: Any, file: str, line: int | None, what: str) -> Mapping:
    if not isinstance(obj, dict):
        raise EqrError(f"{what} must be a mapping", file=file, line=line,
                       expected="key: value pairs", found=_kind(obj))
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


def _is_name(x: Any) -> bool:
    return isinstance(x, str) and len(x) <= MAX_NAME_CHARS and KEY_PART.fullmatch(x) is not None


def _text_field(data: Mapping, name: str, default: str, file: str, line: int | None,
                key: str | None = None) -> str:
    """An optional text field (label, note, title): text or a plain number; blank → default."""
    raw = data.get(name)
    if raw is None:
        return default
    return _as_text(raw, name, file, _line(data, name) or line, key)


def _duplicate_ignoring_case(names: Iterable[str]) -> tuple[str, str] | None:
    """Excel's defined names and MATCH ignore case: `CY2025` and `cy2025` would collide."""
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(name.casefold(), name)
        if other != name:
            return other, name
    return None


_SHEET_CACHE: dict[tuple, tuple[Sheet, list[Assumption]]] = {}
_SHEET_CACHE_SIZE = 64


def load_sheet(path: Path, force: bool = False) -> tuple[Sheet, list[Assumption]]:
    """Read one assumption sheet and validate its structure and every value.

    ``force`` accepts values outside the sheet's (and units') bounds, as ``--force`` does.
    A sheet whose bytes were validated before in this process is not parsed again (the key is
    the content's sha256, so an edited file is always read afresh).
    """
    file = _display(path)
    raw_bytes = _read_bytes(path, file)
    cache_key = (file, force, hashlib.sha256(raw_bytes).hexdigest())
    if cache_key in _SHEET_CACHE:
        sheet, items = _SHEET_CACHE[cache_key]
        return sheet, [_fresh(i) for i in items]
    sheet, items = _load_sheet(path, file, raw_bytes, force)
    if len(_SHEET_CACHE) >= _SHEET_CACHE_SIZE:
        _SHEET_CACHE.pop(next(iter(_SHEET_CACHE)))
    _SHEET_CACHE[cache_key] = (sheet, items)
    return sheet, [_fresh(i) for i in items]


def _fresh(item: Assumption) -> Assumption:
    """A copy whose series dicts are not shared with the cache."""
    copies = {f: dict(getattr(item, f)) for f in ("value", "low", "high")
              if isinstance(getattr(item, f), dict)}
    return replace(item, **copies) if copies else item


def _load_sheet(path: Path, file: str, raw_bytes: bytes,
                force: bool) -> tuple[Sheet, list[Assumption]]:
    data = _parse_bytes(raw_bytes, file)
    _require_mapping(data, file, 1, "an assumption sheet")
    _check_fields(data, _SHEET_FIELDS, {"model", "periods", "assumptions"}, file, 1, "the sheet")
    model = data["model"]
    if not _is_name(model):
        raise EqrError("bad model name", file=file, line=_line(data, "model"),
                       expected=f"a name of letters, digits and _ (at most {MAX_NAME_CHARS})",
                       found=model)
    periods = data["periods"]
    if (not isinstance(periods, list) or not periods
            or not all(_is_name(p) for p in periods)
            or len(set(periods)) != len(periods)):
        raise EqrError("bad periods", file=file, line=_line(data, "periods"),
                       expected="a list of distinct period names such as [CY2025, CY2026]",
                       found=periods)
    clash = _duplicate_ignoring_case(periods)
    if clash:
        raise EqrError("periods differ only in upper/lower case", file=file,
                       line=_line(data, "periods"), expected="distinct period names",
                       found=f"{clash[0]} and {clash[1]}")
    title = _text_field(data, "title", model, file, 1)
    items_raw = _require_mapping(data["assumptions"], file, _line(data, "assumptions"),
                                 "'assumptions'")
    clash = _duplicate_ignoring_case(items_raw)
    if clash:
        raise EqrError("assumption names differ only in upper/lower case", file=file,
                       line=_line(items_raw, clash[1]),
                       expected="distinct names (Excel names ignore case)",
                       found=f"{clash[0]} and {clash[1]}")
    items: list[Assumption] = []
    for name, raw in items_raw.items():
        line = _line(items_raw, name)
        key = f"{model}.{name}"
        if not _is_name(name):
            raise EqrError("bad assumption name", file=file, line=line,
                           expected=f"letters, digits and _ (at most {MAX_NAME_CHARS})",
                           found=name)
        raw = _require_mapping(raw, file, line, f"assumption {key}")
        _check_fields(raw, _ITEM_FIELDS, {"unit", "source"}, file, line,
                      f"assumption {key}")
        if "value" not in raw and "unknown" not in raw:
            raise EqrError(f"missing field 'value' in assumption {key}", file=file, line=line,
                           hint="a figure no source gives is written 'unknown: true' with a note")
        item = _build_item(key, raw, file, line, tuple(periods), force)
        items.append(item)
    sheet = Sheet(model=model, title=title, periods=tuple(periods),
                  file=file, sha256=hashlib.sha256(raw_bytes).hexdigest(),
                  assumptions=tuple(i.key for i in items))
    return sheet, items


def _build_item(key: str, raw: Mapping, file: str, line: int | None,
                periods: tuple[str, ...], force: bool = False) -> Assumption:
    unit_name = raw["unit"]
    if not isinstance(unit_name, str) or unit_name not in UNITS:
        raise EqrError("unknown unit", file=file, line=_line(raw, "unit") or line, key=key,
                       expected="a unit from models.assumptions.UNITS", found=unit_name,
                       hint=did_you_mean(unit_name, UNITS) if isinstance(unit_name, str)
                       else None)
    unit = UNITS[unit_name]
    source = raw["source"]
    if not isinstance(source, str) or not source.strip():
        raise EqrError("every assumption needs a source", file=file,
                       line=_line(raw, "source") or line, key=key,
                       expected="the publication or filing (or 'unknown: <why>')", found=source)
    check_text(source, "source", file, _line(raw, "source") or line, key)
    bounds = raw.get("bounds", [None, None])
    if (not isinstance(bounds, list) or len(bounds) != 2
            or not all(b is None or _number_problem(b) is None for b in bounds)):
        raise EqrError("bad bounds", file=file, line=_line(raw, "bounds") or line, key=key,
                       expected="[lower, upper] (null for open)", found=bounds)
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise EqrError("bounds the wrong way round", file=file,
                       line=_line(raw, "bounds") or line, key=key,
                       expected="[lower, upper] with lower <= upper", found=bounds)
    choices = _choices(raw, unit_name, periods, file, line, key)
    dist = raw.get("dist", "triangular")
    if not isinstance(dist, str) or dist not in ("triangular", "uniform"):
        raise EqrError("unknown distribution", file=file, line=_line(raw, "dist") or line,
                       key=key, expected="triangular or uniform", found=dist)
    item = Assumption(
        key=key, label=_text_field(raw, "label", key.split(".", 1)[1].replace("_", " "),
                                   file, line, key),
        unit=unit_name, value=None, source=source.strip(),
        note=_text_field(raw, "note", "", file, line, key),
        bounds=(bounds[0], bounds[1]), dist=dist, choices=choices,
        file=file, line=line, set_by=file)
    if "unknown" in raw:
        return _unknown_item(item, raw, file, line)
    value = _coerce_value(item, raw["value"], periods, file, _line(raw, "value") or line,
                          force=force)
    low = _coerce_range(item, raw.get("low"), periods, file, _line(raw, "low") or line, force)
    high = _coerce_range(item, raw.get("high"), periods, file, _line(raw, "high") or line, force)
    if unit.kind == "number" and low is not None and high is not None:
        lows = low if isinstance(low, dict) else dict.fromkeys(periods, low)
        highs = high if isinstance(high, dict) else dict.fromkeys(periods, high)
        wrong = [p for p in periods if lows[p] > highs[p]]
        if wrong:
            raise EqrError("range the wrong way round: low above high", file=file,
                           line=_line(raw, "low") or line, key=key, expected="low <= high",
                           found=f"low {lows[wrong[0]]:g} > high {highs[wrong[0]]:g}"
                                 + (f" in {wrong[0]}" if isinstance(low, dict)
                                    or isinstance(high, dict) else ""))
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


def _choices(raw: Mapping, unit_name: str, periods: tuple[str, ...], file: str,
             line: int | None, key: str) -> tuple[str, ...]:
    """The list a ``choice`` must be one of (the sheet's periods for unit ``period``).

    Choices become an Excel drop-down, so they are plain texts without commas or quotes and
    fit Excel's 255-character list.
    """
    kind = UNITS[unit_name].kind
    where = _line(raw, "choices") or line
    if kind == "period":
        return tuple(periods)  # a period assumption must name one of the sheet's periods
    if "choices" in raw and kind != "choice":
        raise EqrError("only a 'choice' assumption has choices", file=file, line=where, key=key,
                       expected="unit: choice, or no 'choices' field", found=unit_name)
    if kind != "choice":
        return ()
    choices = raw.get("choices")
    if not isinstance(choices, list) or not choices:
        raise EqrError("a choice needs its list of choices", file=file, line=where, key=key,
                       expected="choices: [a, b]", found=choices)
    out = []
    for c in choices:
        if isinstance(c, int) and not isinstance(c, bool):
            c = str(c)
        if not isinstance(c, str) or not c.strip() or any(ch in c for ch in ',"') \
                or len(c) > MAX_NAME_CHARS or _BAD_CHARS.search(c) \
                or invisible_format_character(c):
            raise EqrError("bad choice", file=file, line=where, key=key,
                           expected=f"plain texts without commas or quotes (at most "
                                    f"{MAX_NAME_CHARS} characters)", found=c)
        out.append(c)
    if len(set(out)) != len(out):
        raise EqrError("choices repeat", file=file, line=where, key=key,
                       expected="distinct choices", found=out)
    if len(",".join(out)) > MAX_CHOICE_LIST_CHARS:
        raise EqrError("too many choices for an Excel drop-down", file=file, line=where,
                       key=key, expected=f"at most {MAX_CHOICE_LIST_CHARS} characters in all")
    return tuple(out)


def _coerce_range(item: Assumption, raw: Any, periods, file, line, force: bool = False):
    if raw is None:
        return None
    return _coerce_value(item, raw, periods, file, line, what="range value", force=force)


def _is_number(x: Any) -> bool:
    return _number_problem(x) is None


def _coerce_value(item: Assumption, raw: Any, periods: tuple[str, ...], file: str,
                  line: int | None, what: str = "value", force: bool = False) -> Any:
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
                                _line(raw, p) or line, what, force=force) for p in periods}
    return check_scalar(item, raw, item.key, file, line, what, force=force)


def _number_hint(raw: Any, item: Assumption) -> str | None:
    """A hint for a value that is almost a number: '25%', '1,000,000', '"0.25"', yes/no."""
    if isinstance(raw, bool):
        return "true/false are not numbers"
    if not isinstance(raw, str):
        return None
    text = raw.strip().replace("_", "")
    try:
        if text.endswith("%"):
            v = float(text[:-1])
            return (f"write fractions as decimals: {v / 100:g}" if any(_fraction_like(item))
                    else "drop the % sign")
        if "," in text:
            return f"write it without thousands separators: {float(text.replace(',', '')):g}"
        number = float(text)
    except ValueError:
        return None
    return _parsed_number_hint(text, number)


def _parsed_number_hint(text: str, number: float) -> str:
    """Why text that Python reads as a number is not one here. Only a plain ASCII number can
    have been quoted (``"0.25"``); ``inf``, ``nan``, other scripts' digits and ``1e-400`` are
    refused for what they are, not for quotes nobody typed (issue 17)."""
    if not text.isascii():
        return "write the number with the digits 0-9"
    if not math.isfinite(number):
        return "a finite number is expected: inf and nan are not values"
    if underflows(text):
        return "it is too small: a number that small would become 0; write 0 or a larger number"
    if not re.fullmatch(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?", text):
        return "write it as a plain decimal number, e.g. 0.25 or 1e6"
    return "it is quoted text: remove the quotes"


def _fraction_like(item: Assumption) -> tuple[bool, bool]:
    """(by its unit, by its sheet bounds): does this assumption hold a fraction (0.25 = 25%)?

    Any number unit whose bounds stop at 1 is fraction-like (``fraction``, ``fraction (signed)``
    and units other models add), and so is an assumption whose own ``bounds`` stop at 1.
    """
    unit = UNITS[item.unit]
    by_unit = unit.kind == "number" and (
        (unit.upper is not None and unit.upper <= 1) or "fraction" in item.unit.lower())
    by_bounds = item.bounds[1] is not None and item.bounds[1] <= 1
    return by_unit, by_bounds


def check_scalar(item: Assumption, raw: Any, key: str, file: str | None, line: int | None,
                 what: str = "value", force: bool = False) -> Any:
    """Validate one number or text against the item's unit, choices and bounds."""
    unit = UNITS[item.unit]
    if unit.kind in ("choice", "period"):
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)  # `2026` for choices ["2025", "2026"]
        if not isinstance(raw, str) or raw not in item.choices:
            raise EqrError(f"unknown {what}", file=file, line=line, key=key,
                           expected=f"one of {list(item.choices)}", found=raw,
                           hint=did_you_mean(raw, item.choices) if isinstance(raw, str)
                           else None)
        return raw
    if unit.kind == "text":
        if not isinstance(raw, str) or not raw.strip():
            raise EqrError(f"bad {what}", file=file, line=line, key=key,
                           expected="a non-empty text", found=raw)
        check_text(raw, what, file, line, key)
        return raw
    if raw is None:
        raise EqrError(f"missing {what}", file=file, line=line, key=key,
                       expected=f"a number in {item.unit}", found=raw,
                       hint="a figure no source gives is written 'unknown: true' with a note, "
                            "not left blank")
    problem = _number_problem(raw)
    if problem == "not a number":
        raise EqrError(f"wrong type of {what}", file=file, line=line, key=key,
                       expected=f"a number in {item.unit}", found=raw,
                       hint=_number_hint(raw, item))
    if problem:
        raise EqrError(f"{what} is {problem}", file=file, line=line, key=key,
                       expected=f"a finite number in {item.unit} of magnitude at most "
                                f"{LARGEST_NUMBER:g}", found=raw)
    value = float(raw)
    lower = item.bounds[0] if item.bounds[0] is not None else unit.lower
    upper = item.bounds[1] if item.bounds[1] is not None else unit.upper
    by_unit, by_bounds = _fraction_like(item)
    if by_unit or (by_bounds and not force):
        # 25 for 25%: refused even with --force when the unit itself is a fraction
        low = -1.0 if lower is None else max(lower, -1.0)
        high = 1.0 if upper is None else min(upper, 1.0)
        if 1.0 < abs(value) <= 100.0 and low <= value / 100 <= high:
            raise EqrError(f"{what} looks like a percentage given as a whole number", file=file,
                           line=line, key=key,
                           expected=f"a fraction between {low:g} and {high:g}", found=raw,
                           hint=f"did you mean {value / 100:g}?")
    if not force:
        # the hint names where the bound comes from: the sheet's `bounds:` or the unit
        if lower is not None and value < lower:
            raise EqrError(f"{what} below its lower bound {lower:g}", file=file, line=line,
                           key=key, expected=f">= {lower:g} {item.unit}", found=raw,
                           hint=("the sheet's bounds; use --force to run outside them"
                                 if item.bounds[0] is not None
                                 else f"unit {item.unit!r} does not go below {lower:g}"))
        if upper is not None and value > upper:
            raise EqrError(f"{what} above its upper bound {upper:g}", file=file, line=line,
                           key=key, expected=f"<= {upper:g} {item.unit}", found=raw,
                           hint=("the sheet's bounds; use --force to run outside them"
                                 if item.bounds[1] is not None
                                 else f"unit {item.unit!r} does not go above {upper:g}"))
    return value


# --------------------------------------------------------------------------- the resolved set
def _sheet_files(directory: Path) -> list[Path]:
    """The ``*.yaml`` files directly in ``directory``; a missing folder is an EqrError."""
    shown = _display(Path(directory))
    try:
        if not Path(directory).exists():
            raise EqrError("assumptions folder not found", file=shown, key="--assumptions",
                           expected="a folder of assumption sheets (*.yaml)")
        if not Path(directory).is_dir():
            raise EqrError("not a folder", file=shown, key="--assumptions",
                           expected="a folder of assumption sheets (*.yaml)")
        files = sorted(p for p in Path(directory).glob("*.yaml") if not p.name.startswith("."))
    except (OSError, ValueError) as exc:
        raise EqrError(f"cannot read the assumptions folder ({exc.__class__.__name__})",
                       file=shown, key="--assumptions") from None
    if not files:
        raise EqrError("no assumption sheets (*.yaml) found", file=shown)
    return files


def load_base(directory: Path | None = None, force: bool = False) -> Assumptions:
    """Load every base sheet (``*.yaml`` directly in ``directory``)."""
    directory = Path(directory) if directory is not None else assumptions_dir()
    sheets: dict[str, Sheet] = {}
    items: dict[str, Assumption] = {}
    for path in _sheet_files(directory):
        sheet, sheet_items = load_sheet(path, force=force)
        clash = next((s for s in sheets.values()
                      if s.model.casefold() == sheet.model.casefold()), None)
        if clash:
            raise EqrError(f"model {sheet.model!r} is defined twice", file=sheet.file,
                           found=f"also in {clash.file}")
        sheets[sheet.model] = sheet
        for item in sheet_items:
            items[item.key] = item
    return Assumptions(sheets=sheets, items=items, forced=force)


def scenario_path(name: str, directory: Path | None = None) -> Path:
    """The overlay file of a scenario; names cannot leave ``assumptions/scenarios``."""
    directory = Path(directory) if directory is not None else assumptions_dir()
    if not isinstance(name, str) or not SCENARIO_NAME.fullmatch(name):
        raise EqrError("bad scenario name", key="--scenario",
                       expected="letters, digits, '-' and '_', at most 64 (no paths)",
                       found=name)
    return Path(directory) / "scenarios" / f"{name}.yaml"


def available_scenarios(directory: Path | None = None) -> list[str]:
    """Scenario names that can be used (files whose name is a valid scenario name)."""
    directory = Path(directory) if directory is not None else assumptions_dir()
    try:
        found = (Path(directory) / "scenarios").glob("*.yaml")
        return sorted(p.stem for p in found if SCENARIO_NAME.fullmatch(p.stem))
    except (OSError, ValueError):
        return []


def apply_scenario(a: Assumptions, name: str, directory: Path | None = None,
                   force: bool = False) -> Assumptions:
    directory = Path(directory) if directory is not None else assumptions_dir()
    path = scenario_path(name, directory)
    if not path.is_file():
        raise EqrError("unknown scenario", key="--scenario",
                       expected=f"one of {available_scenarios(directory)}", found=name,
                       hint=did_you_mean(name, available_scenarios(directory)))
    file = _display(path)
    data = read_yaml(path)
    _require_mapping(data, file, 1, "a scenario overlay")
    _check_fields(data, {"label", "description", "set", "expects", "inert_on"}, {"set"}, file,
                  1, "the overlay")
    _text_field(data, "description", "", file, 1)
    _text_field(data, "label", "", file, 1)
    from models.expects import parse as parse_expects
    declared = parse_expects(data, a, file, _line)  # what it says it moves (checked)
    changes = _require_mapping(data["set"], file, _line(data, "set"), "'set'")
    out = a.copy()
    for key, raw in changes.items():
        line = _line(changes, key)
        source = note = None
        if isinstance(raw, dict):
            _check_fields(raw, {"value", "source", "note"}, {"value"}, file, line, key)
            source = _text_field(raw, "source", "", file, line, key) or None
            note = _text_field(raw, "note", "", file, line, key) or None
            raw = raw["value"]
        out = set_value(out, key, raw, set_by=f"scenario {name}", file=file, line=line,
                        source=source, note=note, force=force)
    out.scenarios.append(name)
    if declared.inert:
        out.inert_on[name] = declared.inert
    if declared.lines:
        out.declared[name] = declared
    return out


def read_expectations(name: str, directory: Path | None = None):
    """What the overlay ``name`` (``assumptions/scenarios/NAME.yaml``) declares it moves
    (models.expects.Expectations; its output names unchecked until the models are defined)."""
    from models.expects import parse
    directory = directory or assumptions_dir()
    path = scenario_path(name, directory)
    return parse(read_yaml(path), load_base(directory), _display(path), _line)


def parse_scalar(text: str) -> Any:
    """A value typed on the command line (or in a workbook cell), read like a YAML scalar.

    ``0.15`` and ``1e6`` are numbers, ``cogs`` is text; anything that is not one plain scalar
    (a list, a mapping, nothing, broken YAML) stays the text it was.
    """
    try:
        value = parse_yaml(text, "--set")
    except EqrError:
        return text
    if isinstance(value, (dict, list)) or value is None:
        return text
    return value


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` → (key, value); the value is read as a YAML scalar (0.15, cogs, 1e6)."""
    if not isinstance(text, str) or "=" not in text:
        raise EqrError("bad --set", key="--set", expected="KEY=VALUE, e.g. china.levy_rate=0.15",
                       found=text)
    key, _, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not key or not raw:
        raise EqrError("bad --set", key="--set", expected="KEY=VALUE with both sides",
                       found=text)
    value = parse_scalar(raw)
    if isinstance(value, str) and underflows(value):
        raise EqrError(UNDERFLOW, key=key, expected=UNDERFLOW_EXPECTED, found=raw)
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
    source = _as_text(source, "source", file, line, key) if source else None
    note = _as_text(note, "note", file, line, key) if note else None
    out = a.copy()
    out.items[base_key] = replace(
        item, value=new_value, set_by=set_by, unknown=False,
        source=source.strip() if source else item.source,
        note=note if note else item.note)
    out.forced = a.forced or force
    return out


def resolve(scenarios: Iterable[str] = (), overrides: Iterable[str] = (),
            directory: Path | None = None, force: bool = False) -> Assumptions:
    """Base sheets, then each scenario overlay in order, then each ``--set``."""
    directory = Path(directory) if directory is not None else assumptions_dir()
    a = load_base(directory, force=force)
    for name in scenarios:
        a = apply_scenario(a, name, directory, force=force)
    seen: dict[str, str] = {}
    for text in overrides:
        a = apply_override(a, text, force=force)  # a malformed --set fails here first
        refuse_repeated_key(seen, text)
    check_models(a)
    return a


def refuse_repeated_key(seen: dict[str, str], text: str) -> None:
    """``--set k=1 --set k=2`` is an error, not a silent 'last one wins' (issue 17); ``seen``
    holds the keys set so far (after each one applied cleanly)."""
    key = str(text).split("=", 1)[0].strip()
    if key in seen:
        raise EqrError("the same key is set twice", key=key, expected="one --set per key",
                       found=f"{seen[key]!r} and {str(text)!r}")
    seen[key] = str(text)


def check_models(a: Assumptions) -> None:
    """Each model's own checks of its resolved assumptions, beyond units and bounds (a life
    above zero, salvage below cost): ``validate(a)`` in ``models/<model>.py`` where defined.
    Runs before anything is written, so a bad sheet value or ``--set`` stops the build."""
    for name in MODELS:
        if name in a.sheets:
            validate = optional(name, "validate")
            if validate is not None:
                validate(a)


def deep_copy(a: Assumptions) -> Assumptions:
    return copy.deepcopy(a)
