"""Renders the research note (Markdown, HTML and PDF) from a run's outputs with Jinja2.

Templates get figures only by name (``o["china.levy.CY2026"]``) through formatting filters;
``StrictUndefined`` makes a missing name fail the build instead of printing a blank, and HTML
autoescaping keeps text from assumption sheets from becoming markup. Every figure a filter
formats is logged with the output it came from (``memo_figures.json`` in the run folder), and
:func:`typed_figures` refuses templates whose literal text holds a digit: no figure is typed by
hand. Nothing here knows about any model; the note's structure lives in ``templates/``.

The note's order: page one (``memo.*.j2``: title, date, ticker, rating and price-target box,
key points from ``keypoints/<section>.*.j2``), then ``sections/<section>.*.j2`` in
:data:`SECTION_ORDER`, then sources and disclosures.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import hashlib
import math
import os
import re
from pathlib import Path
from collections.abc import Mapping
from types import BuiltinMethodType, MappingProxyType
from typing import Any, Callable, Iterable
from urllib.parse import unquote, urlparse

import jinja2
import jinja2.sandbox

from models import paths
from models.errors import EqrError
from models.formats import MEMO_FILTERS
from models.sources import citation, documents


def __getattr__(name: str):
    """``TEMPLATES_DIR``: the bundled templates, resolved when used (models.paths)."""
    if name == "TEMPLATES_DIR":
        return paths.templates_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MEMO_TEMPLATES = {"memo.md": "memo.md.j2", "memo.html": "memo.html.j2"}
#: the full sources appendix, a file of its own beside the note (issue 13)
SOURCES_TEMPLATES = {"sources.md": "sources.md.j2", "sources.html": "sources.html.j2"}
#: how many documents the note's "Key sources" lists (the rest: sources.html, Sources sheet)
KEY_SOURCES = 6
FIGURES_FILE = "memo_figures.json"

#: the note's sections in reading order (the one place the order is set). A model's section is
#: shown when the model ran and ``sections/<model>.md.j2`` exists; a section that is not a
#: model (``risks``) when its template exists. A model with a section that is not listed here
#: comes before ``risks``.
SECTION_ORDER: tuple[str, ...] = ("nvda", "valuation", "china", "china_market", "export_control",
                                  "blackwell", "depreciation", "risks")
NOTE_SECTIONS = frozenset({"risks"})  # sections of the note itself, not of a model
SECTION_BEFORE_UNLISTED = "risks"
#: page one's key points lead with these sections' (the price target), then section order
KEY_POINTS_FIRST: tuple[str, ...] = ("valuation", "nvda")

#: ``--paper`` → CSS page size
PAPERS = {"a4": "A4", "letter": "letter"}
DEFAULT_PAPER = "a4"


# --------------------------------------------------------------------------- figures
class Figure(float):
    """A number from the run that remembers its name (an output, or an assumption's value)."""

    __slots__ = ("name", "kind", "transform")  # one per output: made ~9,000 times a build
    name: str
    kind: str
    transform: str  # "" (as is), "neg" or "abs": how prose turned the figure around

    def __new__(cls, value: float, name: str, kind: str = "output",
                transform: str = "") -> "Figure":
        obj = super().__new__(cls, value)
        obj.name, obj.kind, obj.transform = name, kind, transform
        return obj

    def __neg__(self) -> "Figure":  # −x and abs(x) are the same figure, signed for prose
        return Figure(-float(self), self.name, self.kind,
                      {"": "neg", "neg": "", "abs": "neg abs"}.get(self.transform, "neg"))

    def __abs__(self) -> "Figure":
        return Figure(abs(float(self)), self.name, self.kind, "abs")

    def __str__(self) -> str:
        """A figure reaches the page only through a formatting filter."""
        raise EqrError(f"a memo template prints {self.kind} {self.name} without a formatting "
                       f"filter", expected=f"{{{{ ... | {' | '.join(sorted(FILTERS))} }}}}")


_FIGURE_LOG: contextvars.ContextVar[list | None] = contextvars.ContextVar("eqr_memo_figures",
                                                                         default=None)


GAP_TEXT = "n/a"  # an output that rests on an unknown figure (None in outputs.json)


def _logged(fn: Callable[..., str]) -> Callable[..., str]:
    """The filter ``fn``, also logging (text, name) when it formats a named figure; an unknown
    output (None) prints as ``n/a`` instead of failing."""

    @functools.wraps(fn)
    def wrapper(v: Any, *args: Any, **kwargs: Any) -> str:
        if v is None:
            return GAP_TEXT
        text = fn(v, *args, **kwargs)
        log = _FIGURE_LOG.get()
        if log is not None and isinstance(v, Figure):
            entry = {"text": text, v.kind: v.name, "filter": fn.__name__, "args": list(args)}
            if v.transform:
                entry["transform"] = v.transform
            log.append(entry)
        return text

    return wrapper


# --------------------------------------------------------------------------- filters
def _num(v: Any) -> float:
    if isinstance(v, jinja2.Undefined):
        v._fail_with_undefined_error()
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise EqrError("a memo figure must be a number", found=v)
    return float(v)


MINUS = "\u2212"  # the note's one minus sign, for money, shares, multiples and units alike
_NONZERO_DIGIT = re.compile("[1-9]")


def _with_sign(x: float, magnitude: str, plus: bool = False) -> str:
    """The note's one sign rule, for every kind of figure: ``magnitude`` is |x| already
    formatted; a negative figure carries U+2212 before the whole figure ('−$1.3bn', '−4.2%',
    '−1.5x', '−0.55'; never an ASCII '-' or brackets), a signed difference (``plus``) carries
    '+' when positive, and a figure that rounds to zero carries no sign ('0.0%', not '−0.0%')."""
    if _NONZERO_DIGIT.search(magnitude) is None:
        return magnitude
    return (MINUS if x < 0 else "+" if plus and x > 0 else "") + magnitude


def usd_m(v: Any, digits: int = 1) -> str:
    """USD m → '$40.0bn' (from 1,000 up) or '$850m'."""
    x = _num(v)
    if math.isnan(x):
        return "n/a"
    if abs(x) >= 1000:
        return _with_sign(x, f"${abs(x) / 1000:,.{digits}f}bn")
    return _with_sign(x, f"${abs(x):,.0f}m")


def usd_bn(v: Any, digits: int = 1) -> str:
    """USD bn → as :func:`usd_m` of the same amount."""
    return usd_m(_num(v) * 1000, digits)


def usd(v: Any, digits: int = 0) -> str:
    """USD → '$40,000'."""
    x = _num(v)
    if math.isnan(x):
        return "n/a"
    return _with_sign(x, f"${abs(x):,.{digits}f}")


def eps(v: Any) -> str:
    """USD per share → '$0.62'."""
    return usd(v, 2)


def price(v: Any) -> str:
    """A price per share (target, share price, DCF value, value per share) → '$299.57': one
    rounding for every price the note prints, on page one and in the sections alike."""
    return usd(v, 2)


def signed(v: Any, digits: int = 2) -> str:
    """A signed difference of plain numbers (years, multiples) → '+0.55' / '−0.55'."""
    x = _num(v)
    return "n/a" if math.isnan(x) else _with_sign(x, f"{abs(x):,.{digits}f}", plus=True)


def units_change(v: Any) -> str:
    """A signed step in units → '+1.20M' / '−3.00M' (bridges, as their charts label them)."""
    x = _num(v)
    return "n/a" if math.isnan(x) else _with_sign(x, units(abs(x)), plus=True)


def pct(v: Any, digits: int = 1) -> str:
    """Fraction → '45.0%' / '−6.8%'."""
    x = _num(v)
    return "n/a" if math.isnan(x) else _with_sign(x, f"{abs(x) * 100:.{digits}f}%")


def pp(v: Any, digits: int = 1) -> str:
    """Percentage points → '+15.0 pp'."""
    x = _num(v)
    if math.isnan(x):
        return "n/a"
    return _with_sign(x, f"{abs(x):.{digits}f} pp", plus=True)


def mult(v: Any, digits: int = 1) -> str:
    """Multiple → '28.0x'."""
    x = _num(v)
    return "n/a" if math.isnan(x) else _with_sign(x, f"{abs(x):.{digits}f}x")


def units(v: Any) -> str:
    """1,000,000 → '1.00M'; 300,000 → '300k'; 950 → '950'."""
    x = _num(v)
    if math.isnan(x):
        return "n/a"
    if abs(x) >= 1e6:
        return _with_sign(x, f"{abs(x) / 1e6:.2f}M")
    if abs(x) >= 1e4:
        return _with_sign(x, f"{abs(x) / 1e3:,.0f}k")
    return _with_sign(x, f"{abs(x):,.0f}")


def number(v: Any, digits: int = 2) -> str:
    """Plain number → '1,234.57'."""
    x = _num(v)
    return "n/a" if math.isnan(x) else _with_sign(x, f"{abs(x):,.{digits}f}")


FILTERS: dict[str, Callable[..., str]] = {
    "usd_m": usd_m, "usd_bn": usd_bn, "usd": usd, "eps": eps, "pct": pct, "pp": pp,
    "mult": mult, "units": units, "number": number, "price": price,
    "units_change": units_change, "signed": signed}

#: an assumption's unit → the filter that shows it (the table is models.formats')
UNIT_FILTERS: dict[str, Callable[..., str]] = {unit: FILTERS[name]
                                               for unit, name in MEMO_FILTERS.items()}


def format_by_unit(value: Any, unit: str) -> str:
    """Format an assumption for the sources table by its unit."""
    if value is None:
        return "unknown"
    if isinstance(value, dict):
        return " / ".join(format_by_unit(v, unit) for v in value.values())
    if isinstance(value, str):
        return value
    return UNIT_FILTERS.get(unit, lambda v: f"{_num(v):,.6g}")(value)


#: the filters as templates call them (logging each figure), made once, not per figure
_LOGGED_FILTERS = {name: _logged(f) for name, f in FILTERS.items()}
_LOGGED_UNIT_FILTERS = {unit: _logged(f) for unit, f in UNIT_FILTERS.items()}
_logged_plain = _logged(lambda v: f"{_num(v):,.6g}")  # a unit without a filter


def by_unit(value: Any, unit: str) -> str:
    """The ``by_unit`` filter: a series shows each period (``CY2026 1.00M; CY2027 …``). The
    templates give it outputs (scenario columns, grid cells): None is an output that does not
    exist (an unknown figure, or a ratio of a zero base such as a P/E of zero EPS): n/a."""
    if value is None:
        return GAP_TEXT
    if isinstance(value, dict):
        return "; ".join(f"{p} {by_unit(v, unit)}" for p, v in value.items())
    if isinstance(value, str):
        return value
    return _LOGGED_UNIT_FILTERS.get(unit, _logged_plain)(value)


def fig(v: Any, filter_name: str, *args: Any) -> str:
    """The ``fig`` filter: format with the filter named (for tables driven by a list)."""
    if filter_name not in FILTERS:
        raise EqrError("unknown memo filter", expected=f"one of {sorted(FILTERS)}",
                       found=filter_name)
    return _LOGGED_FILTERS[filter_name](v, *args)


def range_by_unit(low: Any, high: Any, unit: str) -> str:
    """The ``range_by_unit`` filter: 'low–high' ('CY2026 300k–1.50M; …' for a series)."""
    if low is None or high is None:
        return ""
    if isinstance(low, dict):
        return "; ".join(f"{p} {range_by_unit(low[p], high[p], unit)}" for p in low)
    return f"{by_unit(low, unit)}–{by_unit(high, unit)}"


# --------------------------------------------------------------------------- dates
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(?:" + "|".join(_MONTHS) + ")[a-z]*\\.?"
#: dates as sources write them, most precise first: ISO, calendar, fiscal quarter, fiscal year
_DATES = (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
          re.compile(rf"\b(?:\d{{1,2}} )?{_MONTH} \d{{4}}\b"),
          re.compile(r"\bQ[1-4] ?FY ?\d{2,4}\b"),
          re.compile(r"\bFY ?\d{4}\b"))


def source_date(source: str) -> str:
    """The date a source gives ('26 Oct 2025', 'Dec 2025', 'Q3 FY2026'), or '' if none.

    A calendar date is preferred to a fiscal period; among dates of one kind, the first."""
    for pattern in _DATES:
        found = pattern.search(source or "")
        if found:
            return found.group(0)
    return ""


def _date_order(text: str) -> tuple[int, int, int]:
    """A sort key for what :func:`source_date` returns: (year, month, day), 0 if not given."""
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if iso:
        return int(iso[1]), int(iso[2]), int(iso[3])
    years = re.findall(r"\d{4}", text)
    month = next((i for i, m in enumerate(_MONTHS, start=1) if m in text), 0)
    day = re.match(r"(\d{1,2}) ", text)
    return int(years[-1]) if years else 0, month, int(day[1]) if day else 0


def quarter_label(period: str) -> str:
    """A fiscal quarter's short heading: ``Q4FY2026`` → ``Q4 FY26`` (other names unchanged)."""
    m = re.fullmatch(r"(Q[1-4])FY\d\d(\d\d)", str(period))
    return f"{m[1]} FY{m[2]}" if m else str(period)


def long_date(iso: str) -> str:
    """'2025-12-08T…' → '8 December 2025'."""
    day = dt.date.fromisoformat(iso[:10])
    return f"{day.day} {day.strftime('%B')} {day.year}"


# --------------------------------------------------------------------------- typed figures
#: words of literal text allowed to hold digits: product, number-format and regulation names
ALLOWED_WORDS = frozenset({"H20", "H100", "H200", "B200", "B300", "GB200", "GB300", "FP4",
                           "FP8", "FP16", "BF16", "INT8", "3A090"})
_ALLOWED_PHRASES = re.compile(r"utf-8", re.IGNORECASE)  # <meta charset="utf-8">
_HEADING_TAG = re.compile(r"</?h[1-6]\b")
_DIGIT_WORD = re.compile(r"[\w.]*\d[\w.]*")
_KEY_STRING = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.?$"  # an output/assumption name
                         r"|^[a-z0-9_./]*\.j2$")                   # a template's file name
