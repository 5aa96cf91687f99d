"""A rerun with one changed assumption changes every affected figure in memo.md, memo.html and
memo.pdf (text read back from the PDF), and nothing else.

Two runs are built: the base case and ``--set china.asp_usd=30000``. For each of the three
files the words that differ between the runs are compared against the figure index
(``memo_figures.json``: each figure shown, with the output it renders): every word added or
removed must be a rendering of an output (or assumption) whose value changed, or part of the
run's identity (run id, build time, the override itself, who set the assumption); and every
figure shown whose value changed must show its new rendering in place of the old one.
"""
import json
import re
from collections import Counter
from html import unescape
from html.parser import HTMLParser

import pytest

from models import plots
from models.assumptions import resolve
from models.cli import main
from models.engine import run
from models.memo import FIGURES_FILE, long_date

pypdf = pytest.importorskip("pypdf")

CHANGE = "china.asp_usd=30000"
PUNCT = "()[]{}.,;:*|`'\"“”"


class _Text(HTMLParser):
    """The text of an HTML page, one space between elements, without <style> and <head>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "head")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "head")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def pdf_text(path) -> str:
    return "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(str(path)).pages)


def tokens(text: str) -> list[str]:
    """Words, split at spaces, hyphens, dashes and slashes (a PDF line may break there)."""
    return [w.strip(PUNCT) for w in re.split(r"[\s\-–/]+", text) if w.strip(PUNCT)]


def build(root, *args):
    out = root / "run"
    assert main(["build", "--out", str(out), *args]) == 0
    files = {"memo.md": (out / "memo.md").read_text(encoding="utf-8"),
             "memo.html": html_text((out / "memo.html").read_text(encoding="utf-8")),
             "memo.pdf": pdf_text(out / "memo.pdf")}
    return {"dir": out, "text": files,
            "outputs": json.loads((out / "outputs.json").read_text()),
            "manifest": json.loads((out / "manifest.json").read_text()),
            "figures": json.loads((out / FIGURES_FILE).read_text())}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = build(tmp_path_factory.mktemp("base"))
    changed = build(tmp_path_factory.mktemp("changed"), "--set", CHANGE)
    return base, changed


def _same(x, y):
    return x == y or (x != x and y != y)  # NaN == NaN here


def changed_names(base, new):
    outputs = {k for k in base["outputs"] if not _same(base["outputs"][k], new["outputs"][k])}
    b, n = base["manifest"]["resolved_assumptions"], new["manifest"]["resolved_assumptions"]
    assumptions = {k for k in b if b[k] != n[k]}
    return outputs, assumptions


def _name(figure):
    return figure.get("output") or figure.get("assumption")


def _is_changed(figure, outputs, assumptions):
    return figure.get("output") in outputs or figure.get("assumption") in assumptions


def _files(figure):
    """The files a figure shows in: memo.pdf is memo.html printed."""
    files = {name for name, n in figure["files"].items() if n}
    return files | ({"memo.pdf"} if "memo.html" in files else set())


def chart_words(run_dir) -> Counter:
    """The words of the charts the PDF draws (their SVGs' text: axis ticks, labels, titles):
    the PDF shows them as text, and they change with the data a chart plots."""
    words = Counter()
    for svg in sorted((run_dir / "charts").glob("*.svg")):
        for text in re.findall(r"<text[^>]*>([^<]*)</text>", svg.read_text(encoding="utf-8")):
            words.update(tokens(unescape(text)))
    return words


def run_identity(*runs_):
    words = set()
    for r in runs_:
        m = r["manifest"]
        words.update(tokens(" ".join([m["run_id"], m["created"], long_date(m["created"]),
                                      " ".join(m["overrides"])])))
    words.update(tokens(f"--set {CHANGE} none"))  # 'overrides: none' in the base run
    words.update(tokens(" ".join(f["path"] for f in runs_[0]["manifest"]["assumption_files"])))
    return words


def test_the_change_reaches_outputs_and_the_memo(runs):
    base, new = runs
    outputs, assumptions = changed_names(base, new)
    assert assumptions == {"china.asp_usd"}
    assert {"china.customer_revenue.CY2026", "china.levy.CY2026",
            "china.eps_contribution.CY2026"} <= outputs
    shown = [f for f in base["figures"] if _is_changed(f, outputs, assumptions)]
    assert len(shown) > 20


def unexplained(base, new, file):
    """Words added or removed in ``file`` that are neither a changed figure nor run identity."""
    outputs, assumptions = changed_names(base, new)
    identity = run_identity(base, new)
    allowed = {
        "old": {w for f in base["figures"] if _is_changed(f, outputs, assumptions)
                and file in _files(f) for w in tokens(f["text"])},
        "new": {w for f in new["figures"] if _is_changed(f, outputs, assumptions)
                and file in _files(f) for w in tokens(f["text"])},
    }
    if file == "memo.pdf":  # the charts' own text (axis ticks, labels) prints as text
        old_charts, new_charts = chart_words(base["dir"]), chart_words(new["dir"])
        allowed["new"] |= set(new_charts - old_charts)
        allowed["old"] |= set(old_charts - new_charts)
    old, now = Counter(tokens(base["text"][file])), Counter(tokens(new["text"][file]))
    removed, added = old - now, now - old
    assert added, "the rerun changed nothing in " + file
    return ([w for w in added if w not in allowed["new"] and w not in identity],
            [w for w in removed if w not in allowed["old"] and w not in identity])


@pytest.mark.parametrize("file", ["memo.md", "memo.html", "memo.pdf"])
def test_only_figures_of_changed_outputs_change(runs, file):
    base, new = runs
    assert unexplained(base, new, file) == ([], [])


def test_the_check_catches_a_figure_that_bypasses_the_index():
    """A figure printed without the index (here 40000.0) is reported when it changes."""
    def fake(value, text):
        return {"text": {"memo.md": text}, "outputs": {"china.asp_usd": value},
                "manifest": {"resolved_assumptions": {"china.asp_usd": value}, "run_id": "r",
                             "created": "2026-01-02T00:00:00", "overrides": [],
                             "assumption_files": []},
                "figures": [{"text": f"${value:,.0f}", "output": "china.asp_usd",
                             "filter": "usd", "args": [], "files": {"memo.md": 1}}]}
    base = fake(40000.0, "ASP $40,000 (raw 40000.0) and a levy of 25%")
    new = fake(30000.0, "ASP $30,000 (raw 30000.0) and a levy of 20%")
    assert unexplained(base, new, "memo.md") == (["30000.0", "20%"], ["40000.0", "25%"])


def shown(figures, file):
    """How many times each word of a figure shows in ``file`` (memo.pdf counts as memo.html)."""
    counts = Counter()
    for f in figures:
        n = f["files"].get("memo.html" if file == "memo.pdf" else file, 0)
        for w in tokens(f["text"]):
            counts[w] += n
    return counts


@pytest.mark.parametrize("file", ["memo.md", "memo.html", "memo.pdf"])
def test_every_changed_figure_shown_changes(runs, file):
    """Exact accounting: for each word of a changed figure, the file shows it as many times
    more (or fewer) as the figure index says the figures using it moved."""
    base, new = runs
    outputs, assumptions = changed_names(base, new)
    old, now = Counter(tokens(base["text"][file])), Counter(tokens(new["text"][file]))
    expected_old, expected_new = shown(base["figures"], file), shown(new["figures"], file)
    words = {w for r in (base, new) for f in r["figures"]
             if _is_changed(f, outputs, assumptions) and file in _files(f)
             for w in tokens(f["text"])}
    moved = [w for w in words if expected_new[w] != expected_old[w]]
    assert len(moved) > 10
    for w in words:
        assert now[w] - old[w] == expected_new[w] - expected_old[w], \
            f"{w!r}: {old[w]} → {now[w]} times in {file}; the figures say " \
            f"{expected_old[w]} → {expected_new[w]}"
    for f in new["figures"]:  # and the new renderings are all there
        if _is_changed(f, outputs, assumptions) and file in _files(f):
            assert all(now[w] > 0 for w in tokens(f["text"])), (_name(f), f["text"])


def test_charts_change_exactly_when_an_output_they_plot_changes(runs):
    base, new = runs
    outputs, _ = changed_names(base, new)
    charts = plots.charts_for(run(resolve()), base["outputs"])
    assert charts
    for chart in charts:
        plots.plt.close(chart.figure)
        stem = chart.key.replace(".", "_")
        before = (base["dir"] / "charts" / f"{stem}.svg").read_bytes()
        after = (new["dir"] / "charts" / f"{stem}.svg").read_bytes()
        assert (before != after) == bool(set(chart.outputs) & outputs), chart.key
