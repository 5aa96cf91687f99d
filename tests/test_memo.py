"""The memo: filters, the no-typed-figure rule, section order, page one, --templates, escaping."""
import json
from pathlib import Path

import pytest

from models import memo, plots
from models.assumptions import resolve, set_value
from models.cli import main
from models.engine import run
from models.memo import (TEMPLATES_DIR, check_templates, eps, mult, pct, pp, sections,
                         source_date, typed_figures, units, usd, usd_bn, usd_m)


# --------------------------------------------------------------------------- filters
@pytest.mark.parametrize("fn, value, expected", [
    (usd_m, 40_000, "$40.0bn"),          # USD m: 40,000m = 40.0bn
    (usd_m, 850, "$850m"),
    (usd_m, -1_260, "−$1.3bn"),
    (usd_bn, 0.5, "$500m"),
    (usd, 40_000, "$40,000"),
    (eps, 0.6248, "$0.62"),
    (pct, 0.45, "45.0%"),
    (pp, 15, "+15.0 pp"),
    (pp, -2.5, "−2.5 pp"),
    (mult, 28, "28.0x"),
    (units, 1_000_000, "1.00M"),
    (units, 300_000, "300k"),
    (units, 950, "950"),
    (usd_m, float("nan"), "n/a"),
    (pct, float("nan"), "n/a"),           # a margin of no revenue: n/a, not 0.0%
    # one sign rule for every kind (issue 13): U+2212 before the figure, none when it rounds
    # to zero, '+' only on signed differences
    (pct, -0.068, "−6.8%"),
    (pct, -0.00004, "0.0%"),
    (mult, -1.5, "−1.5x"),
    (units, -250_000, "−250k"),
    (usd, -40_000, "−$40,000"),
    (eps, -0.004, "$0.00"),
    (pp, 0.01, "0.0 pp"),
])
def test_filters_format_by_hand(fn, value, expected):
    assert fn(value) == expected


@pytest.mark.parametrize("name", sorted(memo.FILTERS))
def test_every_filter_prints_a_negative_with_the_same_minus(name):
    """Money printed '−$1.3bn' while percentages printed '-6.8%': every filter now puts U+2212
    first and never an ASCII hyphen or brackets."""
    text = memo.FILTERS[name](-1234.5678)
    assert text.startswith("\u2212") and "-" not in text and "(" not in text, text


def test_an_unknown_output_prints_as_n_a_and_a_negated_figure_keeps_its_name():
    env = memo.environment()
    o = {"x.gap": None, "x.short": memo.Figure(-250_000.0, "x.short")}
    log = []
    token = memo._FIGURE_LOG.set(log)
    try:
        text = env.from_string('{{ o["x.gap"] | units }} / {{ (-o["x.short"]) | units }}'
                               ).render(o=o)
    finally:
        memo._FIGURE_LOG.reset(token)
    assert text == "n/a / 250k"
    assert log == [{"text": "250k", "output": "x.short", "filter": "units", "args": [],
                    "transform": "neg"}]


def test_a_filter_refuses_text_instead_of_a_number():
    with pytest.raises(memo.EqrError, match="must be a number"):
        usd_m("40bn")


@pytest.mark.parametrize("source, date", [
    ("TechCoffee, Dec 2025: 'million-level' shipments", "Dec 2025"),
    ("Nvidia Q3 FY2026 (quarter to 26 Oct 2025) diluted shares", "26 Oct 2025"),
    ("BIS rule of 2026-01-15", "2026-01-15"),
    ("BofA: ~70% gross margin for FY2027", "FY2027"),
    ("analyst choice", ""),
])
def test_source_date_reads_the_date_a_source_gives(source, date):
    assert source_date(source) == date


# --------------------------------------------------------------------------- typed figures
@pytest.mark.parametrize("text, word", [
    ("<p>Revenue was $40bn in the year.</p>", "40bn"),
    ("- EPS of 0.62 per share", "0.62"),
    ("{{ 40000 | usd }}", "40000"),
    ("{{ 2.5 | pct }}", "2.5"),
    ('{% set rate = "25%" %}{{ rate }}', "25"),
    ('{{ o["china.levy.CY2026"] | usd_m }}', "CY2026"),
    ('<td colspan="4">x</td>', "4"),
    ("| CY2027E | x |", "CY2027E"),
])
def test_the_figure_check_catches_a_typed_figure(text, word):
    found = typed_figures(text, "bad.md.j2")
    assert found and any(word in w for _, w in found), found


def test_the_figure_check_catches_a_figure_in_a_css_string():
    assert typed_figures('@page { @bottom-left { content: "Target $275"; } }', "x.css")
    assert typed_figures("h2 { margin: 6mm 0 2.5mm 0; }", "x.css") == []


