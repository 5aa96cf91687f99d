"""Number formats are defined once (models.formats, issue 14) and read from there by the
workbook, the Scenarios sheet, eqr diff and the memo."""
from models import compare_sheet, formats, memo, workbook


def test_a_row_takes_its_own_format_else_its_units():
    assert formats.excel_format("fraction") == "0.0%"
    assert formats.excel_format("USD m", "#,##0") == "#,##0"
    assert formats.excel_format("no such unit") == formats.DEFAULT_FORMAT == "#,##0.00"
    assert compare_sheet.num("fraction") == "0.0%"


def test_the_workbook_and_the_memo_read_the_one_table():
    assert workbook.NUMBER_FORMATS is formats.NUMBER_FORMATS
    assert set(memo.UNIT_FILTERS) == set(formats.MEMO_FILTERS)
    assert memo.UNIT_FILTERS["fraction"](0.4567) == "45.7%"  # one decimal, as "0.0%" shows
    assert memo.UNIT_FILTERS["USD m"](40_000) == "$40.0bn"
