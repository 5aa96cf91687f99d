"""Fuzz the assumption-sheet loader: generated and mutated sheets, structured and byte-level.

Every input must give a valid run or ``eqr: error: <file>:<line>: ...`` (exit 2), never a
traceback, never a partial run folder. Most examples run ``eqr check`` (everything a build does
except writing files); one in ten runs a real ``eqr build``.
"""
from __future__ import annotations

import copy
import shutil

import pytest
import yaml
from hypothesis import example, given, strategies as st

from fuzz_support import (bundled_sheets, count_check, fresh, fuzz_settings, judge_input,
                          nasty_scalars, nasty_values, printable_text, unit_names)
from models.assumptions import ASSUMPTIONS_DIR, resolve

SHEETS = bundled_sheets()
TEXT = {m: p.read_text(encoding="utf-8") for m, p in SHEETS.items()}
DATA = {m: yaml.load(t, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for m, t in TEXT.items()}
ITEMS = resolve().items
FIELDS = ["label", "unit", "value", "source", "note", "bounds", "low", "high", "dist", "choices",
          "unknown"]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz_sheets")
    shutil.copytree(ASSUMPTIONS_DIR, root / "assumptions")
    return root


def judge_sheet(work, model: str, content: bytes, mode: int, category: str):
    """Write ``content`` as ``model``'s sheet, judge it (fuzz_support.judge_input), restore."""
    sheet = work / "assumptions" / SHEETS[model].name
    reports = fresh(work / "reports")
    sheet.write_bytes(content)
    try:
        judge_input(category, ["--assumptions", str(work / "assumptions")], reports, mode,
                    where=(sheet.name, f"{model}.", model))
    finally:
        sheet.write_text(TEXT[model], encoding="utf-8")


# --------------------------------------------------------------------------- structured
def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _get(obj, path):
    for p in path:
        obj = obj[p]
    return obj


def _typo(word: str, how: int) -> str:
    if not word:
        return "x"
    return [word[:-1], word + "s", word.upper(), word.replace("_", "-"), " " + word,
            word[1:] + word[0]][how % 6]


@st.composite
def mutation(draw, data, model):
    """One change to a loaded sheet, at a place taken from the sheet's own structure."""
    paths = [p for p in _paths(data) if p]
    op = draw(st.sampled_from(["replace", "replace", "delete", "add", "rename", "unit",
                               "shape", "bound", "whole"]))
    if op == "whole" or not paths or not isinstance(data, dict):
        return draw(nasty_values())
    if op == "replace":
        path = draw(st.sampled_from(paths))
        _get(data, path[:-1])[path[-1]] = draw(nasty_values())
    elif op in ("delete", "rename"):
        dict_paths = [p for p in paths if isinstance(_get(data, p[:-1]), dict)]
        if dict_paths:
            path = draw(st.sampled_from(dict_paths))
            parent = _get(data, path[:-1])
            value = parent.pop(path[-1])
            if op == "rename":
                parent[_typo(str(path[-1]), draw(st.integers(0, 5)))] = value
    elif op == "add":
        dict_paths = [()] + [p for p in paths if isinstance(_get(data, p), dict)]
        parent = _get(data, draw(st.sampled_from(dict_paths)))
        key = draw(st.one_of(st.sampled_from(FIELDS + ["model", "periods", "assumptions"]),
                             printable_text(10)))
        parent[key] = draw(nasty_values())
    else:  # unit / shape / bound: aimed at one assumption of this sheet
        items = data.get("assumptions")
        names = sorted(items) if isinstance(items, dict) else []
        if not names:
            return draw(nasty_values())
        name = draw(st.sampled_from(names))
        entry = items[name]
        if not isinstance(entry, dict):
            return data
        if op == "unit":
            if draw(st.booleans()):
                entry["unit"] = draw(unit_names())
            else:  # mark it unknown: valid when done right, else a clear error
                entry["unknown"] = draw(st.sampled_from([True, True, "yes", 1, None]))
                for field in ("value", "low", "high"):
                    if draw(st.integers(0, 3)):
                        entry.pop(field, None)
                if draw(st.booleans()):
                    entry["source"] = "unknown: fuzz"
                if draw(st.integers(0, 3)):
                    entry["note"] = "no source gives it"
        elif op == "shape":  # a series as one number, a number as a (partial) series
            periods = period_keys(data.get("periods"))
            value = entry.get("value")
            if isinstance(value, dict):
                entry["value"] = draw(nasty_scalars())
            else:
                keep = draw(st.integers(0, len(periods)))
                entry["value"] = {p: draw(nasty_scalars()) for p in periods[:keep]}
                if draw(st.booleans()):
                    entry["value"]["CY1999"] = 1
        else:  # bound: a value far outside (or just at) the item's bounds
            item = ITEMS.get(f"{model}.{name}")
            lo, hi = item.bounds if item else (None, None)
            edge = draw(st.sampled_from([b for b in (lo, hi) if b is not None] or [1.0]))
            entry["value"] = edge * draw(st.sampled_from([-1, 0.5, 1, 1.0001, 10, 100, 1e6]))
    return data


def period_keys(periods) -> list:
    """The sheet's periods usable as mapping keys: an earlier "replace" mutation may have put
    anything into ``periods`` (a list, a dict, None), and lists are unhashable."""
    if not isinstance(periods, list):
        return []
    return [p for p in periods if isinstance(p, (str, int, float, bool)) or p is None]


def test_period_keys_skip_unhashable_periods():
    """Regression (CI run of issue 14): a list inside ``periods`` crashed the generator with
    "TypeError: unhashable type: 'list'"."""
    assert period_keys(["CY2025", ["x"], {"a": 1}, 3, None]) == ["CY2025", 3, None]
    assert period_keys({"CY2025": 1}) == [] and period_keys(None) == []


@st.composite
def mutated_sheet(draw):
    model = draw(st.sampled_from(sorted(SHEETS)))
    data = copy.deepcopy(DATA[model])
    for _ in range(draw(st.integers(1, 3))):
        data = draw(mutation(data, model))
    try:  # libyaml's emitter when there is one (fast); any failure: the pure-Python one
        text = yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                         sort_keys=False, allow_unicode=True)
    except Exception:
        try:
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        except yaml.YAMLError:
            text = repr(data)
    return model, text.encode("utf-8", "surrogatepass")


