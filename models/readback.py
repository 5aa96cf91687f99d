"""Read back a workbook a user edited in Excel: the blue cells of its Inputs sheet.

``eqr build --from-workbook edited.xlsx`` reads every input cell of the Inputs sheet (the layout
of :mod:`models.workbook`: column C the key, D a scalar's value, E… a series' values under the
periods of its model's header row), validates each value with the same code that validates a
``--set`` value (:func:`models.assumptions.set_value`, so the same errors, here naming the
workbook, sheet, cell and key), and applies the values that differ from the baseline as
overrides set by ``workbook``. The resulting run equals a run given the same values by
``--set`` (same resolved values, same hash, same outputs.json).

The baseline is the scenarios given with ``--scenario``; without them, the scenarios the
workbook was built with (its Cover sheet), so "what changed in Excel" is measured against what
the workbook showed when it was written.

Decisions (README, "Editing the workbook in Excel"):

* A formula typed into an input cell: its value as last computed by Excel or LibreOffice (the
  value stored in the file) is used, and a note says so; the formula itself is not kept. A
  formula with no stored value (the file was saved by a program that does not calculate, such as
  openpyxl) is an error: open and save it in Excel, or type the number.
* Text where a number is needed (``'40000`` or a cell formatted as text) is an error, as the text
  ``"40000"`` is in a YAML sheet; Excel's error values (``#DIV/0!``) are errors.
* An unknown figure (``unknown: true`` in its sheet) is written ``=NA()``; a cell still showing
  ``#N/A`` is not an edit, a number typed over it is. ``#N/A`` in a known figure's cell is an
  error (unknowns are declared in the sheets).
* A number that equals the baseline to 15 significant digits (all Excel keeps of a typed
  number) is not an edit: the baseline's exact value is kept.
* Rows the workbook has that the assumption sheets do not (renamed in the sheets since, or a key
  edited in column C) are errors; rows the workbook was written with (its defined names) that
  are gone from the Inputs sheet (deleted) are errors; assumptions added to the sheets since the
  workbook was written take the sheets' value, with a note.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from models.assumptions import Assumptions, apply_override, available_scenarios, \
    refuse_repeated_key, \
    check_scalar, check_text, resolve, scenario_path, set_value
from models.errors import EqrError, did_you_mean
from models.newfile import write_new
from models.registry import MODELS
from models.workbook import CHECKS, COL_FIRST_PERIOD, COL_KEY, COL_VALUE, COVER, INPUTS

GAP = "#N/A"  # what an unknown figure's input cell shows (=NA()): still unknown, not an edit
WORKBOOK_TITLE = "eqr model"  # the document title models.workbook gives every workbook
REL_SAME = 1e-15  # a read value within this relative distance of the baseline is not an edit


# =========================================================================== reading the file
@dataclass
class InputCell:
    """One blue cell: which key (``model.name`` or ``model.name.PERIOD``) and what it holds."""

    key: str
    coord: str            # e.g. "D8"
    value: Any            # the value to validate (a formula's stored result)
    formula: str | None = None
    row: int = 0          # 1-based
    col: int = 0          # 0-based


@dataclass
class WorkbookInputs:
    """Everything read from an edited workbook."""

    path: Path
    shown: str                                   # how errors name the file
    sha256: str
    cells: dict[str, InputCell]                  # flat key → cell
    rows: dict[str, int]                         # assumption key → 1-based row
    key_cells: dict[str, str]                    # assumption key → its column-C cell
    sources: dict[str, str]                      # assumption key → text in its Source cell
    periods: dict[str, tuple[str, ...]]          # model → periods of its header row
    header_cells: dict[str, str]                 # model → its header row's first period cell
    defined: set[str]                            # input keys the workbook's defined names hold
    scenarios: list[str] | None                  # from the Cover sheet (None: not recorded)
    run_id: str | None


def _letter(col0: int) -> str:
    from models.lineitems import col_letter
    return col_letter(col0)


def _open(path: Path, shown: str, data_only: bool):
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except FileNotFoundError:
        raise EqrError("workbook not found", file=shown) from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError,
            SyntaxError) as exc:  # SyntaxError: xml.etree's ParseError
        raise EqrError("cannot read the workbook", file=shown,
                       expected="an Excel .xlsx workbook written by eqr build",
                       found=f"{exc.__class__.__name__}: {exc}"[:200]) from None


#: the largest uncompressed part read from an .xlsx (eqr's Inputs sheet is well under 10 MB);
#: refused before decompressing, so a zip bomb cannot fill memory or disk
MAX_PART_BYTES = 200_000_000
_XML_CHUNK = 1 << 20


class _Refused(Exception):
    """Raised from an expat handler: the part declares a DTD or an entity."""


def check_xml_parts(path: Path, shown: str) -> None:
    """Every XML part of the workbook is well-formed XML with no DTD: checked with expat
    before openpyxl reads anything (issue 17).

    A document type declaration (``<!DOCTYPE``) is refused wherever it appears, with or
    without entities: an .xlsx never needs one, and it is how "billion laughs" entity
    expansion and external entities (``SYSTEM "file:///etc/passwd"``) get in. Checking with
    expat's own handlers (not by searching bytes) also covers parts in UTF-16 or another
    declared encoding. A part that is not well-formed is named with its line and column.
    """
    from xml.parsers import expat
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise EqrError("workbook not found", file=shown) from None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise EqrError("cannot read the workbook", file=shown,
                       expected="an Excel .xlsx workbook written by eqr build",
                       found=f"{exc.__class__.__name__}: {exc}"[:200]) from None
    with archive:
        for info in archive.infolist():
            if not info.filename.lower().endswith((".xml", ".rels")):
                continue  # VML (Excel's is often not well-formed) and images: never parsed
            where = f"{shown}:{info.filename}"
            if info.file_size > MAX_PART_BYTES:
                raise EqrError("a part of the workbook is far larger than an eqr workbook's",
                               file=where, expected=f"at most {MAX_PART_BYTES:,} bytes "
                               "uncompressed", found=f"{info.file_size:,} bytes")
            parser = expat.ParserCreate()
            parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

            def refuse(*_args):
                raise _Refused()

            parser.StartDoctypeDeclHandler = refuse
            parser.EntityDeclHandler = refuse
            try:
                with archive.open(info) as part:
                    while chunk := part.read(_XML_CHUNK):
                        parser.Parse(chunk, False)
                parser.Parse(b"", True)
            except _Refused:
                raise EqrError("a part of the workbook declares a DTD or an entity (an "
                               "entity-expansion or external-entity attack?)", file=where,
                               line=parser.CurrentLineNumber,
                               expected="plain XML with no <!DOCTYPE> or <!ENTITY>",
                               hint="Excel never writes these; the file was altered") from None
            except expat.ExpatError as exc:
                raise EqrError(f"a part of the workbook is not well-formed XML: "
                               f"{expat.ErrorString(exc.code)} at column {exc.offset + 1}",
                               file=where, line=exc.lineno,
                               expected="an .xlsx saved by Excel, LibreOffice or eqr") from None
            except (zipfile.BadZipFile, OSError, ValueError, EOFError,
                    NotImplementedError) as exc:  # a bad CRC, an unsupported compression
                raise EqrError("cannot read a part of the workbook", file=where,
                               found=f"{exc.__class__.__name__}: {exc}"[:200]) from None


def _is_eqr(book) -> bool:
    names = set(book.sheetnames)
    return (getattr(book.properties, "title", None) == WORKBOOK_TITLE
            or {COVER, CHECKS} <= names)


def read_inputs(path: Path, shown: str | None = None) -> WorkbookInputs:
    """Read the Inputs sheet (values and formulas), the Cover's scenarios and defined names.

    The file is opened once for what is typed in the cells; only if an input cell holds a
    formula is it opened again for the values Excel stored for formulas.
    """
    path = Path(path)
    shown = shown or str(path)
    if path.is_dir():
        raise EqrError("the workbook is a folder", file=shown, expected="an .xlsx file")
    check_xml_parts(path, shown)
    formulas = _open(path, shown, data_only=False)
    try:
        if INPUTS not in formulas.sheetnames:
            if _is_eqr(formulas):
                raise EqrError(f"the workbook has no {INPUTS} sheet (renamed or deleted?)",
                               file=shown, expected=f"a sheet named {INPUTS!r}",
                               found=formulas.sheetnames)
            raise EqrError("not an eqr workbook", file=shown,
                           expected=f"a model.xlsx written by eqr build (with an {INPUTS} "
                                    "sheet)", found=f"sheets {formulas.sheetnames}")
        book = _parse_inputs(formulas[INPUTS], shown)
        book.path, book.sha256 = path, hashlib.sha256(path.read_bytes()).hexdigest()
        book.defined = _input_names(formulas)
        book.scenarios, book.run_id = _cover(formulas)
    finally:
        formulas.close()
    if any(c.formula is not None for c in book.cells.values()):
        _fill_formula_values(book, path, shown)
    return book


def _fill_formula_values(book: WorkbookInputs, path: Path, shown: str) -> None:
    """A formula in an input cell: take the value Excel/LibreOffice stored for it."""
    values = _open(path, shown, data_only=True)
    try:
        grid = _grid(values[INPUTS])
    finally:
        values.close()
    for cell in book.cells.values():
        if cell.formula is None:
            continue
        r, c = cell.row - 1, cell.col
        stored = _cell(grid, r, c)
        where = f"{shown}:{INPUTS}!{cell.coord}"
        if stored is None or stored.value is None:
            raise EqrError("a formula in an input cell has no computed value", key=cell.key,
                           file=where, expected="a number typed in, or a formula saved by "
                           "Excel or LibreOffice (which store its result)", found=cell.formula,
                           hint="open the workbook in Excel or LibreOffice and save it, or "
                                "type the value")
        if stored.data_type == "e" and stored.value == GAP:
            cell.value = GAP
            continue
        _no_error_value(stored, cell.key, where)
        cell.value = stored.value


#: the most rows and columns an Inputs sheet may span when read back (eqr writes a few hundred
#: rows and a few dozen columns); checked on the sheet's declared dimension before iterating,
#: so a value parked at XFD1048576 cannot make the reader walk billions of empty cells
MAX_INPUT_ROWS = 20_000
MAX_INPUT_COLUMNS = 500
MAX_CELL_TEXT = 10_000


def _grid(ws) -> list[list[Any]]:
    rows, cols = _bounded_size(ws)
    try:
        return [list(r) for r in ws.iter_rows(min_row=1, max_row=rows, max_col=cols)]
    except SyntaxError as exc:  # xml.etree's ParseError (check_xml_parts should come first)
        raise EqrError(f"the {ws.title} sheet is not well-formed XML", key=ws.title,
                       found=str(exc)[:200]) from None


def _bounded_size(ws) -> tuple[int, int]:
    """(rows, columns) the sheet declares, refused above the limits."""
    try:
        from openpyxl.utils.cell import range_boundaries
        dimension = ws.calculate_dimension()
        _, _, max_col, max_row = range_boundaries(dimension)
    except (ValueError, TypeError, AttributeError):
        max_row, max_col = ws.max_row or 0, ws.max_column or 0
    if (max_row or 0) > MAX_INPUT_ROWS or (max_col or 0) > MAX_INPUT_COLUMNS:
        raise EqrError(f"the {ws.title} sheet is far larger than an eqr workbook's",
                       key=ws.title,
                       expected=f"at most {MAX_INPUT_ROWS:,} rows and {MAX_INPUT_COLUMNS} "
                                f"columns", found=f"{max_row:,} rows × {max_col:,} columns",
                       hint="delete the cells far below or to the right of the inputs, or "
                            "rebuild the workbook")
    return max(1, max_row or 1), max(1, max_col or 1)


def _cell(grid, r: int, c: int):
    row = grid[r] if r < len(grid) else []
    return row[c] if c < len(row) else None


def _val(grid, r: int, c: int) -> Any:
    cell = _cell(grid, r, c)
    return None if cell is None else cell.value


def _parse_inputs(ws, shown: str) -> WorkbookInputs:
    grid = _grid(ws)
    where = f"{shown}:{INPUTS}!"
    book = WorkbookInputs(Path(shown), shown, "", {}, {}, {}, {}, {}, {}, set(), None, None)
    periods: tuple[str, ...] | None = None
    source_col: int | None = None
    header_r = 0
    for r in range(len(grid)):
        key = _val(grid, r, COL_KEY)
        if key == "Key" and _val(grid, r, COL_VALUE) == "Value":  # a model block's header
            periods, source_col = _header(grid, r)
            header_r = r
            continue
        if periods is None or not isinstance(key, str) or "." not in key.strip():
            continue
        key = key.strip()
        model = key.split(".", 1)[0]
        if model not in book.periods:
            book.periods[model] = periods
            book.header_cells[model] = f"{_letter(COL_FIRST_PERIOD)}{header_r + 1}"
        if key in book.rows:
            raise EqrError(f"the key appears twice on the {INPUTS} sheet", key=key,
                           file=f"{where}{_letter(COL_KEY)}{r + 1}",
                           found=f"rows {book.rows[key]} and {r + 1}")
        book.rows[key] = r + 1
        book.key_cells[key] = f"{_letter(COL_KEY)}{r + 1}"
        if source_col is not None and isinstance(_val(grid, r, source_col), str):
            source = _val(grid, r, source_col)
            # checked here, where the cell is known (set_value checks it again, cell-less)
            check_text(source, "source", f"{where}{_letter(source_col)}{r + 1}", None, key)
            book.sources[key] = source
        series = [(p, COL_FIRST_PERIOD + j) for j, p in enumerate(periods)]
        filled = [c for _, c in series if _val(grid, r, c) not in (None, "")]
        if filled:
            for p, c in series:
                book.cells[f"{key}.{p}"] = _input_cell(grid, r, c, f"{key}.{p}", where)
        book.cells[key] = _input_cell(grid, r, COL_VALUE, key, where)
    if not book.rows:
        raise EqrError("not an eqr workbook", file=f"{shown}:{INPUTS}",
                       expected="model blocks with a 'Key' / 'Value' header row and keys in "
                                "column C", found="no input rows")
    return book


def _header(grid, r: int) -> tuple[tuple[str, ...], int | None]:
    """The periods of a model block's header row and the column of its Source heading."""
    periods, c = [], COL_FIRST_PERIOD
    source_col = None
    while c < len(grid[r]):
        v = _val(grid, r, c)
        if v == "Source":
            source_col = c
            break
        if isinstance(v, str) and v.strip():
            periods.append(v.strip())
        c += 1
    return tuple(periods), source_col