_SMALL_INTEGERS = frozenset({"0", "1", "2", "3"})  # filter digits, comparisons with zero
_CSS_STRING = re.compile(r"\"[^\"]*\"|'[^']*'")


def _digit_words(text: str, first_line: int = 1) -> list[tuple[int, str]]:
    """``(line, word)`` for each word of ``text`` holding a digit that is not allowed."""
    blank = lambda m: " " * len(m.group(0))  # noqa: E731 (keeps offsets for line numbers)
    text = _HEADING_TAG.sub(lambda m: "<h" + blank(m)[2:], _ALLOWED_PHRASES.sub(blank, text))
    found = []
    for m in _DIGIT_WORD.finditer(text):
        word = m.group(0).strip(".")
        if word not in ALLOWED_WORDS:
            found.append((first_line + text.count("\n", 0, m.start()), word))
    return found


def typed_figures(source: str, name: str = "<template>") -> list[tuple[int, str]]:
    """Figures typed into a template: ``(line, text)`` for each digit outside a figure's source.

    Literal text (outside ``{{ }}``, ``{% %}``, ``{# #}``) may hold no digit except the names in
    :data:`ALLOWED_WORDS`, heading tags (``<h2>``) and ``utf-8``. Inside an expression a number
    may only be a filter's digits or a comparison with zero (0–3), or the bound of a ``range()``
    loop, and a string may hold digits only when
    it is a lower-case output or assumption name (``"china.h200_units."``) or a template's
    file name (``".html.j2"``). A ``.css`` file may
    hold any CSS but no digit inside a quoted string (running headers are text).
    """
    found: list[tuple[int, str]] = []
    if name.endswith(".css"):
        for lineno, line in enumerate(source.splitlines(), start=1):
            for s in _CSS_STRING.findall(line):
                found += _digit_words(s, lineno)
        return found
    env = jinja2.Environment()
    try:
        tokens = list(env.lex(source, name))
    except jinja2.TemplateSyntaxError as exc:
        raise EqrError(f"template syntax error: {exc.message}", file=name,
                       line=exc.lineno) from None
    code = [(k, v) for _, k, v in tokens if k != "whitespace"]
    for n, (lineno, kind, value) in enumerate(t for t in tokens if t[1] != "whitespace"):
        after_range = n >= 2 and code[n - 2] == ("name", "range") and code[n - 1][1] == "("
        if kind == "data":
            found += _digit_words(value, lineno)
        elif kind == "string":
            text = value[1:-1]
            if not _KEY_STRING.match(text):
                found += _digit_words(text, lineno)
        elif kind == "float" or (kind == "integer" and value not in _SMALL_INTEGERS
                                 and not after_range):
            found.append((lineno, value))
    return found


