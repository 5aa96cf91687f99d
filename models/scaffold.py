"""``eqr new model NAME``: the files of a new, working model (docs/adding-a-model.md).

:func:`new_model` writes, under a project folder:

* ``assumptions/NAME.yaml`` — the assumption sheet (placeholder figures, each with a source);
* ``models/NAME.py`` — the model module (:mod:`models.registry`'s protocol: ``TITLE``,
  ``DESCRIPTION``, ``define``, ``validate``), which the registry discovers: no list to edit;
* ``models/plots/NAME.py`` — one chart for the memo;
* ``templates/sections/NAME.md.j2`` and ``.html.j2`` — the model's section of the note;
* ``tests/test_NAME.py`` — a worked example the model must reproduce.

The placeholder model: revenue (an input per period), a gross margin (one input), gross profit
and cost of revenue as rows, and a check that they add back to revenue. Every file is rendered
in memory and checked before the first is written; a file that exists already is never
overwritten, and if one write fails the files already written are removed again, so the
command leaves all of them or none.
"""
from __future__ import annotations

import keyword
import re
from pathlib import Path

from models.errors import EqrError
from models.newfile import write_new
from models.paths import PROJECT_ROOT

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
MAX_NAME = 31  # the model's workbook sheet is named after it: Excel allows 31 characters
#: workbook sheets and note sections that are not models (Excel compares sheet names
#: ignoring case)
RESERVED = frozenset({"inputs", "sensitivity", "checks", "cover", "scenarios", "note", "risks",
                      "plots"})


def files_for(name: str) -> dict[str, str]:
    """Each file of model ``name`` (a path relative to the project folder) → its text."""
    title = name.replace("_", " ").capitalize()
    fill = {"name": name, "title": title}
    return {f"assumptions/{name}.yaml": SHEET.format(**fill),
            f"models/{name}.py": MODULE.format(**fill),
            f"models/plots/{name}.py": CHART.format(**fill),
            f"templates/sections/{name}.md.j2": SECTION_MD.format(**fill),
            f"templates/sections/{name}.html.j2": SECTION_HTML.format(**fill),
            f"tests/test_{name}.py": TEST.format(**fill)}


def check_name(name: str, root: Path) -> None:
    """A new model's name: a lower-case Python identifier that no module, sheet or workbook
    sheet of the project uses yet."""
    problem = None
    if not NAME_PATTERN.fullmatch(name) or keyword.iskeyword(name):
        problem = "a lower-case Python identifier: a letter, then letters, digits and _"
    elif len(name) > MAX_NAME:
        problem = f"at most {MAX_NAME} characters (it names a workbook sheet)"
    elif name in RESERVED:
        problem = f"a name not taken by the workbook or the note ({', '.join(sorted(RESERVED))})"
    elif (root / "models" / f"{name}.py").exists():
        problem = f"a name no module has (models/{name}.py exists)"
    elif (root / "models" / name).exists():
        problem = f"a name no module has (models/{name}/ exists)"
    elif (root / "assumptions" / f"{name}.yaml").exists():
        problem = f"a name no assumption sheet has (assumptions/{name}.yaml exists)"
    if problem:
        raise EqrError("bad model name", key="NAME", expected=problem, found=name)
    taken = [rel for rel in files_for(name) if (root / rel).exists() or (root / rel).is_symlink()]
    if taken:
        raise EqrError("the new model's files exist already", file=str(root / taken[0]),
                       expected="a model name whose files are all new",
                       found=", ".join(taken), hint="earlier files are never overwritten")
    missing = sorted({str(Path(rel).parent) for rel in files_for(name)
                      if not (root / rel).parent.is_dir()})
    if missing:
        raise EqrError("not a project folder", file=str(root),
                       expected=f"the folders {', '.join(missing)}")


def new_model(name: str, root: Path | None = None) -> list[Path]:
    """Write model ``name``'s files under ``root`` (default: the project); return their paths."""
    root = Path(root) if root is not None else PROJECT_ROOT
    check_name(name, root)
    written: list[Path] = []
    try:
        for rel, text in files_for(name).items():
            written.append(write_new(root / rel, text, what=f"{rel}"))
    except BaseException:
        for path in written:  # all or nothing
            path.unlink(missing_ok=True)
        raise
    return written


# =========================================================================== the files
SHEET = """\
# {title} (model `{name}`): the assumption sheet. Every business figure of the model lives
# here with its unit and source; models/{name}.py holds only formulas. Placeholder figures:
# replace each value and source with a real one (docs/adding-a-model.md).
model: {name}
title: {title}
periods: [FY2026, FY2027, FY2028]
assumptions:
  revenue:
    label: Revenue
    unit: USD m
    value: {{FY2026: 1000, FY2027: 1200, FY2028: 1400}}
    bounds: [0, null]
    source: "placeholder: replace with the source of each figure"
  gross_margin:
    label: Gross margin
    unit: fraction
    value: 0.6
    bounds: [0, 1]
    low: 0.5
    high: 0.7
    source: "placeholder: replace with the source of the figure"
"""

