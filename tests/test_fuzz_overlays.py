"""Fuzz scenario overlays (``assumptions/scenarios/<name>.yaml``): generated and mutated.

Keys come from the resolved assumptions (every model's), values and fields are nasty; the bundled
overlays are also mutated line by line. Exit 0 with a run, or exit 2 naming the overlay file and
line (or the key); never a traceback, never a partial run folder.
"""
from __future__ import annotations

import shutil

import pytest
import yaml
from hypothesis import given, strategies as st

from fuzz_support import (count_check, fresh, fuzz_settings, judge_input, nasty_scalars,
                          nasty_values, printable_text)
from models.assumptions import ASSUMPTIONS_DIR, resolve
from test_fuzz_sheets import RAW_TOKENS

BASE = resolve()
KEYS = sorted(BASE.flat_values()) + sorted(BASE.items)
OVERLAYS = {p.stem: p.read_text(encoding="utf-8")
            for p in sorted((ASSUMPTIONS_DIR / "scenarios").glob("*.yaml"))}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz_overlays")
    shutil.copytree(ASSUMPTIONS_DIR, root / "assumptions")
    return root


def judge_overlay(work, content: bytes, mode: int, category: str, extra=()):
    overlay = work / "assumptions" / "scenarios" / "fuzz.yaml"
    overlay.write_bytes(content)
    reports = fresh(work / "reports")
    judge_input(category, ["--assumptions", str(work / "assumptions"), "--scenario", "fuzz",
                           *extra], reports, mode, where=("fuzz.yaml", "--scenario") + tuple(KEYS))


@st.composite
def entries(draw):
    key = draw(st.one_of(st.sampled_from(KEYS), st.sampled_from(KEYS).map(str.upper),
                         st.sampled_from(KEYS).map(lambda k: k + ".CY2026"),
                         printable_text(12)))
    form = draw(st.integers(0, 3))
    if form == 0:
        value = draw(nasty_values())
    else:  # {value, source, note} with odd fields
        value = {}
        if draw(st.integers(0, 5)):
            value["value"] = draw(nasty_scalars())
        for field in ("source", "note"):
            if draw(st.booleans()):
                value[field] = draw(nasty_values())
        if draw(st.integers(0, 6)) == 0:
            value[draw(printable_text(6))] = draw(nasty_scalars())
    return key, value


@st.composite
def overlays(draw):
    doc = {}
    if draw(st.booleans()):
        doc["description"] = draw(st.one_of(printable_text(30), nasty_values()))
    form = draw(st.integers(0, 9))
    if form == 0:
        doc["set"] = draw(nasty_values())  # a list, null, a number, ...
    elif form == 1:
        doc = draw(nasty_values())  # not even a mapping
    elif form == 2:
        doc[draw(printable_text(8))] = draw(nasty_scalars())
    else:
        doc["set"] = dict(draw(st.lists(entries(), min_size=1, max_size=3)))
    try:
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError:
        text = repr(doc)
    return text.encode("utf-8", "surrogatepass")


@fuzz_settings(200)
@given(content=overlays(), mode=st.integers(0, 39), force=st.booleans())
def test_fuzz_generated_overlays(work, content, mode, force):
    judge_overlay(work, content, mode, "overlays/generated", ["--force"] if force else [])


def test_generated_overlay_count():
    count_check("overlays/generated")


@st.composite
def mutated_overlays(draw):
    text = OVERLAYS[draw(st.sampled_from(sorted(OVERLAYS)))]
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value", "value", "insert", "delete", "duplicate",
                                   "indent"]))
        if op == "value" and ":" in lines[i]:
            lines[i] = lines[i].split(":", 1)[0] + ": " + draw(st.sampled_from(RAW_TOKENS))
        elif op == "insert":
            lines.insert(i, " " * draw(st.sampled_from([0, 2, 4])) + draw(st.one_of(
                st.sampled_from(RAW_TOKENS), printable_text(20))))
        elif op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "indent":
            lines[i] = " " * draw(st.integers(0, 7)) + lines[i].lstrip()
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@fuzz_settings(150)  # the overlays' expects comments and entries make more mutations benign
@given(content=mutated_overlays(), mode=st.integers(0, 39))
def test_fuzz_mutated_overlays(work, content, mode):
    judge_overlay(work, content, mode, "overlays/mutated")


def test_mutated_overlay_count():
    count_check("overlays/mutated")