def check_templates(folders: Iterable[Path]) -> None:
    """Refuse the build if any template file that would be used has a typed figure.

    A file that passed the check before, with the same text and the same checking code, is not
    lexed again (see :func:`_checked_folder`)."""
    seen: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and path.suffix in (".j2", ".css") and rel not in seen:
                seen[rel] = path
    checked = _checked_folder()
    for rel, path in seen.items():
        source = path.read_text(encoding="utf-8")
        mark = checked / _check_key(source, rel) if checked else None
        if mark is not None and mark.exists():
            continue
        problems = typed_figures(source, rel)
        if problems:
            line, word = problems[0]
            raise EqrError("a figure is typed into the template", file=str(path), line=line,
                           expected="every figure from an output, e.g. "
                                    "{{ o[\"china.levy.\" ~ p] | usd_m }}",
                           found=word)
        if mark is not None:
            try:
                mark.touch()
            except OSError:  # a read-only cache: the check simply runs again next time
                pass


@functools.lru_cache(maxsize=None)
def _checker_fingerprint() -> bytes:
    """What the typed-figure check depends on besides the template: this module's code (the
    allowed words and patterns, :func:`typed_figures`) and Jinja's lexer."""
    return hashlib.sha256(Path(__file__).read_bytes()
                          + jinja2.__version__.encode()).digest()


