"""Sources as a reader sees them: the citation (publisher, document, date) apart from the
reference-file keys that trace it (``seed-facts policy.h200_levy_rate``), and the list of
distinct source documents with the assumptions that cite each.

Pure functions over source texts; the note (key sources), ``sources.html`` and the workbook's
Sources sheet all read :func:`documents`, so the three lists cannot differ.
"""
from __future__ import annotations

import re
from typing import Iterable

#: the reference files under shared/reference whose keys the sheets cite
REFERENCE_FILES = ("seed-facts", "public-facts", "nvda-financials")
_FILES = "|".join(re.escape(f) for f in REFERENCE_FILES)
#: a parenthesis that cites a reference file, e.g. "(seed-facts chip.h200.price_usd)"
_REF_GROUP = re.compile(rf"\s*\((?=[^()]*\b(?:{_FILES})\b)[^()]*\)")
#: one reference: the file and the key after it
_REF = re.compile(rf"\b({_FILES})\s+([A-Za-z0-9_.\-]+[A-Za-z0-9_])")
#: sources that are not documents: the analyst's own figures
NOT_A_DOCUMENT = ("unknown", "analyst", "derived", "as calib_", "as ")


def citation(source: str | None) -> str:
    """The source as the note cites it: the text without its reference-file keys."""
    text = _REF_GROUP.sub("", str(source or "")).strip()
    return re.sub(r"\s{2,}", " ", text).rstrip(" ;,")


def reference_keys(source: str | None) -> list[str]:
    """The reference-file keys a source cites, as ``file key`` (``seed-facts chip.h200.tpp``)."""
    return [f"{file} {key}" for file, key in _REF.findall(str(source or ""))]


def document(source: str | None) -> str:
    """The document a source names: its citation up to the first colon (publisher and date:
    "Bernstein note, Dec 2025"); the whole citation where it has no colon."""
    text = citation(source)
    head = text.split(": ", 1)[0].strip()
    return head or text


def is_document(name: str) -> bool:
    """False for the analyst's own figures ("unknown: …", "analyst choice", "derived …")."""
    low = name.lower()
    return bool(low) and not low.startswith(NOT_A_DOCUMENT)


def documents(items: Iterable) -> list[dict]:
    """Distinct source documents, most-cited first: name, the assumptions citing it (keys)
    and the reference-file keys behind them. ``items``: objects with ``key`` and ``source``."""
    found: dict[str, dict] = {}
    for item in items:
        name = document(item.source)
        if not is_document(name):
            continue
        entry = found.setdefault(name, {"document": name, "keys": [], "references": []})
        entry["keys"].append(item.key)
        for ref in reference_keys(item.source):
            if ref not in entry["references"]:
                entry["references"].append(ref)
    return sorted(found.values(), key=lambda d: (-len(d["keys"]), d["document"].lower()))


def analyst_figures(items: Iterable) -> list[str]:
    """Keys of assumptions no document gives (the sheet says ``unknown: …`` or analyst choice)."""
    return [item.key for item in items if not is_document(document(item.source))]
