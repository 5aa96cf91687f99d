"""Issue 17, the remaining cases: each bad input is a clean exit 2 naming what and where (or
the documented behaviour), never an internal error.

Cheap by design: workbooks are the session's default run with one part rewritten; the run
folder tests replace the file writing with a stub (what is tested is the folder's atomic
rename, the interrupt window and the ``latest`` link, not the files' content).
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from models import runs
from models.cli import main
from models.errors import EqrError

# --------------------------------------------------------------------------- helpers


def _rewrite_part(src: Path, dest: Path, part: str, change) -> Path:
    """A copy of the workbook ``src`` with one zip part's bytes replaced by ``change(bytes)``."""
    with zipfile.ZipFile(src) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    assert part in parts, sorted(parts)
    parts[part] = change(parts[part])
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return dest


def _inputs_part(xlsx: Path) -> str:
    """The zip part that holds the Inputs sheet (from workbook.xml and its relationships)."""
    with zipfile.ZipFile(xlsx) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(r'<sheet [^>]*name="Inputs"[^>]*r:id="(rId\d+)"', book)[1]
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels) or \
        re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
    return "xl/" + target[1].lstrip("/").removeprefix("xl/")


def _after_prolog(data: bytes) -> bytes:
    return data[data.index(b"?>") + 2:] if data.startswith(b"<?xml") else data


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("eqr: error: ") and err.count("\n") == 1, err
    assert "internal error" not in err and "Traceback" not in err
    return err


def _stub_files(folder, result, rid, created, *args, **kwargs):
    """Stands in for runs._write_files: a minimal complete run (manifest last)."""
    if folder is None:
        return
    (folder / "outputs.json").write_text("{}\n")
    (folder / "manifest.json").write_text(json.dumps({"run_id": rid, "files": [
        "manifest.json", "outputs.json"]}) + "\n")


# --------------------------------------------------------------------------- case 1: XML
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1
                                                              else b"&lol;") * 10)
                             for i in range(1, 10)) + b"]>")


@pytest.mark.parametrize("part, change, fragment", [
    ("xl/sharedStrings.xml",
     lambda d: BILLION_LAUGHS + _after_prolog(d).replace(b"<t>", b"<t>&lol9;", 1),
     "declares a DTD or an entity"),
    ("xl/workbook.xml",
     lambda d: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
               + _after_prolog(d).replace(b"<sheet ", b"&e;<sheet ", 1),
     "declares a DTD or an entity"),
    ("xl/styles.xml",  # the DTD in UTF-16: a search for the bytes "<!DOCTYPE" would miss it
     lambda d: ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x>'
                + _after_prolog(d).decode()).encode("utf-16"),
     "declares a DTD or an entity"),
    ("INPUTS", lambda d: d[:len(d) // 2], "is not well-formed XML"),
    ("xl/workbook.xml", lambda d: d.replace(b"</workbook>", b"</workbok>"),
     "is not well-formed XML"),
])
def test_xml_attacks_and_malformed_parts_name_the_part(default_run, tmp_path, capsys, part,
                                                      change, fragment):
    """Billion laughs, an external entity, a DTD hidden in UTF-16, a truncated or mismatched
    part: exit 2 naming the workbook, the part and the line; openpyxl never parses them."""
    src = default_run / "model.xlsx"
    part = _inputs_part(src) if part == "INPUTS" else part
    bad = _rewrite_part(src, tmp_path / "returned.xlsx", part, change)
    assert main(["assumptions", "--from-workbook", str(bad)]) == 2
    err = _one_line_error(capsys)
    assert f"returned.xlsx:{part}:" in err and fragment in err, err
    assert re.search(rf"{re.escape(part)}:\d+: ", err), err  # the line in the part


def test_a_zip_bomb_part_is_refused_before_decompressing(tmp_path, capsys, monkeypatch):
    from models import readback
    monkeypatch.setattr(readback, "MAX_PART_BYTES", 1000)
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", b"<a>" + b" " * 5000 + b"</a>")
    assert main(["assumptions", "--from-workbook", str(path)]) == 2
    err = _one_line_error(capsys)
    assert "bomb.xlsx:xl/workbook.xml: " in err and "5,007 bytes" in err, err


# --------------------------------------------------------------------------- case 2: sweep
def test_sweep_n_has_a_stated_maximum(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "--n", "100000000000", "--out", str(out)]) == 2
    err = _one_line_error(capsys)
    assert "--n: too many scenarios" in err and "at most 10,000,000" in err, err
    assert "8 bytes per scenario" in err  # the reason
    assert not out.exists()