def _check_key(source: str, name: str) -> str:
    """The name of the mark that ``source`` passed the check (a ``.css`` file is checked by
    other rules than a template)."""
    kind = b"css" if name.endswith(".css") else b"template"
    return hashlib.sha256(_checker_fingerprint() + kind + b"\0"
                          + source.encode("utf-8")).hexdigest()


def _checked_folder() -> Path | None:
    """Where marks of template files that passed :func:`check_templates` are kept: an empty
    file named by a hash of the file's text and of the checking code, so an edited template
    or a changed rule is checked afresh. Lexing every template costs about 0.07 s a build."""
    try:
        _checker_fingerprint()
    except OSError:  # this module's code is not a readable file: nothing to key marks by
        return None
    return _cache_folder("checked")


def _cache_folder(name: str) -> Path | None:
    """``eqr/<name>`` in the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``),
    created if need be; None when it cannot be written or ``EQR_NO_TEMPLATE_CACHE`` is set."""
    if os.environ.get("EQR_NO_TEMPLATE_CACHE"):
        return None
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = root / "eqr" / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            return None
    except OSError:
        return None
    return folder


# --------------------------------------------------------------------------- environment
def template_folders(templates_dir: Path | None = None) -> list[Path]:
    """Where templates are looked up: ``--templates DIR`` first, then the bundled ones."""
    folders = []
    if templates_dir is not None:
        folder = Path(templates_dir)
        if not folder.is_dir():
            raise EqrError("templates folder not found", key="--templates",
                           found=str(folder))
        folders.append(folder)
    folders.append(paths.templates_dir())
    return folders


