"""Fuzz input text that Markdown would read as markup (issue 17): headings, images, links, raw
HTML, emphasis, table pipes, code spans and invisible bidirectional controls, in an overlay's
description, an assumption's source and note, and a ``--set`` text value.

Every example: exit 2 naming the file and line or key when the text holds an invisible format
character (U+202A–U+202E, U+2066–U+2069, zero-width...), otherwise exit 0; and the text as
memo.md and diff.md print it (:func:`models.memo.md_text`) is inert — one line, every character
Markdown or HTML gives a meaning to escaped. Cheap: ``check --quick`` and a pure function.
"""
from __future__ import annotations

import shutil
import unicodedata

import pytest
from hypothesis import given, strategies as st

from fuzz_support import count_check, fuzz_settings, printable_text, run_and_judge
from models.assumptions import ASSUMPTIONS_DIR
from models.memo import md_text

MARKUP = ["\n# Heading", "\n## h2", "![pixel](http://evil.example/p.png)",
          "[click](http://evil.example)", "<script>alert(1)</script>",
          "<img src=x onerror=alert(1)>", "**bold**", "_em_", "| cell |", "`code`",
          "\n---\n", "\n> quote", "\n- item", "&lt;", "<!-- c -->", "\\", "~~s~~", "{{ x }}",
          "[ref]: http://evil.example", "\r\n# crlf", "\u2028# ls"]
INVISIBLE = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
             "\u2069", "\u200b", "\u200e", "\u200f", "\u2060", "\ufeff", "\u00ad"]
SPECIAL = set("\\`*_[]<>#!|~&{}")


def hostile_text() -> st.SearchStrategy:
    piece = st.one_of(st.sampled_from(MARKUP), st.sampled_from(INVISIBLE),
                      printable_text(8))
    return st.lists(piece, min_size=1, max_size=5).map("".join).filter(
        lambda t: t.strip() and t.strip("\u00ad\u200b\u200e\u200f\u2060\ufeff").strip())


def assert_inert(shown: str) -> None:
    """One line, and every Markdown/HTML character escaped with a backslash."""
    assert "\n" not in shown and "\r" not in shown and "\u2028" not in shown, shown
    i = 0
    while i < len(shown):
        if shown[i] == "\\":
            assert i + 1 < len(shown) and shown[i + 1] in SPECIAL, shown
            i += 2
            continue
        assert shown[i] not in SPECIAL, f"unescaped {shown[i]!r} in {shown!r}"
        i += 1


def _yaml_string(text: str) -> str:
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else
                         f"\\U{ord(c):08x}" for c in text) + '"'


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz_markdown")
    shutil.copytree(ASSUMPTIONS_DIR, root / "assumptions")
    return root


@fuzz_settings(20)
@given(text=hostile_text(), field=st.sampled_from(["description", "source", "note", "set"]))
def test_fuzz_markdown_in_input_text(work, text, field):
    invisible = any(unicodedata.category(c) == "Cf" for c in text)
    if field == "set":
        if "\n" in text or "\r" in text or "=" in text:
            text = text.replace("\n", " ").replace("\r", " ").replace("=", " ")
        args = ["check", "--quick", "--set", f"note.title={text.strip() or 'x'}"]
        where = ("note.title",)
    else:
        entry = (f"set:\n  china.levy_rate:\n    value: 0.2\n"
                 f"    source: {_yaml_string(text) if field == 'source' else 'a source'}\n"
                 + (f"    note: {_yaml_string(text)}\n" if field == "note" else ""))
        description = _yaml_string(text) if field == "description" else "fuzz"
        (work / "assumptions" / "scenarios" / "md.yaml").write_text(
            f"description: {description}\n{entry}", encoding="utf-8")
        args = ["check", "--quick", "--assumptions", str(work / "assumptions"),
                "--scenario", "md"]
        where = ("md.yaml",)
    code, err = run_and_judge("markdown", args, where=where)
    if invisible:
        assert code == 2 and "invisible formatting character" in err, err
    else:
        # the only other refusals: a --set value YAML reads as something else, or too long
        assert code == 0 or field == "set", err
    assert_inert(md_text(text))


def test_fuzz_markdown_in_input_text_count():
    count_check("markdown")