def test_sweep_bound_counts_outputs():
    from models.sweep import MAX_N, MAX_VALUES, check_size
    check_size(MAX_N, 1)                       # the maximum itself is fine
    check_size(MAX_VALUES // 20, 20)           # 5,000,000 × 20 outputs = 800 MB
    with pytest.raises(EqrError, match="at most 10,000,000"):
        check_size(MAX_N + 1, 1)
    with pytest.raises(EqrError, match="at most 5,000,000 with 20 output"):
        check_size(MAX_VALUES // 20 + 1, 20)


# --------------------------------------------------------------------------- case 3: diff
@pytest.mark.parametrize("stage", ["write", "link"])
def test_diff_md_and_xlsx_land_together_or_not_at_all(default_run, tmp_path, capsys,
                                                      monkeypatch, stage):
    """The disk fills while the .xlsx is written (or its name is linked, after the .md's):
    exit 2, and neither file nor a hidden temporary file is left."""
    from models import newfile
    real = newfile._stage if stage == "write" else newfile._link

    def failing(*args):
        target = args[0] if stage == "write" else args[1]
        if Path(target).suffix == ".xlsx":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args)

    monkeypatch.setattr(newfile, "_stage" if stage == "write" else "_link", failing)
    out = tmp_path / "out"
    out.mkdir()
    md, xlsx = out / "diff.md", out / "diff.xlsx"
    assert main(["diff", str(default_run), str(default_run), "--md", str(md),
                 "--xlsx", str(xlsx)]) == 2
    err = _one_line_error(capsys)
    assert "disk is full" in err and "diff.xlsx" in err and "none of the files" in err, err
    assert list(out.iterdir()) == []


# --------------------------------------------------------------------------- case 4: Ctrl-C
def test_ctrl_c_after_the_rename_reports_the_run(tmp_path, capsys, monkeypatch):
    """KeyboardInterrupt between the run folder's rename and the latest link: the run is
    complete and kept, and the message names it instead of 'nothing was written'."""
    monkeypatch.setattr(runs, "_write_files", _stub_files)

    def interrupted(reports, final):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "point_latest", interrupted)
    reports = tmp_path / "reports"
    assert main(["build", "--no-pdf", "--no-compare", "--reports", str(reports)]) == 130
    err = capsys.readouterr().err
    kept = [p for p in reports.iterdir() if not p.name.startswith(".")]
    assert len(kept) == 1 and (kept[0] / "manifest.json").is_file()
    assert "no run folder was written" not in err
    assert "interrupted; the run was complete and is kept" in err and str(kept[0]) in err, err


