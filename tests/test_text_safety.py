"""Text from assumption sheets and overlays never becomes a formula in Excel or markup in the
memo; scenario names and run ids cannot make paths."""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from xml.etree import ElementTree

import openpyxl
import pytest

from models.assumptions import resolve
from models.cli import main
from models.runs import run_id

# text that spreadsheet programs would run as a formula if it were written as one
FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+EVIL1+1", "-EVIL2+3",
            "@EVIL3(1)", "=cmd|' /C calc'!A0", "=1+1"]
MARKUP = '<script>alert("evil")</script> {{ 7*7 }} {% if true %}x{% endif %} &amp;'
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """A run whose labels, sources and notes (from the sheet and an overlay) are hostile."""
    import shutil
    from models.assumptions import ASSUMPTIONS_DIR
    root = tmp_path_factory.mktemp("hostile")
    sheets = root / "assumptions"
    shutil.copytree(ASSUMPTIONS_DIR, sheets)
    sheet = sheets / "china.yaml"
    text = sheet.read_text()
    text = text.replace("label: H200 average selling price", f"label: {_quote(FORMULAS[0])}")
    text = text.replace("label: Nvidia diluted shares", f"label: {_quote(MARKUP)}")
    text = text.replace('note: "Read from portfoliosavvy.com\'s copy of the filing."',
                        f"note: {_quote(FORMULAS[1])}")
    sheet.write_text(text)
    entries = [f"  china.levy_rate:\n    value: 0.2\n    source: {_quote(FORMULAS[2])}\n"
               f"    note: {_quote(FORMULAS[3])}\n",
               f"  china.tax_rate:\n    value: 0.15\n    source: {_quote(FORMULAS[4])}\n"
               f"    note: {_quote(FORMULAS[5])}\n",
               f"  china.asp_usd:\n    value: 40000\n    source: {_quote(MARKUP)}\n"]
    (sheets / "scenarios" / "hostile.yaml").write_text(
        "description: hostile text\nset:\n" + "".join(entries))
    out = root / "run"
    assert main(["build", "--assumptions", str(sheets), "--scenario", "hostile",
                 "--out", str(out)]) == 0
    return out


def test_hostile_text_is_stored_as_text_cells(hostile_run):
    wb = openpyxl.load_workbook(hostile_run / "model.xlsx")
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value in FORMULAS or cell.value == MARKUP:
                    found[cell.value] = (ws.title, cell.coordinate, cell.data_type)
    assert set(found) == set(FORMULAS) | {MARKUP}, found
    assert {t for _, _, t in found.values()} == {"s"}  # strings, not formulas ("f")


def test_no_formula_in_the_xml_comes_from_text(hostile_run):
    """Read the raw sheet XML: every cell with a formula (<f>) is one the model wrote, and the
    hostile strings are shared strings (t="s")."""
    with zipfile.ZipFile(hostile_run / "model.xlsx") as z:
        shared = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
        strings = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t"))
                   for si in shared.findall("m:si", NS)]
        for payload in FORMULAS + [MARKUP]:
            assert payload in strings
        formulas = 0
        for name in z.namelist():
            if not re.match(r"xl/worksheets/sheet\d+\.xml", name):
                continue
            root = ElementTree.fromstring(z.read(name))
            for c in root.iter(f"{{{NS['m']}}}c"):
                f = c.find("m:f", NS)
                if f is not None:
                    formulas += 1
                    assert "evil" not in (f.text or "").lower(), (name, f.text)
                    assert "cmd|" not in (f.text or "")
                v = c.find("m:v", NS)
                if c.get("t") == "s" and v is not None:
                    assert f is None
        assert formulas > 100


def test_html_memo_escapes_hostile_text(hostile_run):
    # the note and its sources appendix (sources.html), where every source is printed
    html = (hostile_run / "memo.html").read_text() + (hostile_run / "sources.html").read_text()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;evil&#34;)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and "{% if true %}" in html  # printed, never evaluated
    assert "&amp;amp;" in html
    md = (hostile_run / "memo.md").read_text() + (hostile_run / "sources.md").read_text()
    assert "\\{\\{ 7\\*7 \\}\\}" in md  # Markdown shows "{{ 7*7 }}", as typed
    assert "<script>" not in md


def test_manifest_and_outputs_are_valid_json_with_hostile_text(hostile_run):
    import json
    manifest = json.loads((hostile_run / "manifest.json").read_text())
    assert manifest["scenarios"] == ["hostile"]