def _bytecode_cache(html: bool) -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs in the user's cache folder (``$XDG_CACHE_HOME`` or
    ``~/.cache``, then ``eqr/jinja``): Jinja keys each entry by the template's name and a hash of
    its source, so an edited template is compiled afresh. Compiling every template costs about
    a second per build; without a writable cache folder, templates are simply compiled.
    ``EQR_NO_TEMPLATE_CACHE=1`` turns it off."""
    # one folder per environment: compiled code depends on its options (autoescape for HTML)
    folder = _cache_folder(f"jinja-{jinja2.__version__}-{'html' if html else 'text'}")
    return None if folder is None else jinja2.FileSystemBytecodeCache(str(folder))


#: the most characters one memo file may have (eqr's are about 200,000): a template that
#: writes more is stopped, as is a ``*`` repetition that would build a longer text or list
MAX_MEMO_CHARS = 20_000_000
#: the most bits an integer power may have (``x ** y``): 10 ** 10 ** 10 never finishes
MAX_POWER_BITS = 4096
#: seconds one memo file may take to render (eqr's take well under one); a template that
#: loops for ever is stopped. ``EQR_TEMPLATE_SECONDS`` changes it.
TEMPLATE_SECONDS = 60.0


class _MemoSandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """The sandbox, with ``*`` and ``**`` bounded: a template cannot build a gigabyte of text
    or a number that takes for ever to compute (issue 17)."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: (type, attribute) → Jinja's verdict: a template reads the same few attributes
        #: thousands of times (``key.startswith`` over every output), and the verdict depends
        #: on the object only through its type (``isinstance`` tests) and on the name
        self._safe_attributes: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        kind = type(obj)
        try:
            return self._safe_attributes[kind, attr]
        except KeyError:
            pass
        safe = super().is_safe_attribute(obj, attr, value)
        if obj.__class__ is kind:  # isinstance would also look at a different __class__
            self._safe_attributes[kind, attr] = safe
        return safe

    def is_safe_callable(self, obj: Any) -> bool:
        # a bound built-in method (``str.startswith``) can carry no ``unsafe_callable`` mark
        return type(obj) is BuiltinMethodType or super().is_safe_callable(obj)

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int) \
                        and len(seq) * count > MAX_MEMO_CHARS:
                    raise jinja2.sandbox.SecurityError(
                        f"a repetition of {len(seq):,} × {count:,} items is longer than the "
                        f"{MAX_MEMO_CHARS:,} a memo may have")
        if operator == "**" and isinstance(left, int) and isinstance(right, int) \
                and abs(left) > 1 and right > 0 \
                and right * abs(left).bit_length() > MAX_POWER_BITS:
            raise jinja2.sandbox.SecurityError(
                f"a power with more than {MAX_POWER_BITS} bits is too large")
        return super().call_binop(context, operator, left, right)


class _TemplateTimeout(Exception):
    """A memo template ran longer than :data:`TEMPLATE_SECONDS`."""


@contextlib.contextmanager
def _deadline(seconds: float):
    """Raise :class:`_TemplateTimeout` in the rendering code after ``seconds`` (a timer
    signal; only in the main thread, where signals are delivered — elsewhere no limit)."""
    import signal
    import threading
    if seconds <= 0 or not hasattr(signal, "setitimer") \
            or threading.current_thread() is not threading.main_thread() \
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0:  # someone else's timer runs
        yield
        return

    def expire(signum, frame):
        raise _TemplateTimeout()

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _template_seconds() -> float:
    try:
        return float(os.environ.get("EQR_TEMPLATE_SECONDS", TEMPLATE_SECONDS))
    except ValueError:
        return TEMPLATE_SECONDS


def _bounded_render(template: jinja2.Template, ctx: dict[str, Any]) -> str:
    """Render chunk by chunk, refusing output beyond :data:`MAX_MEMO_CHARS`."""
    parts, size = [], 0
    for chunk in template.generate(**ctx):
        size += len(chunk)
        if size > MAX_MEMO_CHARS:
            raise jinja2.sandbox.SecurityError(
                f"the memo grew beyond {MAX_MEMO_CHARS:,} characters")
        parts.append(chunk)
    return "".join(parts)


def environment(templates_dir: Path | None = None, html: bool = False) -> jinja2.Environment:
    """The memo's Jinja environment: sandboxed and immutable for bundled and ``--templates``
    folders alike, so a template can neither reach Python internals (``cycler.__init__``…)
    nor change a figure another section prints (``o.update(...)``)."""
    env = _MemoSandbox(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(f))
                                    for f in template_folders(templates_dir)]),
        bytecode_cache=_bytecode_cache(html),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(_LOGGED_FILTERS)
    env.filters.update(by_unit=by_unit, fig=fig, range_by_unit=range_by_unit,
                       quarter_label=quarter_label)
    env.tests["startingwith"] = lambda value, prefix: str(value).startswith(prefix)
    return env


def has_template(path: str, templates_dir: Path | None = None) -> bool:
    return any((f / path).is_file() for f in template_folders(templates_dir))


def sections(models: Iterable[str], templates_dir: Path | None = None) -> list[str]:
    """The sections this run's note shows, in :data:`SECTION_ORDER`."""
    models = list(models)
    order = list(SECTION_ORDER)
    unlisted = [m for m in models if m not in order]
    at = order.index(SECTION_BEFORE_UNLISTED)
    order[at:at] = unlisted
    return [s for s in order if (s in models or s in NOTE_SECTIONS)
            and has_template(f"sections/{s}.md.j2", templates_dir)]


def _figures(value: Any, name: str) -> Any:
    """An assumption's number(s) as named figures; text stays text."""
    if isinstance(value, dict):
        return {p: _figures(v, f"{name}.{p}") for p, v in value.items()}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Figure(value, name, "assumption")
    return value