MODULE = '''\
"""{title}: gross profit from revenue and a gross margin.

Defined as::

    gross_profit    = revenue × gross_margin
    cost_of_revenue = revenue × (1 − gross_margin)
    check           = gross_profit + cost_of_revenue − revenue   (zero in every period)

Units: USD m; the margin is a fraction. Inputs: assumptions/{name}.yaml.
"""
from __future__ import annotations

from models.errors import EqrError
from models.lineitems import ModelBuilder

TITLE = "{title}"
DESCRIPTION = "Gross profit and cost of revenue from revenue and a gross margin (USD m)."

#: rows ``eqr diff`` explains first
HEADLINES = ("gross_profit",)


def define(m: ModelBuilder) -> None:
    m.section("Inputs (linked from the Inputs sheet)")
    revenue = m.input("revenue", unit="USD m", series=True)
    margin = m.input("gross_margin", unit="fraction", series=False)

    m.section("Gross profit")
    gross_profit = m.row("gross_profit", "Gross profit", "USD m", revenue * margin)
    cost = m.row("cost_of_revenue", "Cost of revenue", "USD m", revenue * (1 - margin))

    m.check("gross_profit_adds_up", "Gross profit + cost of revenue − revenue",
            gross_profit + cost - revenue)


def validate(a) -> None:
    """Checks beyond units and bounds, run before anything is written."""
    item = a["{name}.gross_margin"]
    if item.value is not None and item.value >= 1:
        raise EqrError("a gross margin of 100% or more leaves no cost of revenue",
                       file=item.file or None, line=item.line, key=item.key,
                       expected="a fraction below 1", found=item.value)
'''

CHART = '''\
"""{title} chart: revenue and gross profit by period (figures from outputs.json only)."""
from __future__ import annotations

import numpy as np

from models.plots import PALETTE, Chart, new_figure


def charts(result, outputs):
    periods = list(result.specs["{name}"].periods)
    names = {{item: [f"{name}.{{item}}.{{p}}" for p in periods]
             for item in ("revenue", "gross_profit")}}
    fig, ax = new_figure(6.4, 2.8)
    x = np.arange(len(periods))
    for (item, label), colour in zip((("revenue", "Revenue"), ("gross_profit", "Gross profit")),
                                     PALETTE):
        ax.plot(x, [outputs[k] for k in names[item]], "o-", color=colour, label=label)
    ax.set_xticks(x, periods)
    ax.set_ylabel("USD m")
    ax.legend(frameon=False, fontsize=7)
    ax.set_title("{title}: revenue and gross profit")
    return [Chart("{name}", "gross_profit", "Revenue and gross profit", "{name}", fig,
                  names["revenue"] + names["gross_profit"])]
'''

# Literal template text holds no digit (models.memo.typed_figures): the model's name is a
# string inside an expression, figures come from outputs through a filter.
SECTION_MD = '''\
{{% set m, sheet = "{name}.", "{name}" %}}
{{% set P = periods[sheet] %}}
## {{{{ sheets[sheet] }}}} (sheet `{{{{ sheet }}}}`)

Gross profit is revenue × the gross margin of {{{{ o[m ~ "gross_margin"] | pct }}}}.

| Line item, USD m | {{% for p in P %}}{{{{ p }}}} | {{% endfor %}}

|---|{{% for p in P %}}---:|{{% endfor %}}

{{% for item, label in [("revenue", "Revenue"), ("gross_profit", "Gross profit"), ("cost_of_revenue", "Cost of revenue")] %}}
| {{{{ label }}}} | {{% for p in P %}}{{{{ o[m ~ item ~ "." ~ p] | usd_m }}}} | {{% endfor %}}

{{% endfor %}}

{{% set chart = charts[m ~ "gross_profit"] %}}
![{{{{ chart.title }}}}]({{{{ chart.png }}}})

*Chart: {{{{ chart.title }}}}. Source: sheet `{{{{ chart.sheet }}}}`; USD m.*
'''

SECTION_HTML = '''\
{{% set m, sheet = "{name}.", "{name}" %}}
{{% set P = periods[sheet] %}}
<section class="model" id="{{{{ sheet }}}}">
<h2>{{{{ sheets[sheet] }}}}</h2>
<p class="from">Sheet <code>{{{{ sheet }}}}</code></p>
<p>Gross profit is revenue × the gross margin of {{{{ o[m ~ "gross_margin"] | pct }}}}.</p>
<table>
<thead><tr><th>Line item, USD m</th>{{% for p in P %}}<th class="num">{{{{ p }}}}</th>{{% endfor %}}</tr></thead>
<tbody>
{{% for item, label in [("revenue", "Revenue"), ("gross_profit", "Gross profit"), ("cost_of_revenue", "Cost of revenue")] %}}
<tr><td>{{{{ label }}}}</td>{{% for p in P %}}<td class="num">{{{{ o[m ~ item ~ "." ~ p] | usd_m }}}}</td>{{% endfor %}}</tr>
{{% endfor %}}
</tbody>
</table>
{{% set chart = charts[m ~ "gross_profit"] %}}
<figure>
<img src="{{{{ chart.svg }}}}" alt="{{{{ chart.title }}}}">
<figcaption>{{{{ chart.title }}}}. Source: sheet <code>{{{{ chart.sheet }}}}</code>; USD m.</figcaption>
</figure>
</section>
'''

TEST = '''\
"""{title}: the model reproduces a worked example (written by ``eqr new model``; replace the
example with one from the model's sources when the placeholder figures are replaced)."""
import pytest

from models import engine
from models.assumptions import set_value


def test_gross_profit_is_revenue_times_margin(base):
    """Revenue 2,000 at a 45% margin: gross profit 2,000 × 0.45 = 900, cost of revenue
    2,000 − 900 = 1,100, and the check row is zero."""
    periods = base.periods("{name}")
    a = set_value(base, "{name}.gross_margin", 0.45, set_by="test")
    for p in periods:  # a time series is set one period at a time
        a = set_value(a, f"{name}.revenue.{{p}}", 2000, set_by="test")
    o = engine.run(a).line_outputs
    for p in periods:
        assert o[f"{name}.gross_profit.{{p}}"] == pytest.approx(900)
        assert o[f"{name}.cost_of_revenue.{{p}}"] == pytest.approx(1100)
        assert o[f"{name}.gross_profit_adds_up.{{p}}"] == pytest.approx(0, abs=1e-9)
'''
