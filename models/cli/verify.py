"""``eqr verify``: recalculate a run's workbook in LibreOffice and compare with Python."""
from __future__ import annotations

from pathlib import Path

from models.cli.common import add_reports_option
from models.errors import EqrError


def add_verify(sub) -> None:
    p = sub.add_parser("verify", help="recalculate a run's workbook in LibreOffice and compare",
                       description="Recalculate RUN/model.xlsx in headless LibreOffice (stored "
                                   "values ignored) and compare every formula cell with the "
                                   "value Python stored. Exit 1 on any mismatch.")
    p.add_argument("run", metavar="RUN", help="run folder, its name under reports/, 'latest', "
                                              "or a model.xlsx")
    add_reports_option(p)
    p.set_defaults(func=cmd_verify)


def cmd_verify(args) -> int:
    import tempfile
    from models.recalc import compare, recalculate
    from models.reproduce import find_run
    given = Path(args.run)
    # RUN resolves as for rerun and diff: a folder, a run name under reports/, or latest
    path = given if given.is_file() else find_run(args.run, args.reports) / "model.xlsx"
    if not path.is_file():
        raise EqrError("no workbook found", key="RUN", expected="a run folder with model.xlsx",
                       found=str(args.run))
    with tempfile.TemporaryDirectory(prefix="eqr-verify-") as tmp:
        checked, mismatches = compare(path, recalculate(path, Path(tmp)))
    for sheet, coord, formula, ours, theirs in mismatches[:20]:
        print(f"{sheet}!{coord}: Python {ours!r} vs LibreOffice {theirs!r}  ({formula[:80]})")
    print(f"{checked} formula cells checked, {len(mismatches)} mismatches")
    return 1 if mismatches else 0
