"""Number formats, in one place: the Excel format of each unit on the workbook (and the
Scenarios sheet), the signed formats of ``eqr diff``'s workbook, and which of the memo's
filters (``models.memo.FILTERS``: '$40.0bn', '45.0%', …) shows each unit in the note.

A row may give its own format (``m.row(..., fmt=...)``); otherwise its unit decides.
"""
from __future__ import annotations

#: a unit's Excel number format on the workbook and the Scenarios sheet
NUMBER_FORMATS = {
    "USD m": '#,##0.0;(#,##0.0);"–"',
    "USD bn": '#,##0.00;(#,##0.00);"–"',
    "fraction": "0.0%",
    "fraction (signed)": "0.0%",
    "growth rate": "0.0%",
    "units": '#,##0;(#,##0);"–"',
    "count": "#,##0",
    "USD per unit": '"$"#,##0',
    "USD": '"$"#,##0',
    "USD per share": '"$"0.00;("$"0.00)',
    "bn shares": "0.000",
    "pp": '0.00" pp";-0.00" pp"',
    "flag": "0",
    "difference": "0.0E+00",
    "x": '0.0"x"',
    "years": "0.0",
}
DEFAULT_FORMAT = "#,##0.00"  # a unit not listed above
FLAG_FORMAT = "0"            # a check's pass/fail flag

#: ``eqr diff``'s workbook: differences are signed (−, not brackets) and carry more decimals
DIFF_FORMATS = {"USD m": '#,##0.0;-#,##0.0;"–"', "USD bn": '#,##0.00;-#,##0.00;"–"',
                "fraction": '0.00%;-0.00%;"–"', "USD per share": '0.0000;-0.0000;"–"'}
DIFF_DEFAULT_FORMAT = "#,##0.0000"


#: a unit's text format in the memo: the name of the filter that shows it (models.memo.FILTERS)
MEMO_FILTERS = {
    "fraction": "pct", "fraction (signed)": "pct", "growth rate": "pct", "USD m": "usd_m",
    "USD bn": "usd_bn",
    "USD per unit": "usd", "USD": "usd", "USD per share": "eps", "units": "units", "x": "mult",
    "pp": "pp"}


def excel_format(unit: str, fmt: str | None = None) -> str:
    """A row's Excel number format: its own ``fmt`` if it has one, else its unit's."""
    return fmt or NUMBER_FORMATS.get(unit, DEFAULT_FORMAT)