@pytest.mark.parametrize("text", [
    "<h2>China H200: the levy</h2>",
    "{{ o[\"china.h200_units.\" ~ p] | units }}",
    "{{ x | pct(0) }} and {{ y | eps }}",
    "{# a comment may say 2026 #}",
    '<meta charset="utf-8">',
    '{% include "sections/" ~ s ~ ".html.j2" %}',
    "{% if x > 0 %}up{% endif %}",
    "{% for i in range(100) %}{% endfor %} H100-equivalents, FP16/BF16 TFLOPS",
])
def test_the_figure_check_allows_names_tags_and_filter_digits(text):
    assert typed_figures(text, "good.html.j2") == []


def test_no_bundled_template_has_a_typed_figure():
    files = [p for p in Path(TEMPLATES_DIR).rglob("*") if p.suffix in (".j2", ".css")]
    assert len(files) >= 8
    for path in files:
        assert typed_figures(path.read_text(encoding="utf-8"), path.name) == [], path
    check_templates([TEMPLATES_DIR])


def test_check_templates_names_the_file_and_line(tmp_path):
    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "china.md.j2").write_text("## China\n\nLevy of $10bn.\n")
    with pytest.raises(memo.EqrError) as err:
        check_templates([tmp_path, TEMPLATES_DIR])
    assert "china.md.j2:3" in str(err.value) and "10bn" in str(err.value)


def test_a_passed_template_is_not_lexed_again_until_it_or_the_rules_change(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("EQR_NO_TEMPLATE_CACHE", raising=False)
    lexed = []
    real = memo.typed_figures
    monkeypatch.setattr(memo, "typed_figures", lambda text, name: lexed.append(name)
                        or real(text, name))
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "a.md.j2").write_text("{{ o[\"x.y\"] | pct }}\n")
    (folder / "b.css").write_text("h2 { margin: 6mm; }\n")
    check_templates([folder])
    check_templates([folder])
    assert lexed == ["a.md.j2", "b.css"]  # the second check found both marks
    (folder / "a.md.j2").write_text("{{ o[\"x.y\"] | pct }} of $10bn\n")
    with pytest.raises(memo.EqrError) as err:  # edited: checked afresh, and refused
        check_templates([folder])
    assert "a.md.j2:1" in str(err.value) and "10bn" in str(err.value)
    (folder / "a.md.j2").write_text("{{ o[\"x.y\"] | pct }}\n")  # back as it passed
    lexed.clear()
    check_templates([folder])
    assert lexed == []
    monkeypatch.setattr(memo, "_checker_fingerprint", lambda: b"other rules")
    check_templates([folder])
    assert lexed == ["a.md.j2", "b.css"]


@pytest.mark.parametrize("setting", ["unwritable", "off"])
def test_without_a_cache_folder_every_template_is_checked(tmp_path, monkeypatch, setting):
    (tmp_path / "file").write_text("")  # a cache "folder" that is a file cannot be created
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    if setting == "off":
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.setenv("EQR_NO_TEMPLATE_CACHE", "1")
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "a.md.j2").write_text("fine\n")
    for _ in range(2):
        check_templates([folder])
    assert not (tmp_path / "cache").exists()
    (folder / "a.md.j2").write_text("Levy of $10bn.\n")
    with pytest.raises(memo.EqrError, match="typed into the template"):
        check_templates([folder])


class _Reading:
    """An object whose ``pop`` is harmless (the sandbox allows it; ``list.pop`` it refuses)."""

    def pop(self) -> str:
        return "read"


def test_the_sandbox_verdict_is_per_type_not_per_attribute_name():
    env = memo.environment()
    template = env.from_string("{{ r.pop() }} {{ s.startswith('a') }}")
    refused = env.from_string("{{ items.pop() }}")
    for _ in range(2):  # the second time from the remembered verdicts
        assert template.render(r=_Reading(), s="abc") == "read True"
        items = [1, 2]
        with pytest.raises(memo.jinja2.sandbox.SecurityError):
            refused.render(items=items)
        assert items == [1, 2]
    d: dict = {}
    with pytest.raises(memo.jinja2.sandbox.SecurityError):
        env.from_string("{{ d.get('a') }}{{ d.update({'a': 1}) }}").render(d=d)
    assert d == {}


