"""Renders the memo (Markdown and HTML) from a run's outputs with Jinja2.

Templates get figures only by output name (``o["china.levy.CY2026"]``) through formatting
filters; ``StrictUndefined`` makes a missing name fail the build instead of printing a blank,
and HTML autoescaping keeps text from assumption sheets from becoming markup.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2

from models.errors import EqrError
from models.paths import default_dir

TEMPLATES_DIR = default_dir("templates")
MEMO_TEMPLATES = {"memo.md": "memo.md.j2", "memo.html": "memo.html.j2"}


# --------------------------------------------------------------------------- filters
def _num(v: Any) -> float:
    if isinstance(v, jinja2.Undefined):
        v._fail_with_undefined_error()
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise EqrError("a memo figure must be a number", found=v)
    return float(v)


def _signed(text: str, v: float) -> str:
    return f"−{text}" if v < 0 else text


def usd_m(v: Any, digits: int = 1) -> str:
    """USD m → '$40.0bn' or '$850m'."""
    x = _num(v)
    if math.isnan(x):
        return "n/a"
    if abs(x) >= 1000:
        return _signed(f"${abs(x) / 1000:,.{digits}f}bn", x)
    return _signed(f"${abs(x):,.0f}m", x)


def usd_bn(v: Any, digits: int = 1) -> str:
    return usd_m(_num(v) * 1000, digits)


def usd(v: Any, digits: int = 0) -> str:
    x = _num(v)
    return _signed(f"${abs(x):,.{digits}f}", x)


def eps(v: Any) -> str:
    return usd(v, 2)


def pct(v: Any, digits: int = 1) -> str:
    return f"{_num(v) * 100:.{digits}f}%"


def pp(v: Any, digits: int = 1) -> str:
    x = _num(v)
    return f"{'+' if x > 0 else '−' if x < 0 else ''}{abs(x):.{digits}f} pp"


def mult(v: Any, digits: int = 1) -> str:
    return f"{_num(v):.{digits}f}x"


def units(v: Any) -> str:
    """1,000,000 → '1.00M'; 300,000 → '300k'; 950 → '950'."""
    x = _num(v)
    if abs(x) >= 1e6:
        return f"{x / 1e6:.2f}M"
    if abs(x) >= 1e4:
        return f"{x / 1e3:,.0f}k"
    return f"{x:,.0f}"


def number(v: Any, digits: int = 2) -> str:
    return f"{_num(v):,.{digits}f}"


GAP_TEXT = "n/a"  # an output that rests on an unknown figure (None in outputs.json)


def _gap_aware(fmt):
    """A filter that prints ``n/a`` for an output that is unknown instead of failing."""
    def wrapped(v: Any, *args, **kwargs) -> str:
        return GAP_TEXT if v is None else fmt(v, *args, **kwargs)
    wrapped.__name__, wrapped.__doc__ = fmt.__name__, fmt.__doc__
    return wrapped


FILTERS = {name: _gap_aware(f) for name, f in {
    "usd_m": usd_m, "usd_bn": usd_bn, "usd": usd, "eps": eps, "pct": pct, "pp": pp,
    "mult": mult, "units": units, "number": number}.items()}


def format_by_unit(value: Any, unit: str) -> str:
    """Format an assumption for the sources table by its unit."""
    if value is None:
        return "unknown"
    if isinstance(value, dict):
        return " / ".join(format_by_unit(v, unit) for v in value.values())
    if isinstance(value, str):
        return value
    table = {"fraction": pct, "USD m": usd_m, "USD bn": usd_bn, "USD per unit": usd,
             "USD": usd, "USD per share": eps, "units": units, "x": mult}
    return table.get(unit, lambda v: f"{_num(v):,.6g}")(value)


# --------------------------------------------------------------------------- environment
def environment(templates_dir: Path | None = None, html: bool = False) -> jinja2.Environment:
    folder = Path(templates_dir or TEMPLATES_DIR)
    if not folder.is_dir():
        raise EqrError("templates folder not found", key="--templates", found=str(folder))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.filters["by_unit"] = format_by_unit
    return env


def context(result, outputs: dict[str, float], cells: dict[str, str],
            run_info: dict[str, Any], charts: dict[str, dict] | None = None) -> dict[str, Any]:
    """Everything a template may use: outputs by name, their cells, assumptions, run info."""
    a = result.assumptions
    assumptions = {
        key: {"key": key, "label": it.label, "value": it.value, "unit": it.unit,
              "source": it.source, "note": it.note, "set_by": it.set_by,
              "shown": format_by_unit(it.value, it.unit)}
        for key, it in a.items.items()
    }
    return {"o": outputs, "cell": cells, "a": assumptions, "charts": charts or {},
            "periods": {m: list(s.periods) for m, s in result.specs.items()},
            "sheets": {m: s.title for m, s in result.specs.items()},
            "run": run_info}


def render(name: str, ctx: dict[str, Any], templates_dir: Path | None = None) -> str:
    html = name.endswith(".html")
    env = _cached_environment(templates_dir, html)
    template_name = MEMO_TEMPLATES[name]
    try:
        return env.get_template(template_name).render(**ctx)
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


_ENVIRONMENTS: dict[tuple[str, bool], jinja2.Environment] = {}


def _cached_environment(templates_dir: Path | None, html: bool) -> jinja2.Environment:
    """One environment per templates folder: Jinja then compiles each template once per process
    (it still reloads a template whose file changed)."""
    folder = Path(templates_dir or TEMPLATES_DIR)
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
               charts: dict[str, dict] | None = None) -> dict[str, str]:
    ctx = context(result, outputs, cells, run_info, charts)
    return {name: render(name, ctx, templates_dir) for name in MEMO_TEMPLATES}