_LIST_IN_PERIODS = yaml.safe_dump({"model": "china", "periods": ["CY2025", ["CY2026"]],
                                   "assumptions": {"levy_rate": {
                                       "unit": "fraction", "source": "s",
                                       "value": {"CY2025": 0.25}}}}).encode()


@fuzz_settings(300)
@given(case=mutated_sheet(), mode=st.integers(0, 39))
@example(case=("china", _LIST_IN_PERIODS), mode=0)  # the input that broke CI (issue 14)
def test_fuzz_structured_sheet_mutations(work, case, mode):
    model, content = case
    judge_sheet(work, model, content, mode, "sheets/structured")


def test_structured_sheet_count():
    count_check("sheets/structured")


# --------------------------------------------------------------------------- byte level
RAW_TOKENS = [
    "yes", "no", "on", "Off", "~", "null", "", ".nan", "-.inf", "1e6", "1.0e300", "1e999",
    "040000", "1:30", "0x1F", "0o17", "2025-12-01", "25%", "1,000", "'0.25'", "\"0.25\"",
    "9" * 50, "1" * 5000, "=1+1", "@SUM(A1)", "<script>x</script>", "{{ 7*7 }}",
    "!!python/object/apply:os.system [ls]", "!!python/name:os.system", "!!binary aGVsbG8=",
    "!!float abc", "!!int 017", "!!bool maybe", "!!timestamp x", "!!set {a, b}",
    "!!omap [a: 1]", "!custom x", "&a [1, *a]", "*nowhere", "&x 1", "{", "[", "]", "}",
    "'unterminated", "\"\\ud800\"", "\"\\x01\"", "\"\\0\"", "? [a, b]", "<<: *x", "- - -",
    "[" * 60 + "]" * 60, "{a: " * 40 + "1" + "}" * 40, "|", ">-", "%", "@", "`", "\t1",
    "{CY2025: 1}", "[0, 1]", "[1, 0]", "[.nan, 1]", "{a: 1, a: 2}",
]
LOADED_FIELDS = {"value", "low", "high", "bounds", "unit", "choices", "model", "periods",
                 "assumptions", "source", "dist", "unknown"}
JUNK_LINES = [
    "%YAML 1.1", "---", "...", "%TAG ! tag:evil.com,2000:", "  - item", "key: value",
    "assumptions: []", "model: [china]", "periods: [2025, 2026]", "periods: [CY2025, cy2025]",
    "a0: &a0 [x,x,x,x,x,x,x,x,x,x]\na1: &a1 [*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0]\n"
    "a2: &a2 [*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1]\n"
    "a3: &a3 [*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2]\n"
    "a4: &a4 [*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3]\n"
    "a5: &a5 [*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4]\n",
    "\ufeffmodel: x", "\x00", "\u2028", "\ud7ff",
]