# --------------------------------------------------------------------------- structure
def test_sections_follow_the_fixed_order_and_only_those_that_exist(tmp_path):
    folder = tmp_path / "templates" / "sections"
    folder.mkdir(parents=True)
    for name in ("valuation", "depreciation", "newmodel", "blackwell"):
        (folder / f"{name}.md.j2").write_text("x\n")
    models = ["china", "newmodel", "valuation", "depreciation", "nosection"]
    # blackwell has a template but did not run; nosection ran but has no template
    assert sections(models, tmp_path / "templates") == [
        "valuation", "china", "depreciation", "newmodel", "risks"]


@pytest.fixture(scope="module")
def result():
    return run(resolve())


def _ctx(result, extra_outputs=None, a=None, without=()):
    """The templates' context; ``without`` drops models' outputs and sections (a run in which
    those models were not built)."""
    res = run(a) if a is not None else result
    outputs = {k: v for k, v in {**res.outputs, **(extra_outputs or {})}.items()
               if k.split(".")[0] not in without}
    charts = {}
    for chart in plots.charts_for(res, outputs):  # what ChartWriter hands the templates
        plots.plt.close(chart.figure)
        charts[chart.key] = {"svg": "charts/x.svg", "png": "charts/x.png", "title": chart.title,
                             "sheet": chart.sheet, "outputs": chart.outputs}
    info = {"run_id": "r", "created": "2026-01-02T03:04:05+00:00", "scenarios": "",
            "overrides": "", "version": "0",
            "sections": [x for x in sections(res.specs) if x not in without]}
    return memo.context(res, outputs, {}, info, charts)


def test_page_one_without_valuation_outputs_says_so_and_shows_no_target(result):
    for name in memo.MEMO_TEMPLATES:
        text = memo.render(name, _ctx(result, without=("valuation", "scenarios")))
        assert "not rated in this run" in text.lower()
        assert "Price target" not in text
        assert "Buy" not in text.split("Key points")[0]


def test_page_one_with_a_price_target_shows_the_box_with_the_rating_from_data(result):
    extra = {"valuation.price_target": 275.0, "valuation.upside": 0.25}
    for name in memo.MEMO_TEMPLATES:
        text = memo.render(name, _ctx(result, extra))
        front = text.split("Key points")[0]
        assert "$275" in front and "Upside to target" in front and "25.0%" in front
        assert ("**Buy**" in front or '<td class="num">Buy</td>' in front)
        assert "not rated" not in front.lower()
    hold = set_value(resolve(), "note.rating", "Hold", set_by="--set")
    text = memo.render("memo.md", _ctx(result, extra, hold))
    front = text.split("Key points")[0]
    assert "| **Rating** | **Hold** |" in front and "**Buy**" not in front


def test_page_one_under_a_ban_says_there_is_no_china_revenue_not_n_a(result):
    """A run without China H200 revenue (China keeps its ban): the China key point says so in
    words, with the choice that did it; no "n/a or n/a" margins, no "$0.00 of EPS" bullet."""
    ban = set_value(resolve(), "china_market.china_response", "continued_ban", set_by="--set")
    for name in memo.MEMO_TEMPLATES:
        text = memo.render(name, _ctx(result, a=ban))
        points = text.split("Key points")[1].split("Nvidia's earnings")[0]
        assert "No China H200 revenue in CY2026" in points
        assert "continued ban" in points
        assert "n/a" not in points and "of CY2026 EPS is China H200" not in points
        # the China section and the risks say it in words too: no "goes from n/a to n/a",
        # no "takes the $0m of CY2026 customer revenue ... to nil", no "moves ... by n/a"
        china = text.split("China H200: the levy, booked two ways")[1].split("By year")[0]
        assert "No China H200 revenue in CY2026 in this run" in china
        assert "goes from n/a" not in china and "no revenue to divide by" in china
        risks = text.split("Risks")[-1]
        assert "China buys none in CY2026" in risks and "moves nothing in this run" in risks
        assert "to nil" not in risks and "margin by n/a" not in risks
    base = memo.render("memo.md", _ctx(result)).split("Key points")[1]
    assert "No China H200 revenue" not in base and "of CY2026 EPS is China H200" in base
    assert "gross margin goes from" in base and "China buys none" not in base


def test_page_one_comes_first_then_sections_then_sources_and_disclosures(result):
    text = memo.render("memo.md", _ctx(result))
    marks = ["# NVIDIA Corporation (NVDA)", "Rating and price target", "## Key points",
             "## China H200", "## Risks", "## Key sources", "## Disclosures"]
    positions = [text.index(m) for m in marks]
    assert positions == sorted(positions)