def context(result, outputs: dict[str, float], cells: dict[str, str],
            run_info: dict[str, Any], charts: dict[str, dict] | None = None,
            templates_dir: Path | None = None) -> dict[str, Any]:
    """Everything a template may use: outputs by name, their cells, assumptions, run info."""
    a = result.assumptions
    assumptions = {
        key: {"key": key, "model": it.model, "label": it.label,
              "value": _figures(it.value, key), "unit": it.unit, "source": it.source,
              "cite": citation(it.source),
              "note": it.note, "set_by": it.set_by, "shown": format_by_unit(it.value, it.unit),
              "low": _figures(it.low, f"{key}.low"), "high": _figures(it.high, f"{key}.high"),
              "date": source_date(it.source)}
        for key, it in a.items.items()
    }
    dates = sorted({item["date"] for item in assumptions.values() if item["date"]},
                   key=_date_order)
    paper = run_info.get("paper") or DEFAULT_PAPER
    if paper not in PAPERS:
        raise EqrError("unknown paper size", key="--paper", expected=f"one of {list(PAPERS)}",
                       found=paper)
    shown = run_info.get("sections") or sections(result.specs, templates_dir)
    no_comparison = {"compare": [], "compare_labels": {}, "compare_live": [], "compare_weighted": [],
                     "compare_headlines": []}  # a run built without --compare
    run = {**no_comparison, **run_info, "date": long_date(run_info["created"]),
           "as_of": _as_of(a), "paper": paper,
           "page_size": PAPERS[paper], "source_dates": dates, "sections": shown,
           "key_points": sorted(shown, key=lambda s: (
               KEY_POINTS_FIRST.index(s) if s in KEY_POINTS_FIRST else len(KEY_POINTS_FIRST),
               shown.index(s)))}
    ran = list(result.specs)
    grids = {g["key"]: g for g in grid_info(result)}
    groups = sorted(a.sheets.values(), key=lambda s: (s.model not in ran,
                                                      ran.index(s.model) if s.model in ran
                                                      else 0, s.model))
    sources = [{"model": s.model, "title": s.title, "in_workbook": s.model in ran,
                "items": [assumptions[k] for k in s.assumptions]} for s in groups]
    docs = documents(it for it in a.items.values() if it.model in ran)
    reach = _reaching_target(result)
    key_sources = _key_sources(docs, reach)
    return {"o": _read_only({k: None if v is None else Figure(v, k)
                             for k, v in outputs.items()}),
            "cell": _read_only(cells),
            "a": assumptions, "sources": sources, "charts": charts or {}, "grids": grids,
            "documents": docs, "key_sources": key_sources, "reach_target": sorted(reach),
            "periods": {m: list(s.periods) for m, s in result.specs.items()},
            "sheets": {m: s.title for m, s in result.specs.items()},
            "models": list(result.specs), "run": run}


#: the figure whose inputs make a source "key": the note's headline
KEY_SOURCES_FOR = "valuation.price_target"


def _reaching_target(result) -> frozenset[str]:
    """The assumptions that reach the price target through the branches this run takes."""
    from models.effects import inputs_reaching
    return inputs_reaching(result, KEY_SOURCES_FOR)


def _key_sources(docs: list[dict], reach: frozenset[str]) -> list[dict]:
    """The documents the headline rests on most: ranked by how many of the assumptions that
    reach the price target cite them, then by how many assumptions cite them at all."""
    ranked = sorted(docs, key=lambda d: (-sum(k in reach for k in d["keys"]), -len(d["keys"])))
    return ranked[:KEY_SOURCES]


_MD_BREAKS = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]+")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|~&{}])")


def md_text(text: str) -> str:
    """Text from the inputs, made inert for Markdown: one line (no heading, list or block can
    start), and every character Markdown or inline HTML gives a meaning to backslash-escaped,
    so ``<script>``, ``![x](http://…)``, ``[link](…)``, ``**bold**`` and ``|`` show as typed.

    """
    return _MD_SPECIAL.sub(r"\\\1", _MD_BREAKS.sub(" ", str(text)))


#: fields of an assumption that hold free text from the sheets, overlays or the workbook
_TEXT_FIELDS = ("label", "source", "cite", "note", "set_by", "shown")


def _md_item(item: dict) -> dict:
    out = dict(item)
    for field in _TEXT_FIELDS:
        if isinstance(out.get(field), str):
            out[field] = md_text(out[field])
    if item.get("unit") == "text" and isinstance(item.get("value"), str):
        out["value"] = md_text(item["value"])  # choices and periods are validated names
    return out


