"""Checks on values read from input files (sheets, overlays, edited workbooks): what a wrong
value is in words, whether a number is usable, and whether a text may land in Excel, JSON and
HTML. No I/O and no model knowledge: the readers above it (models.assumptions, models.expects,
models.readback) all use these, so one rule holds everywhere."""
from __future__ import annotations

import math
import numbers
import re
import unicodedata
from typing import Any

from models.errors import EqrError

#: numbers beyond this magnitude are refused outright (no figure in these models comes near it;
#: it leaves room for products of inputs not to overflow; non-finite outputs are refused too)
LARGEST_NUMBER = 1e100
MAX_TEXT_CHARS = 32_767     # what one Excel cell holds
BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def describe(obj: Any) -> str:
    """What a wrong value is, in words, for 'found ...'."""
    if obj is None:
        return "nothing (an empty value)"
    if isinstance(obj, dict):
        return "a mapping"
    if isinstance(obj, (list, tuple)):
        return "a list"
    if isinstance(obj, bool):
        return f"the boolean {obj}"
    if isinstance(obj, str):
        return f"the text {obj[:40]!r}"
    return f"the {type(obj).__name__} {obj!r}"[:80]


def number_problem(x: Any) -> str | None:
    """Why ``x`` is not a usable number (None when it is one)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return "not a number"
    if isinstance(x, numbers.Integral):
        return "too large" if abs(x) > LARGEST_NUMBER else None  # no float overflow
    if not math.isfinite(x):
        return "not a finite number"
    return "too large" if abs(x) > LARGEST_NUMBER else None


def as_text(raw: Any, what: str, file: str | None, line: int | None, key: str | None) -> str:
    """``raw`` as text (a plain number becomes its text), checked by :func:`check_text`."""
    if isinstance(raw, str):
        text = raw
    elif isinstance(raw, (int, float)) and number_problem(raw) is None:  # not bool
        text = str(raw)  # `label: 2026` means the text "2026"
    else:
        raise EqrError(f"{what} must be text", file=file, line=line, key=key,
                       expected="text (quote it if it looks like something else)",
                       found=describe(raw))
    check_text(text, what, file, line, key)
    return text


def check_text(text: str, what: str, file: str | None, line: int | None,
                key: str | None) -> None:
    """Text that reaches Excel, JSON and HTML: no control characters, no lone surrogates."""
    bad = BAD_CHARS.search(text)
    if bad:
        raise EqrError(f"{what} holds a control character or an invalid unicode character",
                       file=file, line=line, key=key, expected="printable text",
                       found=f"{bad.group()!r} at position {bad.start()}")
    invisible = invisible_format_character(text)
    if invisible is not None:
        at, name = invisible
        raise EqrError(f"{what} holds an invisible formatting character", file=file,
                       line=line, key=key, expected="visible text (no bidirectional controls, "
                       "zero-width or other format characters)", found=f"{name} at position {at}",
                       hint="such characters can make the text read differently from what it "
                            "says (issue 17); delete it")
    if len(text) > MAX_TEXT_CHARS:
        raise EqrError(f"{what} too long", file=file, line=line, key=key,
                       expected=f"at most {MAX_TEXT_CHARS:,} characters (one Excel cell)",
                       found=f"{len(text):,} characters")


def invisible_format_character(text: str) -> tuple[int, str] | None:
    """The first Unicode format character (category Cf: bidirectional controls U+202A–U+202E
    and U+2066–U+2069, marks U+200E/U+200F, zero-width U+200B–U+200D, U+2060, U+FEFF, soft
    hyphen...) in ``text``, as (position, "U+202E RIGHT-TO-LEFT OVERRIDE"); None if none."""
    if text.isascii():
        return None
    for at, ch in enumerate(text):
        if unicodedata.category(ch) == "Cf":
            return at, f"U+{ord(ch):04X} {unicodedata.name(ch, 'FORMAT CHARACTER')}"
    return None