def _input_cell(grid, r: int, c: int, key: str, where: str) -> InputCell:
    coord = f"{_letter(c)}{r + 1}"
    cell = _cell(grid, r, c)
    if cell is not None and cell.data_type == "f":
        text = str(getattr(cell.value, "text", cell.value))  # an array formula carries text
        if text.replace(" ", "").upper() == "=NA()":  # how eqr writes an unknown figure
            return InputCell(key, coord, GAP, row=r + 1, col=c)
        return InputCell(key, coord, None, formula=text, row=r + 1, col=c)
    if cell is not None and cell.data_type == "e" and cell.value == GAP:
        return InputCell(key, coord, GAP, row=r + 1, col=c)
    if cell is not None:
        _no_error_value(cell, key, where + coord)
    return InputCell(key, coord, None if cell is None else cell.value, row=r + 1, col=c)


def _no_error_value(cell, key: str, where: str) -> None:
    if cell is not None and cell.data_type == "e":
        raise EqrError("the cell shows an Excel error", key=key, file=where,
                       expected="a value", found=cell.value)


def _input_names(book) -> set[str]:
    """Keys of the defined names that point at the Inputs sheet (``#REF!`` after a deletion)."""
    out = set()
    try:
        names = list(book.defined_names.items())
    except AttributeError:  # openpyxl < 3.1
        names = [(d.name, d) for d in book.defined_names.definedName]
    for name, dn in names:
        text = str(getattr(dn, "attr_text", "") or "")
        if text.lstrip("=").replace("'", "").startswith(f"{INPUTS}!"):
            out.add(name)
    return out