def markdown_context(ctx: dict) -> dict:
    """The template context for memo.md: every input-derived text escaped for Markdown (HTML
    gets Jinja's autoescape instead). Figures, names and choices are left as they are."""
    items = {key: _md_item(item) for key, item in ctx["a"].items()}
    sources = [{**group, "title": md_text(group["title"]),
                "items": [items[i["key"]] for i in group["items"]]} for group in ctx["sources"]]
    run = dict(ctx["run"])
    if isinstance(run.get("scenarios"), str):
        run["scenarios"] = md_text(run["scenarios"])
    run["compare_labels"] = {k: md_text(v) for k, v in (run.get("compare_labels") or {}).items()}
    if isinstance(run.get("overrides"), str):  # shown in a code span: one line, no backticks
        run["overrides"] = _MD_BREAKS.sub(" ", run["overrides"]).replace("`", "'")
    def md_docs(docs: list[dict]) -> list[dict]:
        return [{**d, "document": md_text(d["document"])} for d in docs]
    return {**ctx, "a": items, "sources": sources, "run": run,
            "documents": md_docs(ctx.get("documents", [])),
            "key_sources": md_docs(ctx.get("key_sources", [])),
            "sheets": {m: md_text(t) for m, t in ctx["sheets"].items()}}


def _as_of(a) -> str:
    """The note's date: the data's as-of date (``note.as_of``, YYYY-MM-DD), not the clock's."""
    if "note.as_of" not in a.items:
        return ""
    item = a["note.as_of"]
    try:
        if len(str(item.value)) != len("YYYY-MM-DD"):
            raise ValueError(item.value)
        return long_date(str(item.value))
    except ValueError:
        raise EqrError("the note's as-of date is not a date", file=item.file or None,
                       line=item.line, key=item.key, expected="YYYY-MM-DD, e.g. 2026-01-15",
                       found=item.value) from None


def _read_only(mapping: Mapping) -> Mapping:
    """A mapping a template can read but not change (the sandbox refuses ``update`` on dicts
    too; this makes the intent explicit and holds outside the sandbox)."""
    return MappingProxyType(dict(mapping))


def grid_info(result) -> list[dict[str, Any]]:
    """What a template needs to lay out each sensitivity grid; the numbers stay outputs
    (``<grid>.row.<i>``, ``<grid>.col.<j>``, ``<grid>.<i>.<j>``)."""
    from models.grids import all_grids
    from models.workbook import SENSITIVITY

    def axis(a, side: str, key: str) -> dict[str, Any]:
        return {"label": a.label, "unit": a.unit, "name": a.name, "period": a.period,
                "outputs": [None if isinstance(v, str) else f"{key}.{side}.{i}"
                            for i, v in enumerate(a.values)],
                "text": [v if isinstance(v, str) else "" for v in a.values]}

    return [{"key": g.key, "model": g.model, "label": g.label, "period": g.period,
             "sheet": SENSITIVITY, "output": g.output.key, "unit": g.output.unit,
             "rows": axis(g.rows, "row", g.key), "cols": axis(g.cols, "col", g.key)}
            for g in all_grids(result.specs)]


def render(name: str, ctx: dict[str, Any], templates_dir: Path | None = None,
           log: list | None = None) -> str:
    """Render one memo file; figures formatted on the way are appended to ``log``."""
    html = name.endswith(".html")
    env = _cached_environment(templates_dir, html)
    template_name = {**MEMO_TEMPLATES, **SOURCES_TEMPLATES}[name]
    token = _FIGURE_LOG.set(log if log is not None else [])
    try:
        with _deadline(_template_seconds()):
            return _bounded_render(env.get_template(template_name), ctx)
    except _TemplateTimeout as exc:
        file, line = _template_position(exc)
        raise EqrError(f"memo template {template_name} ran longer than "
                       f"{_template_seconds():g} s (a loop without end?)", file=file, line=line,
                       key=None if file else "--templates",
                       hint="eqr's own templates render in well under a second") from None
    except MemoryError:
        raise EqrError(f"memo template {template_name} ran out of memory (a text or list "
                       f"that keeps doubling?)", key="--templates") from None
    except jinja2.UndefinedError as exc:
        file, line = _template_position(exc)
        raise EqrError(f"memo template {template_name} uses a name the run does not "
                       f"have: {exc.message}", file=file, line=line,
                       hint="did a sheet turn a time series into a single value, or drop an "
                            "assumption the memo uses?") from None
    except jinja2.TemplateNotFound as exc:
        raise EqrError("memo template not found", key="--templates", found=str(exc)) from None
    except jinja2.TemplateSyntaxError as exc:
        raise EqrError(f"template syntax error: {exc.message}", file=exc.filename,
                       line=exc.lineno) from None
    except EqrError as exc:  # a filter refused a value (a memo figure that is not a number)
        file, line = _template_position(exc)
        raise EqrError(f"memo template {template_name}: {exc.message}", file=file, line=line,
                       key=exc.key, expected=exc.expected, found=exc.found,
                       hint=exc.hint) from None
    except jinja2.sandbox.SecurityError as exc:
        file, line = _template_position(exc)
        raise EqrError(f"memo template {template_name} tried an unsafe operation (templates "
                       f"are sandboxed: they read figures, they cannot change them or reach "
                       f"Python)", file=file, line=line, key=None if file else "--templates",
                       found=str(exc)[:200]) from None
    except RecursionError:
        raise EqrError(f"memo template {template_name} recursed too deeply (a macro that "
                       f"calls itself without end?)", key="--templates") from None
    except (jinja2.TemplateError, ArithmeticError, LookupError, TypeError,
            ValueError) as exc:
        # a template (bundled or from --templates) doing something impossible at run time
        file, line = _template_position(exc)
        if "NoneType" in str(exc):  # a figure that rests on an `unknown: true` assumption
            unknown = sorted(k for k, v in ctx.get("a", {}).items()
                             if isinstance(v, dict) and v.get("value") is None)
            raise EqrError("the memo uses a figure that rests on an unknown assumption here",
                           file=file, line=line,
                           found=f"unknown: {', '.join(unknown[:4])}" if unknown else None,
                           hint="give the figure a value (in the sheet or with --set)") from None
        raise EqrError(f"memo template {template_name} failed: "
                       f"{exc.__class__.__name__}: {exc}", file=file, line=line) from None
    finally:
        _FIGURE_LOG.reset(token)