# --------------------------------------------------------------------------- names and paths
@pytest.mark.parametrize("name", ["../x", "../../etc/passwd", "/etc/passwd", "a/b", "a\\b",
                                  "a\x00b", "x" * 65, "..", ".", "", " ", "=1+1", "+x", "-x",
                                  "@x", "h20_terms\n", "h20_terms/", "ä", "levy_contra.yaml"])
def test_scenario_names_cannot_be_paths_or_formulas(capsys, tmp_path, name):
    code = main(["build", "--no-pdf", "--reports", str(tmp_path / "r"), f"--scenario={name}"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "bad scenario name" in err or "unknown scenario" in err
    assert not (tmp_path / "r").exists()


def test_run_id_is_one_safe_path_component():
    a = resolve()
    a.scenarios = ["../../etc", "/abs", "a\x00b", "x" * 500, "..", "=1+1"]
    a.overrides = ["china.levy_rate=0.2"]
    rid = run_id(a, today=dt.date(2026, 1, 2))
    assert "/" not in rid and "\\" not in rid and "\x00" not in rid and ".." not in rid
    assert re.fullmatch(r"2026-01-02_[A-Za-z0-9_\-+]{1,80}_[0-9a-f]{8}", rid), rid


# --------------------------------------------------------------------------- sandboxed templates
def _templates_with(tmp_path, addition: str):
    """A copy of the bundled templates with ``addition`` appended to the china section."""
    import shutil
    from models.memo import TEMPLATES_DIR
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, folder)
    section = folder / "sections" / "china.md.j2"
    section.write_text(section.read_text() + "\n" + addition + "\n")
    return folder


@pytest.mark.parametrize("payload", [
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ ''.__class__.__mro__ }}",
    "{{ joiner.__init__.__globals__ }}",
])
def test_templates_cannot_reach_python(tmp_path, capsys, payload):
    """Issue 17, case 1: a --templates folder ran arbitrary code (``uid=0(root)`` in memo.md).
    Templates render in Jinja's immutable sandbox: a clear error naming the template, exit 2,
    and no run written."""
    folder = _templates_with(tmp_path, payload)
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--templates", str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "china.md.j2" in err and "unsafe" in err and "Traceback" not in err
    assert not out.exists()


def test_templates_cannot_change_a_figure(tmp_path, capsys):
    """Issue 17, case 2: ``o.update(...)`` in one section tripled the target another section
    printed. The outputs reach templates read-only."""
    folder = _templates_with(
        tmp_path, "{% set _ = o.update({'valuation.price_target': 1}) %}")
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--templates", str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "china.md.j2" in err and "Traceback" not in err
    assert not out.exists()


def test_recursive_template_macro_is_a_clear_error(tmp_path, capsys):
    """Issue 17, case 7: a macro calling itself ended in an internal error."""
    folder = _templates_with(tmp_path, "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")
    assert main(["build", "--no-pdf", "--templates", str(folder),
                 "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "recursed" in err and "Traceback" not in err


# --------------------------------------------------------------------------- inert Markdown
def test_markdown_escape_by_hand():
    from models.memo import md_text
    assert md_text("# Title\nnext") == "\\# Title next"
    assert md_text("<b>*a*</b>") == "\\<b\\>\\*a\\*\\</b\\>"
    assert md_text("![t](http://x)") == "\\!\\[t\\](http://x)"
    assert md_text("a | b_c") == "a \\| b\\_c"


def test_input_text_is_inert_in_memo_md(tmp_path):
    """Issue 17, case 3: a newline opening a heading, raw HTML, a remote image and a link in a
    source, a note and a label reached memo.md as Markdown. They are text now."""
    import shutil
    from models.assumptions import ASSUMPTIONS_DIR
    sheets = tmp_path / "assumptions"
    shutil.copytree(ASSUMPTIONS_DIR, sheets)
    hostile = "x\\n# Pwned heading\\n![img](http://evil.example/p.png) [link](http://evil.example) <script>alert(1)</script>"
    (sheets / "scenarios" / "md.yaml").write_text(
        "description: markdown\nset:\n  china.levy_rate:\n    value: 0.2\n"
        f"    source: \"{hostile}\"\n    note: \"{hostile}\"\n")
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--no-compare", "--assumptions", str(sheets),
                 "--scenario", "md", "--out", str(out)]) == 0
    md = (out / "memo.md").read_text()
    assert "\n# Pwned" not in md and "<script>" not in md
    assert "![img](" not in md and "[link](" not in md
    assert "\\# Pwned heading \\!\\[img\\](http://evil.example/p.png)" in md
