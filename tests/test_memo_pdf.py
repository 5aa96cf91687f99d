"""memo.pdf: page numbers, running header, paper sizes, CJK font, tables across pages."""
import logging
import re
import shutil

import pytest

from models import memo
from models.cli import main
from models.errors import EqrError

pypdf = pytest.importorskip("pypdf")
weasyprint = pytest.importorskip("weasyprint")
from weasyprint.formatting_structure import boxes  # noqa: E402

CJK = re.compile(r"[\u4e00-\u9fff]")
POINTS = {"a4": (595.3, 841.9), "letter": (612.0, 792.0)}  # ISO 216 / ANSI, in PostScript points


@pytest.fixture(scope="module", params=["a4", "letter"])
def run_dir(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"pdf-{request.param}") / "run"
    assert main(["build", "--out", str(out), "--paper", request.param]) == 0
    return out, request.param


def page_texts(pdf):
    return [p.extract_text() or "" for p in pypdf.PdfReader(str(pdf)).pages]


def font_names(pdf):
    names = set()
    for page in pypdf.PdfReader(str(pdf)).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.get_object().values():
            font = ref.get_object()
            names.add(str(font["/BaseFont"]))
            for desc in font.get("/DescendantFonts", []):
                names.add(str(desc.get_object()["/BaseFont"]))
    return names


def test_build_writes_the_pdf_by_default_with_the_paper_asked_for(run_dir):
    out, paper = run_dir
    reader = pypdf.PdfReader(str(out / "memo.pdf"))
    assert len(reader.pages) >= 3
    for page in reader.pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert (w, h) == pytest.approx(POINTS[paper], abs=0.5)
    assert f"size: {memo.PAPERS[paper]};" in (out / "memo.html").read_text(encoding="utf-8")


def test_every_page_is_numbered_and_carries_the_running_footer(run_dir):
    out, _ = run_dir
    texts = page_texts(out / "memo.pdf")
    n = len(texts)
    for i, text in enumerate(texts, start=1):
        assert f"Page {i} of {n}" in text
        assert "not investment advice" in text
    for text in texts[1:]:  # running header from page two (page one has the masthead)
        assert "NVIDIA Corporation (NVDA)" in text


def test_chinese_names_from_the_note_sheet_print_in_a_cjk_font(run_dir):
    out, _ = run_dir
    text = "".join(page_texts(out / "memo.pdf"))
    flat = re.sub(r"\s+", "", text)
    for name in ("华为", "寒武纪", "昆仑芯"):  # read back from the PDF, values of note.zh_*
        assert name in flat
    assert CJK.search(text)
    assert any("CJK" in f for f in font_names(out / "memo.pdf")), font_names(out / "memo.pdf")


def test_a_pdf_without_chinese_text_needs_no_cjk_font(tmp_path):
    html = tmp_path / "memo.html"
    html.write_text("<html><body><p>Latin only</p></body></html>", encoding="utf-8")
    memo.write_pdf(html, tmp_path / "memo.pdf")
    assert not any("CJK" in f for f in font_names(tmp_path / "memo.pdf"))


def _layout(html_path):
    return weasyprint.HTML(filename=str(html_path), base_url=str(html_path.parent) + "/").render()


def table_pages(document):
    """For each table element: whether it has a <thead>, and per page (header shown, rows)."""
    seen = {}
    for i, page in enumerate(document.pages):
        for box in page._page_box.descendants():
            if isinstance(box, boxes.TableBox):
                thead = box.element.find("thead")
                head_rows = {id(tr) for tr in thead.iter("tr")} if thead is not None else set()
                shown = any(g.is_header for g in box.children)
                rows = [r.element for g in box.children for r in g.children
                        if id(r.element) not in head_rows]
                entry = seen.setdefault(id(box.element), {"thead": thead is not None,
                                                          "pages": {}})
                entry["pages"][i] = (shown, rows)
    return seen


def assert_tables_print_well(document):
    """Rows are never split across pages; a table with a <thead> shows it on every page
    where it has rows. Returns how many tables span more than one page."""
    spanning = 0
    for table in table_pages(document).values():
        row_pages = {}
        for i, (shown, rows) in table["pages"].items():
            if rows and table["thead"]:
                assert shown, f"a table has rows on page {i + 1} without its header row"
            for row in rows:
                row_pages.setdefault(id(row), set()).add(i)
        split = [r for r, ps in row_pages.items() if len(ps) > 1]
        assert not split, "a table row is split across pages"
        spanning += len(table["pages"]) > 1
    return spanning