_ENVIRONMENTS: dict[tuple[str, bool], jinja2.Environment] = {}


def _cached_environment(templates_dir: Path | None, html: bool) -> jinja2.Environment:
    """One environment per templates folder: Jinja then compiles each template once per process
    (it still reloads a template whose file changed)."""
    folder = Path(templates_dir or paths.templates_dir())
    env = environment(folder, html=html)  # also checks the folder exists
    try:
        key = (str(folder.resolve()), html)
    except OSError:
        return env
    return _ENVIRONMENTS.setdefault(key, env)


def _template_position(exc: BaseException) -> tuple[str | None, int | None]:
    """The template file and line an exception was raised at (Jinja rewrites tracebacks so
    that template frames carry the template's file name and line)."""
    file = line = None
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(".j2"):
            file, line = name, tb.tb_lineno
        tb = tb.tb_next
    if file:
        try:
            file = str(Path(file).resolve().relative_to(Path.cwd().resolve()))
        except (ValueError, OSError):
            pass
    return file, line


def render_all(result, outputs, cells, run_info, templates_dir: Path | None = None,
               charts: dict[str, dict] | None = None,
               figures: list | None = None) -> dict[str, str]:
    """memo.md and memo.html; ``figures`` collects every figure shown (see :func:`figure_index`)."""
    check_templates(template_folders(templates_dir))
    ctx = context(result, outputs, cells, run_info, charts, templates_dir)
    md_ctx = markdown_context(ctx)  # HTML: autoescape
    out = {}
    for name in {**MEMO_TEMPLATES, **SOURCES_TEMPLATES}:
        log: list = []
        out[name] = render(name, md_ctx if name.endswith(".md") else ctx, templates_dir, log)
        for entry in log:
            entry["file"] = name
        if figures is not None:
            figures.extend(log)
    return out


def figure_index(figures: list[dict], cells: dict[str, str]) -> list[dict]:
    """One entry per figure shown: its text, the output (and cell) or assumption, the filter
    that formatted it, and how many times each memo file shows it."""
    index: dict[tuple, dict] = {}
    for f in figures:
        name = f.get("output") or f.get("assumption")
        key = (f["text"], "output" in f, name, f["filter"], tuple(f["args"]),
               f.get("transform", ""))
        entry = index.setdefault(key, {"text": f["text"], **(
            {"output": name, "cell": cells.get(name, "")} if "output" in f
            else {"assumption": name}), "filter": f["filter"], "args": f["args"],
            **({"transform": f["transform"]} if f.get("transform") else {}), "files": {}})
        entry["files"][f["file"]] = entry["files"].get(f["file"], 0) + 1
    return list(index.values())


# --------------------------------------------------------------------------- PDF
def load_weasyprint() -> None:
    """Import WeasyPrint (about half a second), or say what to install. A build's printing
    process calls this before the memo's HTML exists (:mod:`models.printer`), :func:`write_pdf`
    too."""
    try:
        import weasyprint  # noqa: F401
        import weasyprint.urls  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: Pango or HarfBuzz missing
        raise EqrError(f"cannot write the PDF: WeasyPrint is not usable ({exc})",
                       hint="install the package's dependencies (pip install -e .) and "
                            "Pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0), "
                            "or build with --no-pdf") from None


def write_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print ``memo.html`` to ``memo.pdf`` with WeasyPrint (page size, running header and
    footer come from the HTML's print CSS). Only files inside the run folder are read; a
    missing chart or any other resource fails the build instead of leaving an empty box."""
    load_weasyprint()
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError, URLFetcher
    folder = Path(html_path).resolve().parent

    class RunFolderFetcher(URLFetcher):
        """Reads files inside the run folder (and data: URLs); refuses everything else."""

        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            path = Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" else None
            if path is None or folder not in path.parents:
                raise FatalURLFetchingError(f"the memo refers to {url}, outside its run folder")
            if not path.is_file():
                raise FatalURLFetchingError(f"the memo refers to a missing file "
                                            f"{path.relative_to(folder)}")
            return super().fetch(url, headers)

    try:
        HTML(filename=str(html_path), base_url=str(folder) + "/",
             url_fetcher=RunFolderFetcher(allowed_protocols=("file", "data"))
             ).write_pdf(str(pdf_path))
    except FatalURLFetchingError as exc:
        raise EqrError(f"cannot write the PDF: {exc}", file=str(html_path)) from None