def test_ctrl_c_right_after_os_rename_reports_the_run(tmp_path, capsys, monkeypatch):
    """The interrupt lands inside the rename step, just after os.rename returned."""
    monkeypatch.setattr(runs, "_write_files", _stub_files)
    real_rename = os.rename

    def rename_then_interrupt(src, dst, *args, **kwargs):
        real_rename(src, dst, *args, **kwargs)
        if Path(src).name.startswith(runs.TMP_PREFIX):
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "rename", rename_then_interrupt)
    out = tmp_path / "run"
    assert main(["build", "--no-pdf", "--no-compare", "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert (out / "manifest.json").is_file()
    assert f"the run was complete and is kept: {out}" in err, err
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_ctrl_c_before_the_rename_still_writes_nothing(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "_write_files", interrupted)
    reports = tmp_path / "reports"
    assert main(["build", "--no-pdf", "--no-compare", "--reports", str(reports)]) == 130
    assert "interrupted; no run folder was written" in capsys.readouterr().err
    assert list(reports.iterdir()) == []


# --------------------------------------------------------------------------- case 5: latest
def test_a_real_folder_at_latest_is_left_and_warned_about(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runs, "_write_files", _stub_files)
    reports = tmp_path / "reports"
    (reports / "latest").mkdir(parents=True)
    (reports / "latest" / "mine.txt").write_text("a copy someone made")
    assert main(["build", "--no-pdf", "--no-compare", "--reports", str(reports)]) == 0
    captured = capsys.readouterr()
    run = Path(captured.out.strip())
    assert "eqr: warning:" in captured.err and "is a real folder" in captured.err
    assert str(reports / "latest") in captured.err
    assert (reports / "latest" / "mine.txt").read_text() == "a copy someone made"
    assert (reports / "LATEST").read_text().strip() == run.name


# --------------------------------------------------------------------------- case 6: --set
@pytest.mark.parametrize("value, hint", [
    ("inf", "a finite number is expected"), ("-inf", "a finite number is expected"),
    ("nan", "a finite number is expected"), ("NaN", "a finite number is expected"),
    ("\u0661\u0662", "write the number with the digits 0-9"),   # Arabic-Indic 12
    ("\uff11\uff12", "write the number with the digits 0-9"),   # full-width 12
    ('"0.25"', "it is quoted text: remove the quotes"),          # really quoted
])
def test_set_hints_say_what_is_expected(capsys, value, hint):
    assert main(["check", "--quick", "--set", f"china.levy_rate={value}"]) == 2
    err = _one_line_error(capsys)
    assert err.startswith("eqr: error: china.levy_rate: ") and f"({hint}" in err, err
    if hint != "it is quoted text: remove the quotes":
        assert "quote" not in err


def test_underflow_to_zero_is_refused_on_the_command_line(capsys):
    assert main(["check", "--quick", "--set", "china.levy_rate=1e-400"]) == 2
    err = _one_line_error(capsys)
    assert "china.levy_rate: number too small: it would become 0" in err, err
    # zero itself and the smallest numbers a float holds are fine
    for fine in ("0", "0e-400", "1e-310", "5e-324"):
        assert main(["check", "--quick", "--set", f"china.levy_rate={fine}"]) == 0, fine
        capsys.readouterr()


def test_underflow_to_zero_is_refused_in_a_sheet(capsys, sheets):
    sheet = sheets / "china.yaml"
    lines = sheet.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip() == "levy_rate:")
    value = next(i for i in range(at, len(lines)) if lines[i].strip().startswith("value:"))
    indent = lines[value][:len(lines[value]) - len(lines[value].lstrip())]
    lines[value] = f"{indent}value: 2.5e-999\n"
    sheet.write_text("".join(lines))
    assert main(["check", "--quick", "--assumptions", str(sheets)]) == 2
    err = _one_line_error(capsys)
    assert f"china.yaml:{value + 1}: number too small: it would become 0" in err, err


# --------------------------------------------------------------------------- case 7: Source cell
def test_a_40000_character_source_cell_names_sheet_and_cell(default_run, base, tmp_path,
                                                            capsys):
    src = default_run / "model.xlsx"
    source = escape(base["china.levy_rate"].source).encode()
    bad = _rewrite_part(src, tmp_path / "long.xlsx", "xl/sharedStrings.xml",
                        lambda d: d.replace(b">" + source + b"<", b">" + b"x" * 40_000 + b"<"))
    assert main(["assumptions", "--from-workbook", str(bad)]) == 2
    err = _one_line_error(capsys)
    assert re.match(r"eqr: error: \S*long\.xlsx:Inputs![A-Z]+\d+: china\.\w+: source too long",
                    err), err
    assert "40,000 characters" in err


# --------------------------------------------------------------------------- case 8: PDF
def test_pdf_errors_name_the_run_folder_not_the_temporary_one(tmp_path, capsys, monkeypatch):
    """The memo refers to a file outside the run folder: WeasyPrint's error names the memo as
    the user will find it (the --out folder), never the removed hidden folder."""
    from models import memo

    def files_with_pdf(folder, *args, **kwargs):
        _stub_files(folder, *args, **kwargs)
        (folder / "memo.html").write_text('<html><body><img src="file:///etc/hostname">'
                                          "</body></html>")
        memo.write_pdf(folder / "memo.html", folder / "memo.pdf")

    monkeypatch.setattr(runs, "_write_files", files_with_pdf)
    out = tmp_path / "run"
    assert main(["build", "--no-compare", "--out", str(out)]) == 2
    err = _one_line_error(capsys)
    assert f"eqr: error: {out / 'memo.html'}: cannot write the PDF" in err, err
    assert runs.TMP_PREFIX not in err
    assert not out.exists() or list(out.iterdir()) == []


# --------------------------------------------------------------------------- case 9: --out
@pytest.mark.parametrize("option, path", [("--out", "a/../b/../b"), ("--out", "x/../y"),
                                          ("--reports", "a/../r")])
def test_out_paths_that_go_in_and_out_again_are_refused(tmp_path, capsys, monkeypatch,
                                                        option, path):
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--no-pdf", "--no-compare", option, path]) == 2
    err = _one_line_error(capsys)
    assert f"{option}: the path goes into a folder and back out again" in err, err
    assert f"write it as {os.path.normpath(path)}" in err
    assert list(tmp_path.iterdir()) == []  # no 'a', no hidden folder


def test_a_leading_dotdot_is_fine(tmp_path):
    runs.check_no_detour(Path("../runs/x"), "--out")
    runs.check_no_detour(Path("/../x"), "--out")
    runs.check_no_detour(Path("../../x"), "--out")


# --------------------------------------------------------------------------- case 10: bidi
RLO, LRI, ZWSP = "\u202e", "\u2066", "\u200b"


@pytest.mark.parametrize("field, char", [("label", RLO), ("note", LRI), ("source", RLO),
                                         ("description", "\u202a"), ("source", ZWSP)])
def test_invisible_format_characters_are_refused_naming_the_key(capsys, sheets, field, char):
    text = f"Levy {char}evil"
    if field == "description":
        overlay = f'description: "{text}"\nset:\n  china.levy_rate:\n    value: 0.2\n'
        key = "description"
    else:
        overlay = (f'description: ok\nset:\n  china.levy_rate:\n    value: 0.2\n'
                   f'    source: "{text if field == "source" else "a source"}"\n'
                   + (f'    note: "{text}"\n' if field == "note" else ""))
        key = "china.levy_rate"
    if field == "label":  # labels live in the base sheet
        sheet = sheets / "china.yaml"
        body = sheet.read_text()
        first = re.search(r"^(\s+)label: (.*)$", body, re.M)
        sheet.write_text(body[:first.start(2)] + f'"{text}"' + body[first.end(2):])
        args, key = [], "china."
    else:
        (sheets / "scenarios" / "bidi.yaml").write_text(overlay)
        args = ["--scenario", "bidi"]
    assert main(["check", "--quick", "--assumptions", str(sheets), *args]) == 2
    err = _one_line_error(capsys)
    assert "holds an invisible formatting character" in err, err
    assert f"U+{ord(char):04X}" in err
    assert re.match(r"eqr: error: \S+\.yaml:\d+: ", err), err
    assert f": {key}" in err, err


def test_invisible_characters_in_a_set_text_value(capsys):
    assert main(["check", "--quick", "--set", f"note.title=Buy {RLO}lles"]) == 2
    err = _one_line_error(capsys)
    assert "note.title: value holds an invisible formatting character" in err
    assert "U+202E RIGHT-TO-LEFT OVERRIDE at position 4" in err


# --------------------------------------------------------------------------- case 11: diff --md
INJECTION = ("x\n# Injected heading ![pixel](http://evil.example/p.png) "
             "[click](http://evil.example) <script>alert(1)</script> **bold** | cell")


def test_diff_markdown_is_inert(default_run, tmp_path, capsys):
    """Text that reached a run (a --set text value, here edited into the recorded manifest)
    shows as typed in diff.md: no heading, image, link, HTML or table cell from it."""
    b = tmp_path / "b"
    shutil.copytree(default_run, b)
    manifest = json.loads((b / "manifest.json").read_text())
    one_line = INJECTION.replace("\n", " ")
    manifest["resolved_assumptions"]["note.title"] = one_line
    manifest["assumption_items"]["note.title"].update(value=one_line, set_by="--set")
    manifest["overrides"] = [f"note.title={one_line}"]
    (b / "manifest.json").write_text(json.dumps(manifest))
    md = tmp_path / "diff.md"
    assert main(["diff", str(default_run), str(b), "--md", str(md)]) == 0, \
        capsys.readouterr().err
    text = md.read_text()
    assert "Injected heading" in text
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert all(h.startswith(("# Run diff:", "## ")) for h in headings), headings
    assert "Injected" not in "".join(headings)
    for raw in ("<script>", "![pixel]", "[click](", "**bold**"):
        assert raw not in text, raw
    assert "\\<script\\>" in text and "\\!\\[pixel\\]" in text
    # each table row keeps its six cells: the injected | is escaped
    row = next(line for line in text.splitlines() if line.startswith("| `note.title`"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 7, row
