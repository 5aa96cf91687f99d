"""How sheets are read: YAML 1.2 core scalars, no tags, limits, literal keys, clear errors."""
from __future__ import annotations

import math

import pytest

from models.assumptions import parse_override, parse_scalar, parse_yaml
from models.errors import EqrError, short_repr


@pytest.mark.parametrize("text, value", [
    ("yes", "yes"), ("no", "no"), ("on", "on"), ("Off", "Off"), ("y", "y"),  # text, not bools
    ("true", True), ("False", False),
    ("1e6", 1e6), ("1.0e300", 1e300), ("2.5E-3", 0.0025), ("-1e6", -1e6), (".5", 0.5),
    ("1_000_000", 1_000_000), ("25", 25), ("-0", 0), ("+7", 7),
    ("040000", 40000.0),  # decimal, not octal 16384
    ("1:30", "1:30"),  # text, not sexagesimal 90
    ("2025-12-01", "2025-12-01"),  # text, not a date
    ("0x1F", "0x1F"), ("0o17", "0o17"), ("=", "="), ("cogs", "cogs"),
    ("~", None), ("null", None),
])
def test_scalars(text, value):
    got = parse_yaml(f"k: {text}\n", "t.yaml")["k"]
    assert got == value and type(got) is type(value)


def test_nan_and_inf_parse_and_are_then_refused(capsys):
    assert math.isnan(parse_scalar(".nan")) and parse_scalar("-.inf") == -math.inf
    from models.cli import main
    for text in (".nan", ".inf", "-.inf", "1e999"):
        assert main(["check", "--set", f"china.asp_usd={text}"]) == 2
        err = capsys.readouterr().err
        assert "not a finite number" in err and "china.asp_usd" in err


@pytest.mark.parametrize("text, fragment", [
    ("k: !!python/object/apply:os.system [ls]", "YAML tag !!python/object/apply:os.system"),
    ("k: !!float abc", "YAML tag !!float is not allowed"),
    ("k: !!binary aGVsbG8=", "YAML tag !!binary"),
    ("k: !custom x", "YAML tag !custom"),
    ("k: [" * 40 + "]" * 40, "nested too deeply"),
    ("k: &a [1, *a]", "refers to the value that contains it"),
    ("k: *nowhere", "undefined alias"),
    ("k: 1\nk: 2", "duplicate key 'k'"),
    ("? [a, b]\n: 1", "a mapping key must be a plain name"),
    ("k: " + "9" * 41, "number has too many digits"),
    ('k: "a\\x01b"', "control character"),
    ('k: "\\ud800"', "invalid unicode character|invalid Unicode character"),  # ours|libyaml
    ("k: 1\n---\nk: 2", "expected a single document"),
    ("k: 'unterminated", "broken YAML"),
    ("k:\tv\n\tj: 1", "broken YAML"),
])
def test_refused_with_file_and_line(text, fragment):
    with pytest.raises(EqrError) as info:
        parse_yaml(text + "\n", "sheet.yaml")
    assert any(f in str(info.value) for f in fragment.split("|")), str(info.value)
    assert str(info.value).startswith("sheet.yaml:")


def test_alias_bomb_is_refused_before_it_expands():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    with pytest.raises(EqrError) as info:
        parse_yaml("\n".join(lines) + "\n", "bomb.yaml")
    assert "too large once its aliases are expanded" in str(info.value)
    assert str(info.value).startswith("bomb.yaml:")


def test_small_aliases_and_merge_keys_still_work():
    data = parse_yaml("base: &b {unit: units, value: 1}\nother:\n  <<: *b\n  value: 2\n"
                      "same: *b\n", "t.yaml")
    assert data["other"] == {"unit": "units", "value": 2} and data["same"]["value"] == 1


def test_keys_are_their_literal_text():
    data = parse_yaml("1: a\nyes: b\n1.0: c\n~: d\n", "t.yaml")
    assert list(data) == ["1", "yes", "1.0", "~"]


def test_bom_is_accepted(sheets, capsys):
    from models.cli import main
    sheet = sheets / "china.yaml"
    sheet.write_bytes(b"\xef\xbb\xbf" + sheet.read_bytes())
    assert main(["check", "--assumptions", str(sheets)]) == 0


def test_undecodable_bytes_name_the_line(sheets, capsys):
    from models.cli import main
    sheet = sheets / "china.yaml"
    sheet.write_bytes(sheet.read_bytes().replace(b"Levy booked as", b"Levy booked \xff as"))
    assert main(["check", "--assumptions", str(sheets)]) == 2
    err = capsys.readouterr().err
    line = next(i for i, l in enumerate(sheet.read_bytes().split(b"\n"), 1) if b"\xff" in l)
    assert f"china.yaml:{line}: not UTF-8 text" in err and "0xff" in err


@pytest.mark.parametrize("text, value", [("china.levy_rate=0.15", 0.15),
                                         ("china.h200_units.CY2026=1e6", 1e6),
                                         ("china.levy_treatment=cogs", "cogs"),
                                         ("china.levy_rate = 1_0", 10),
                                         ("k=[1, 2]", "[1, 2]"), ("k=a: b", "a: b"),
                                         ("k=!!python/name:os.system", "!!python/name:os.system"),
                                         ("k=null", "null"), ("k='0.25'", "0.25")])
def test_set_values_are_read_like_yaml_scalars(text, value):
    assert parse_override(text)[1] == value


def test_error_messages_stay_short_whatever_was_found():
    huge = [[list(range(1000))] * 1000] * 1000
    assert len(short_repr(huge)) < 500
    assert len(short_repr("x" * 10_000_000)) < 300
    assert "too many digits" in short_repr(10 ** 5000)
    assert short_repr("\ud800") == "'\\ud800'"
    err = EqrError("bad", key="k", found="y" * 100_000)
    assert len(str(err)) < 400