@st.composite
def byte_mutation(draw):
    """The sheet's text with tokens, lines, bytes or splices changed, before YAML sees it."""
    model = draw(st.sampled_from(sorted(SHEETS)))
    text = TEXT[model]
    for _ in range(draw(st.integers(1, 3))):
        lines = text.split("\n")
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        # mostly a line that carries a number or a structural field, not a comment or a note
        keyed = [n for n, l in enumerate(lines) if l.strip().split(":")[0] in LOADED_FIELDS]
        if keyed and draw(st.integers(0, 3)):
            i = draw(st.sampled_from(keyed))
        op = draw(st.sampled_from(["value", "value", "line", "delete", "duplicate", "indent",
                                   "truncate", "splice"]))
        if op == "value":
            line = lines[i]
            if ":" in line:
                head = line.split(":", 1)[0]
                lines[i] = f"{head}: {draw(st.sampled_from(RAW_TOKENS))}"
            text = "\n".join(lines)
        elif op == "line":
            indent = " " * draw(st.sampled_from([0, 2, 4, 6, 3]))
            lines.insert(i, indent + draw(st.one_of(st.sampled_from(JUNK_LINES),
                                                    printable_text(30))))
            text = "\n".join(lines)
        elif op == "delete":
            del lines[i]
            text = "\n".join(lines)
        elif op == "duplicate":
            lines.insert(i, lines[i])
            text = "\n".join(lines)
        elif op == "indent":
            lines[i] = " " * draw(st.integers(0, 9)) + lines[i].lstrip()
            text = "\n".join(lines)
        elif op == "truncate":
            text = text[:draw(st.integers(0, len(text)))]
        elif op == "splice":
            at = len("\n".join(lines[:i])) + draw(st.integers(0, len(lines[i])))
            text = text[:at] + draw(st.one_of(printable_text(12), st.text(max_size=3))) + text[at:]
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 7)) == 0:  # undecodable or binary bytes
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    return model, raw


@fuzz_settings(300)
@given(case=byte_mutation(), mode=st.integers(0, 39))
def test_fuzz_byte_level_sheet_mutations(work, case, mode):
    model, content = case
    judge_sheet(work, model, content, mode, "sheets/bytes")


def test_byte_level_sheet_count():
    count_check("sheets/bytes")


# --------------------------------------------------------------------------- classics
def _bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


CLASSICS = {
    "empty file": b"",
    "only a comment": b"# nothing here\n",
    "a list": b"- a\n- b\n",
    "a number": b"42\n",
    "two documents": b"model: a\n---\nmodel: b\n",
    "binary": bytes(range(256)),
    "utf-16": "model: china\n".encode("utf-16"),
    "latin-1": "model: china\nnote: caf\xe9\n".encode("latin-1"),
    "nul bytes": b"model: china\x00\n",
    "billion laughs in the sheet": (_bomb(9) + "model: china\n").encode(),
    "bomb as a value": ("model: china\nperiods: [CY2025]\nassumptions:\n  x:\n    unit: units\n"
                        "    source: s\n    value: [" + ", ".join(
                            f"&a{i} [" + ", ".join([f"*a{i - 1}" if i else "x"] * 10) + "]"
                            for i in range(9)) + "]\n").encode(),
    "self reference": b"model: china\nperiods: &p [CY2025, *p]\nassumptions: {}\n",
    "deep nesting": b"model: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "deep mappings": b"model: " + b"{a: " * 3000 + b"1" + b"}" * 3000 + b"\n",
    "python object": b"model: !!python/object/apply:os.system ['echo pwned']\n",
    "long number": b"model: china\nperiods: [CY2025]\nassumptions:\n  x: {unit: units, "
                   b"source: s, value: " + b"9" * 5000 + b"}\n",
    "no assumptions": b"model: china\nperiods: [CY2025]\nassumptions: {}\n",
    "null assumptions": b"model: china\nperiods: [CY2025]\nassumptions:\n",
    "periods not text": b"model: china\nperiods: [2025, 2026]\nassumptions: {}\n",
    "period twice by case": b"model: china\nperiods: [CY2025, cy2025]\nassumptions: {}\n",
    "key as a list": b"? [a, b]\n: 1\n",
    "huge file": b"# " + b"x" * 11_000_000 + b"\n",
}


@pytest.mark.parametrize("name", sorted(CLASSICS))
def test_classic_bad_sheets(work, name):
    model = sorted(SHEETS)[0]
    judge_sheet(work, model, CLASSICS[name], 1, "sheets/classics")
    judge_sheet(work, model, CLASSICS[name], 0, "sheets/classics")


def test_classic_bad_sheets_count():
    count_check("sheets/classics", 2 * len(CLASSICS), scaled=False)


# --------------------------------------------------------------------------- unknown figures
NUMBERS = sorted(k for k, it in ITEMS.items()
                 if not getattr(it, "unknown", False) and it.value is not None
                 and not isinstance(it.value, str))


@fuzz_settings(40)
@given(key=st.sampled_from(NUMBERS), mode=st.integers(0, 39))
def test_fuzz_marking_a_figure_unknown(work, key, mode):
    """Any figure marked ``unknown: true`` the documented way: a run (with nulls), or a clear
    error saying which chart or memo line needs it — never a crash."""
    model, name = key.split(".", 1)
    data = copy.deepcopy(DATA[model])
    entry = data["assumptions"][name]
    for field in ("value", "low", "high"):
        entry.pop(field, None)
    entry.update(unknown=True, source="unknown: fuzz", note="no source gives it")
    text = yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                     sort_keys=False, allow_unicode=True)
    judge_sheet(work, model, text.encode(), mode, "sheets/unknown figures")