def test_memo_tables_repeat_headers_and_keep_rows_whole(run_dir):
    out, _ = run_dir
    document = _layout(out / "memo.html")
    assert_tables_print_well(document)
    # the sources appendix (sources.html, printable on its own): a time series' values (row
    # "series") print on the page of the assumption's own row
    appendix = _layout(out / "sources.html")
    assert_tables_print_well(appendix)
    pages, order = {}, []
    for i, page in enumerate(appendix.pages):
        for box in page._page_box.descendants():
            if isinstance(box, boxes.TableRowBox):
                if id(box.element) not in pages:
                    order.append(box.element)
                pages.setdefault(id(box.element), set()).add(i)
    pairs = [(a, b) for a, b in zip(order, order[1:]) if b.get("class") == "series"]
    assert pairs and all(a.get("class") == "has-series" for a, _ in pairs)
    assert all(pages[id(a)] == pages[id(b)] for a, b in pairs)


def test_a_long_table_repeats_its_header_on_every_page(tmp_path):
    """The print CSS on a table four pages long, with multi-line cells that must not split."""
    css = (memo.TEMPLATES_DIR / "print.css").read_text(encoding="utf-8")
    rows = "".join(f"<tr><td>row {i}</td><td>{'a long source text ' * (i % 5 + 1)}</td></tr>"
                   for i in range(220))
    html = tmp_path / "long.html"
    html.write_text(f"<html><head><style>{css}</style></head><body><table><thead><tr>"
                    f"<th>Item</th><th>Source</th></tr></thead><tbody>{rows}</tbody></table>"
                    "</body></html>", encoding="utf-8")
    document = _layout(html)
    assert len(document.pages) >= 3
    assert assert_tables_print_well(document) == 1
    memo.write_pdf(html, tmp_path / "long.pdf")
    for text in page_texts(tmp_path / "long.pdf"):
        assert "Item Source" in text


def test_the_memo_prints_without_weasyprint_warnings(run_dir, caplog):
    out, _ = run_dir
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        memo.write_pdf(out / "memo.html", out / "again.pdf")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []


def test_charts_are_drawn_from_svg_in_the_pdf(run_dir):
    out, _ = run_dir
    html = (out / "memo.html").read_text(encoding="utf-8")
    assert re.search(r'<img src="charts/[a-z_]+\.svg"', html)
    md = (out / "memo.md").read_text(encoding="utf-8")
    for png in re.findall(r"\]\((charts/[a-z_]+\.png)\)", md):
        assert (out / png).is_file()


def test_the_pdf_refuses_files_outside_the_run_folder_and_missing_charts(tmp_path):
    (tmp_path / "run").mkdir()
    outside = tmp_path / "secret.svg"
    shutil.copy(memo.TEMPLATES_DIR / "print.css", outside)
    for src, message in (("../secret.svg", "outside its run folder"),
                         ("charts/missing.svg", "missing file"),
                         ("http://example.com/x.svg", "outside its run folder")):
        html = tmp_path / "run" / "memo.html"
        html.write_text(f'<html><body><img src="{src}"></body></html>', encoding="utf-8")
        with pytest.raises(EqrError, match=message):
            memo.write_pdf(html, tmp_path / "run" / "memo.pdf")
        assert not (tmp_path / "run" / "memo.pdf").exists()


# ---------------------------------------------------------------- issue 13: a note to send
#: a figure as the note prints it: money, shares, multiples, units, percentages, points
FIGURE = re.compile(r"[−+-]?\$[\d,]+(?:\.\d+)?(?:bn|m)?|[−+-]?\d[\d,]*(?:\.\d+)?(?:%| pp|x\b|M\b|k\b)")


def test_the_note_is_at_most_twelve_pages_on_both_papers(run_dir):
    out, paper = run_dir
    assert len(pypdf.PdfReader(str(out / "memo.pdf")).pages) <= 12, paper


def test_page_one_names_every_topic_and_the_as_of_date(run_dir):
    out, _ = run_dir
    first = " ".join(page_texts(out / "memo.pdf")[0].split())
    for topic in ("Blackwell", "depreciation", "China", "H200", "levy", "EPS", "Price target"):
        assert topic in first, topic
    assert "21 May 2026 (data as of)" in first  # note.as_of, not the build's clock
    assert (out / "sources.html").is_file() and (out / "sources.md").is_file()


def test_every_figure_on_page_one_is_an_output_rendered_with_the_notes_rounding(run_dir):
    """Each number-like token on page one is the text of a figure the templates formatted from
    an output or assumption (memo_figures.json), so none is typed or rounded twice."""
    import json
    out, _ = run_dir
    page = " ".join(page_texts(out / "memo.pdf")[0].split())
    first = re.split(r"Run \d{4}-\d\d-\d\d_", page)[0]  # the front: box and key points
    shown = {f["text"] for f in json.loads((out / memo.FIGURES_FILE).read_text())
             if "memo.html" in f["files"]}
    tokens = FIGURE.findall(first)
    assert len(tokens) >= 15
    stray = [t for t in tokens if t not in shown and t.lstrip("+−-") not in shown]
    assert not stray, stray
    outputs = json.loads((out / "outputs.json").read_text())
    assert memo.price(outputs["valuation.price_target"]) in first  # one rounding: $299.57
    assert memo.pct(outputs["valuation.upside"]) in first
