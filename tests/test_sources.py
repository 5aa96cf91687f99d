"""Sources as the reader sees them (issue 13): citations without reference-file keys, the
documents they name, and one list for the note, sources.html and the Sources sheet."""
from types import SimpleNamespace as Item

import openpyxl

from models.sources import analyst_figures, citation, document, documents, reference_keys


def test_citation_drops_the_reference_keys_and_keeps_publisher_document_and_date():
    src = ("Bernstein note; BofA note; Zimubang, Dec 2025: 25% of H200 China sales revenue goes "
           "to the US government (seed-facts policy.h200_levy_rate)")
    assert citation(src) == ("Bernstein note; BofA note; Zimubang, Dec 2025: 25% of H200 China "
                             "sales revenue goes to the US government")
    assert document(src) == "Bernstein note; BofA note; Zimubang, Dec 2025"
    assert reference_keys(src) == ["seed-facts policy.h200_levy_rate"]


def test_a_parenthesis_without_a_reference_key_stays():
    src = "Nvidia Q3 FY2026 (quarter to 26 Oct 2025) diluted shares (public-facts nvda_diluted_shares, C)"
    assert citation(src) == "Nvidia Q3 FY2026 (quarter to 26 Oct 2025) diluted shares"
    assert reference_keys(src) == ["public-facts nvda_diluted_shares"]


def test_documents_group_by_document_rank_by_citations_and_leave_out_analyst_figures():
    items = [Item(key="a.x", source="TechCoffee, Dec 2025: 1M units (seed-facts china.units)"),
             Item(key="a.y", source="TechCoffee, Dec 2025: price (seed-facts chip.h200.price_usd)"),
             Item(key="a.z", source="BofA note, Dec 2025: 28x"),
             Item(key="a.u", source="unknown: no source gives it"),
             Item(key="a.c", source="analyst choice")]
    docs = documents(items)
    assert [d["document"] for d in docs] == ["TechCoffee, Dec 2025", "BofA note, Dec 2025"]
    assert docs[0]["keys"] == ["a.x", "a.y"]
    assert docs[0]["references"] == ["seed-facts china.units", "seed-facts chip.h200.price_usd"]
    assert analyst_figures(items) == ["a.u", "a.c"]


def test_the_sources_sheet_lists_the_documents_the_note_lists(default_run):
    from models.assumptions import resolve
    a = resolve()
    docs = documents(it for it in a.items.values() if it.model != "note")  # note: no sheet
    ws = openpyxl.load_workbook(default_run / "model.xlsx", read_only=True)["Sources"]
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if r and r[0]]
    listed = [r[0] for r in rows[:len(docs)]]
    assert listed == [d["document"] for d in docs]
    assert rows[0][1] == len(docs[0]["keys"])
    key_sources = (default_run / "memo.md").read_text(encoding="utf-8").split("## Key sources")[1]
    assert "TechCoffee, Dec 2025" in key_sources and "seed-facts" not in key_sources
    assert "Source documents" in (default_run / "sources.md").read_text(encoding="utf-8")