def _cover(book) -> tuple[list[str] | None, str | None]:
    """The scenarios and run id the Cover sheet records (None where it does not)."""
    if COVER not in book.sheetnames:
        return None, None
    found = {}
    for row in book[COVER].iter_rows(min_row=1, max_row=12, max_col=2, values_only=True):
        if row and isinstance(row[0], str):
            found[row[0]] = row[1] if len(row) > 1 else None
    scen = found.get("Scenarios")
    scenarios = None
    if isinstance(scen, str):
        scenarios = [] if scen.strip() in ("", "base") else [
            s.strip() for s in scen.split(",") if s.strip()]
    run = found.get("Run")
    return scenarios, run if isinstance(run, str) else None


# =========================================================================== applying it
@dataclass
class Edit:
    """A value the workbook changed, relative to the baseline."""

    key: str         # flat key (``model.name`` or ``model.name.PERIOD``)
    cell: str        # ``Inputs!D8``
    old: Any
    new: Any
    formula: str | None = None


@dataclass
class Readback:
    """The assumptions a workbook gives, the edits it made and notes for the user."""

    assumptions: Assumptions
    baseline: Assumptions
    book: WorkbookInputs
    edits: list[Edit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def manifest(self) -> dict[str, Any]:
        """What manifest.json records about the workbook."""
        return {"workbook": {
            "file": self.book.shown, "sha256": self.book.sha256,
            "built_as_run": self.book.run_id,
            "baseline_scenarios": list(self.baseline.scenarios),
            "edits": [{"key": e.key, "cell": e.cell, "was": e.old, "value": e.new,
                       **({"formula": e.formula} if e.formula else {})}
                      for e in self.edits]}}


def override_text(value: Any) -> str:
    """A value as ``--set`` text that reads back as exactly the same value."""
    if value is None:
        return "unknown"  # an unknown figure (only ever an old value)
    if isinstance(value, str):
        return value
    f = float(value)
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    text = repr(f)
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:  # YAML 1.1 (PyYAML) reads 1e-05 as text, 1.0e-05 as a number
        text = f"{mantissa}.0e{exponent}"
    return text


def same_value(a: Any, b: Any) -> bool:
    """Equal, or numbers equal to 15 significant digits (all Excel keeps of a typed number)."""
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b
    return a == b or math.isclose(a, b, rel_tol=REL_SAME, abs_tol=0.0)


def _where(book: WorkbookInputs, coord: str) -> str:
    return f"{book.shown}:{INPUTS}!{coord}"


def _check_structure(book: WorkbookInputs, baseline: Assumptions) -> list[str]:
    """Refuse unknown or deleted rows and changed timelines; return notes on added ones."""
    unknown = [k for k in book.rows if k not in baseline.items]
    if unknown:
        key = unknown[0]
        cells = _listing([f"{book.key_cells[k]} {k}" for k in unknown])
        model = key.split(".", 1)[0]
        if model not in baseline.sheets:
            rows = [k for k in unknown if k.startswith(model + ".")]
            raise EqrError(f"the assumption sheets have no model {model!r}, which the workbook "
                           f"has ({len(rows)} input rows)", key=key,
                           file=_where(book, book.key_cells[key]),
                           expected=f"a sheet for each model on the workbook; the sheets have "
                                    f"{sorted(baseline.sheets)}",
                           hint="use the assumption sheets the workbook was built with "
                                "(--assumptions DIR)")
        if key in book.defined:
            raise EqrError("the assumption sheets no longer have this assumption (removed or "
                           "renamed since the workbook was written)", key=key,
                           file=_where(book, book.key_cells[key]),
                           expected="keys of the current sheets", found=cells,
                           hint=did_you_mean(key, baseline.items) or
                           "rebuild the workbook from the current sheets and redo the edit")
        raise EqrError("unknown assumption in column C (was the key edited?)", key=key,
                       file=_where(book, book.key_cells[key]),
                       expected="the key eqr wrote there", found=cells,
                       hint=did_you_mean(key, baseline.items))
    deleted = [k for k in baseline.items if k not in book.rows and k in book.defined]
    if deleted:
        raise EqrError(f"input row missing from the {INPUTS} sheet (deleted, or its key in "
                       "column C changed)", key=deleted[0], file=f"{book.shown}:{INPUTS}",
                       expected="every input row the workbook was written with",
                       found=f"no row for {_listing(deleted)}",
                       hint="undo the deletion, or rebuild the workbook")
    for model, periods in book.periods.items():
        if model in baseline.sheets and periods != baseline.periods(model):
            raise EqrError(f"the {model} timeline differs from its assumption sheet (changed "
                           "since the workbook was written?)", key=model,
                           file=_where(book, book.header_cells[model]),
                           expected=list(baseline.periods(model)), found=list(periods))
    added = [k for k in baseline.items if k not in book.rows
             and k.split(".", 1)[0] in MODELS]
    if not added:
        return []
    by_model: dict[str, list[str]] = {}
    for k in added:
        by_model.setdefault(k.split(".", 1)[0], []).append(k)
    notes = []
    for model, keys in by_model.items():
        if model in book.periods:
            notes.append(f"not on the workbook (added to the sheets since it was written?); "
                         f"value from the sheets: {_listing(keys, 10)}")
        else:
            notes.append(f"model {model} is not on the workbook; its {len(keys)} "
                         f"assumptions keep the sheets' values")
    return notes


def _listing(items: list[str], limit: int = 5) -> str:
    """``a, b, c`` or ``a, b, c, d, e and 7 more``."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _validate(baseline: Assumptions, book: WorkbookInputs, force: bool) -> list[Edit]:
    """Validate every input cell as a ``--set`` value; return the cells that changed."""
    flat = baseline.flat_values()
    edits = []
    for key, cell in book.cells.items():
        item_key = key if key in baseline.items else key.rpartition(".")[0]
        item = baseline.items.get(item_key)
        if item is None:
            continue
        if item.is_series and key == item_key:  # column D of a series row: not an input
            if not any(f"{key}.{p}" in book.cells for p in item.value):
                raise EqrError("a time series has a value for each period", key=key,
                               file=_where(book, cell.coord),
                               expected=f"values in the period columns "
                                        f"({', '.join(item.value)})", found=cell.value)
            continue
        if not item.is_series and key != item_key:
            continue  # something typed in a period column of a scalar row: not an input cell
        if cell.value == GAP:
            if item.unknown:
                continue  # still unknown
            raise EqrError(f"the cell shows {GAP} (not available)", key=key,
                           file=_where(book, cell.coord), expected=f"a value in {item.unit}",
                           found=GAP, hint="a figure no source gives is marked 'unknown: true' "
                                           "in its assumption sheet, not in the workbook")
        try:  # the check set_value applies to a --set value (key and period known here)
            new = check_scalar(item, cell.value, key, _where(book, cell.coord), None,
                               force=force)
        except EqrError as err:
            raise _with_text_hint(err, cell.value) from None
        if not same_value(new, flat[key]):
            edits.append(Edit(key, f"{INPUTS}!{cell.coord}", flat[key], new, cell.formula))
    return edits


def _with_text_hint(err: EqrError, raw: Any) -> EqrError:
    # the sheets' hint for a quoted number ("remove the quotes") means nothing in a cell
    if isinstance(raw, str) and err.expected and err.expected.startswith("a number") \
            and (err.hint is None or err.hint.startswith("it is quoted text")):
        return EqrError(err.message, file=err.file, line=err.line, key=err.key,
                        expected=err.expected, found=err.found,
                        hint="the cell holds text; retype it as a number, or use Excel's "
                             "Convert to Number")
    return err


def _source_for(book: WorkbookInputs, baseline: Assumptions, item_key: str,
                cells: list[str], today: str) -> str:
    typed = (book.sources.get(item_key) or "").strip()
    if typed and typed != baseline.items[item_key].source:
        return typed  # the analyst also wrote the new value's source into the Source cell
    return (f"workbook edit: {Path(book.shown).name} {', '.join(cells)} on {today} "
            f"(analyst's value; no source given)")


def apply_workbook(book: WorkbookInputs, baseline: Assumptions, force: bool = False,
                   today: dt.date | None = None) -> Readback:
    """The baseline with every edited cell applied as an override set by ``workbook``."""
    notes = _check_structure(book, baseline)
    edits = _validate(baseline, book, force)
    day = (today or dt.date.today()).isoformat()
    a = baseline.copy()
    by_item: dict[str, list[Edit]] = {}
    for e in edits:
        by_item.setdefault(e.key if e.key in a.items else e.key.rpartition(".")[0], []
                           ).append(e)
    for item_key, item_edits in by_item.items():
        old = baseline.items[item_key]
        source = _source_for(book, baseline, item_key, [e.cell for e in item_edits], day)
        was = "; ".join(f"{e.key} was {override_text(e.old)}" for e in item_edits)
        note = f"edited in Excel: {was} (set by {old.set_by})"
        for e in item_edits:
            a = set_value(a, e.key, e.new, set_by="workbook", source=source, note=note,
                          force=force)
            a.overrides.append(f"{e.key}={override_text(e.new)}")
    for e in edits:
        if e.formula:
            notes.append(f"{e.cell} ({e.key}) holds the formula {e.formula}; its computed "
                         f"value {override_text(e.new)} is used (the formula is not kept)")
    return Readback(a, baseline, book, edits, notes)


def baseline_scenarios(book: WorkbookInputs, given: list[str], directory: Path
                       ) -> tuple[list[str], list[str]]:
    """The scenarios to compare the workbook with, and a note on where they came from."""
    if given:
        return list(given), []
    recorded = book.scenarios or []
    if not recorded:
        return [], []
    known = available_scenarios(directory)
    gone = [s for s in recorded if s not in known]
    if gone:
        return [], [f"the workbook was built with scenario(s) {', '.join(gone)}, which no longer "
                    f"exist; edits are measured against the base sheets"]
    return recorded, [f"edits are measured against the workbook's own scenarios "
                      f"({', '.join(recorded)}, from its Cover sheet); --scenario overrides this"]


def read_back(path: Path, *, scenarios: list[str] = (), overrides: list[str] = (),
              directory: Path | None = None, force: bool = False,
              today: dt.date | None = None) -> Readback:
    """Workbook → resolved assumptions: baseline, then the workbook's edits, then ``--set``."""
    from models.assumptions import ASSUMPTIONS_DIR
    directory = Path(directory or ASSUMPTIONS_DIR)
    book = read_inputs(Path(path))
    names, notes = baseline_scenarios(book, list(scenarios), directory)
    baseline = resolve(names, (), directory, force=force)
    rb = apply_workbook(book, baseline, force=force, today=today)
    rb.notes[:0] = notes
    seen: dict[str, str] = {}
    for text in overrides:
        rb.assumptions = apply_override(rb.assumptions, text, force=force)
        refuse_repeated_key(seen, text)
    _check_models(rb)
    return rb


def _check_models(rb: Readback) -> None:
    """Each model's own checks of the resolved set (as ``resolve`` runs them after ``--set``),
    naming the workbook cell when the key is one the workbook edited."""
    from models import assumptions as assumptions_module
    check = getattr(assumptions_module, "check_models", None)
    if check is None:
        return
    try:
        check(rb.assumptions)
    except EqrError as err:
        cells = {e.key: e.cell for e in rb.edits}
        cells.update({e.key.rpartition(".")[0]: e.cell for e in rb.edits})
        if err.key in cells and not err.file:
            raise EqrError(err.message, file=f"{rb.book.shown}:{cells[err.key]}", key=err.key,
                           expected=err.expected, found=err.found, hint=err.hint) from None
        raise


# =========================================================================== saving a scenario
def overlay_document(rb: Readback, name: str, today: dt.date | None = None) -> str:
    """The scenario overlay (YAML text) holding the workbook's edits, and only those."""
    day = (today or dt.date.today()).isoformat()
    after = rb.baseline.scenarios
    description = (f"Edits made in Excel to {Path(rb.book.shown).name}"
                   + (f" (workbook of run {rb.book.run_id})" if rb.book.run_id else "")
                   + f", saved {day}")
    if after:
        description += (f"; apply after {', '.join(after)}: "
                        + " ".join(f"--scenario {s}" for s in [*after, name]))
    changes: dict[str, Any] = {}
    for e in rb.edits:
        item_key = e.key if e.key in rb.assumptions.items else e.key.rpartition(".")[0]
        item = rb.assumptions.items[item_key]
        value = e.new
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            value = int(value)
        changes[e.key] = {"value": value, "source": item.source,
                          "note": f"was {override_text(e.old)} ({rb.baseline.items[item_key].set_by});"
                                  f" {e.cell}" + (f" held {e.formula}" if e.formula else "")}
    header = (f"# Saved by `eqr build --from-workbook {Path(rb.book.shown).name} "
              f"--save-scenario {name}` on {day}.\n"
              "# Each value below came from the workbook edit; its source says so.\n")
    body = yaml.safe_dump({"description": description, "set": changes}, sort_keys=False,
                          allow_unicode=True, width=100)
    return header + body


def _overlay_reproduces(rb: Readback, text: str) -> bool:
    """Applying the overlay to the baseline gives exactly the workbook's values."""
    data = yaml.safe_load(text)
    a = rb.baseline
    for key, entry in data["set"].items():
        a = set_value(a, key, entry["value"], set_by="check", force=True)
    expected = rb.baseline.copy()
    for e in rb.edits:
        expected = set_value(expected, e.key, e.new, set_by="check", force=True)
    return a.flat_values() == expected.flat_values()


def prepare_overlay(rb: Readback, name: str, directory: Path,
                    today: dt.date | None = None) -> tuple[Path, str]:
    """Check the name and the edits; return the overlay's path and text (nothing written)."""
    path = scenario_path(name, directory)
    if path.exists() or path.is_symlink():  # a dangling symlink too
        raise EqrError("scenario exists already", key="--save-scenario", file=str(path),
                       expected="a new scenario name", found=name,
                       hint="overlays are never overwritten; choose another name")
    if not rb.edits:
        raise EqrError("no edits to save: every input equals the baseline",
                       key="--save-scenario", found=name,
                       expected="a workbook with at least one changed input")
    text = overlay_document(rb, name, today)
    if not _overlay_reproduces(rb, text):  # pragma: no cover - a bug, not a user error
        raise AssertionError("the scenario overlay does not reproduce the workbook's values")
    return path, text


def save_overlay(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_new(path, text, what="scenario overlay")