def test_a_figure_printed_without_a_filter_fails_the_build(result):
    env = memo.environment()
    template = env.from_string('{{ o["china.asp_usd"] }}')
    with pytest.raises(memo.EqrError, match="china.asp_usd without a formatting filter"):
        template.render(**_ctx(result))
    html = memo.environment(html=True).from_string('{{ a["china.levy_rate"].value }}')
    with pytest.raises(memo.EqrError, match="china.levy_rate without a formatting filter"):
        html.render(**_ctx(result))


def test_every_assumption_is_listed_with_its_source_and_date(result):
    text = memo.render("sources.md", _ctx(result))  # the appendix is a file of its own
    sources = text.split("## Sources and assumptions")[1]
    for key, item in result.assumptions.items.items():
        line = next(ln for ln in sources.splitlines() if f"`{key}`" in ln)
        assert item.source.replace("|", "/") in line
        assert (source_date(item.source) or "undated") in line


# --------------------------------------------------------------------------- builds
def _build(tmp_path, *args):
    out = tmp_path / "run"
    code = main(["build", "--no-pdf", "--out", str(out), *args])
    return code, out


def test_templates_dir_overrides_one_bundled_file_and_keeps_the_rest(tmp_path):
    custom = tmp_path / "custom"
    custom.mkdir()
    text = (TEMPLATES_DIR / "memo.md.j2").read_text(encoding="utf-8")
    (custom / "memo.md.j2").write_text(text.replace(
        "## Key points", '## House view\n\nTarget cell: {{ cell["valuation.price_target"] }}.'),
        encoding="utf-8")
    code, out = _build(tmp_path, "--templates", str(custom))
    assert code == 0
    md = (out / "memo.md").read_text(encoding="utf-8")
    assert "## House view" in md
    assert "<h2>Key points</h2>" in (out / "memo.html").read_text(encoding="utf-8")
    # a template that looks a cell up gets the cell cells.json records
    cells = json.loads((out / "cells.json").read_text(encoding="utf-8"))
    assert f"Target cell: {cells['valuation.price_target']}." in md


def test_a_template_with_a_typed_figure_is_refused_and_nothing_is_written(tmp_path, capsys):
    custom = tmp_path / "custom" / "sections"
    custom.mkdir(parents=True)
    (custom / "china.md.j2").write_text("## China\n\nThe levy is $10.0bn.\n", encoding="utf-8")
    code, out = _build(tmp_path, "--templates", str(tmp_path / "custom"))
    err = capsys.readouterr().err
    assert code == 2 and "figure is typed into the template" in err and "10.0bn" in err
    assert "Traceback" not in err and not out.exists()


def test_a_template_using_an_unknown_output_fails_the_build(tmp_path, capsys):
    custom = tmp_path / "custom" / "sections"
    custom.mkdir(parents=True)
    (custom / "china.md.j2").write_text('{{ o["china.no_such_line"] | usd_m }}\n')
    code, out = _build(tmp_path, "--templates", str(tmp_path / "custom"))
    err = capsys.readouterr().err
    assert code == 2 and "no_such_line" in err and not out.exists()


def test_a_missing_templates_folder_is_a_clear_error(tmp_path, capsys):
    code, _ = _build(tmp_path, "--templates", str(tmp_path / "nowhere"))
    assert code == 2 and "templates folder not found" in capsys.readouterr().err


def test_text_from_an_assumption_sheet_is_escaped_in_html(tmp_path, sheets):
    path = sheets / "china.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('source: "Zimubang, Dec 2025: H200 ~USD',
                                 'source: "<script>alert(1)</script> Zimubang, Dec 2025: H200 ~USD'),
                    encoding="utf-8")
    code, out = _build(tmp_path, "--assumptions", str(sheets))
    assert code == 0
    html = (out / "memo.html").read_text(encoding="utf-8")
    appendix = (out / "sources.html").read_text(encoding="utf-8")  # where every source prints
    assert "<script>" not in html + appendix
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in appendix


def test_figure_index_traces_every_figure_to_an_output_and_cell(tmp_path):
    code, out = _build(tmp_path)
    assert code == 0
    figures = json.loads((out / memo.FIGURES_FILE).read_text())
    outputs = json.loads((out / "outputs.json").read_text())
    cells = json.loads((out / "cells.json").read_text())
    md = (out / "memo.md").read_text(encoding="utf-8")
    assert len(figures) > 50
    for f in figures:
        if "output" in f:
            assert f["output"] in outputs and f["cell"] == cells[f["output"]]
            value = outputs[f["output"]]
            value = {"": value, "neg": -value, "abs": abs(value),
                     "neg abs": -abs(value)}[f.get("transform", "")]
            assert f["text"] == getattr(memo, f["filter"])(value, *f["args"])
        if "memo.md" in f["files"]:
            assert f["text"] in md
