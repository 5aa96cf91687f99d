"""Command line: ``eqr`` / ``python -m models``.

Every command prints a short error and exits with code 2 on bad input (no traceback).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from models import __version__
from models.errors import EqrError

EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: same shape, exit 2
        self.print_usage(sys.stderr)
        _usage_exit(message)


def _usage_exit(message: str):
    print(f"eqr: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USER_ERROR)


def add_assumption_options(p: argparse.ArgumentParser) -> None:
    """Options every command that resolves assumptions takes."""
    p.add_argument("--scenario", action="append", default=[], metavar="NAME",
                   help="apply assumptions/scenarios/NAME.yaml (repeatable, applied in order)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override one assumption, e.g. china.levy_rate=0.15 or "
                        "china.h200_units.CY2026=1200000 (repeatable, applied last)")
    p.add_argument("--assumptions", type=Path, default=None, metavar="DIR",
                   help="folder of assumption sheets (default: the bundled assumptions/)")
    p.add_argument("--force", action="store_true",
                   help="accept values outside an assumption's bounds")


def resolve_from_args(args) -> "Assumptions":  # noqa: F821
    from models.assumptions import ASSUMPTIONS_DIR, resolve
    return resolve(args.scenario, args.overrides, args.assumptions or ASSUMPTIONS_DIR,
                   force=args.force)


# --------------------------------------------------------------------------- build
def add_build(sub) -> None:
    p = sub.add_parser("build", help="build a run: workbook, outputs, memo",
                       description="Resolve the assumptions (base sheets, scenarios, --set), run "
                                   "every model and write a run folder with model.xlsx, "
                                   "outputs.json, cells.json, manifest.json and the memo.")
    add_assumption_options(p)
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write the run here (a new or empty folder) instead of reports/<run id>")
    p.add_argument("--reports", type=Path, default=None, metavar="DIR",
                   help="folder that holds run folders and 'latest' (default: reports/)")
    p.add_argument("--templates", type=Path, default=None, metavar="DIR",
                   help="folder of memo templates; a file there replaces the bundled "
                        "template of the same name (e.g. memo.md.j2, sections/china.md.j2)")
    p.add_argument("--pdf", action=argparse.BooleanOptionalAction, default=True,
                   help="write memo.pdf (WeasyPrint; the default); --no-pdf skips it")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4",
                   help="page size of memo.html's print CSS and memo.pdf (default: a4)")
    p.set_defaults(func=cmd_build)


def cmd_build(args) -> int:
    from models.runs import write_run
    a = resolve_from_args(args)
    folder = write_run(a, out=args.out, reports_dir=args.reports,
                       templates_dir=args.templates, pdf=args.pdf, paper=args.paper)
    print(folder)
    return 0


# --------------------------------------------------------------------------- assumptions
def add_assumptions(sub) -> None:
    p = sub.add_parser("assumptions", help="list resolved assumptions with sources",
                       description="Show every assumption's key, value, unit, source and which "
                                   "file, scenario or --set gave it its value.")
    add_assumption_options(p)
    p.add_argument("--model", default=None, help="only this model's assumptions")
    p.set_defaults(func=cmd_assumptions)


def cmd_assumptions(args) -> int:
    from models.memo import format_by_unit
    a = resolve_from_args(args)
    rows = [(k, format_by_unit(it.value, it.unit), it.unit, it.set_by, it.source)
            for k, it in a.items.items() if args.model in (None, it.model)]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[4])
    return 0


# --------------------------------------------------------------------------- verify
def add_verify(sub) -> None:
    p = sub.add_parser("verify", help="recalculate a run's workbook in LibreOffice and compare",
                       description="Recalculate RUN/model.xlsx in headless LibreOffice (stored "
                                   "values ignored) and compare every formula cell with the "
                                   "value Python stored. Exit 1 on any mismatch.")
    p.add_argument("run", type=Path, help="a run folder (or a model.xlsx)")
    p.set_defaults(func=cmd_verify)


def cmd_verify(args) -> int:
    import tempfile
    from models.recalc import compare, recalculate
    path = args.run / "model.xlsx" if args.run.is_dir() else args.run
    if not path.is_file():
        raise EqrError("no workbook found", key="RUN", expected="a run folder with model.xlsx",
                       found=str(args.run))
    with tempfile.TemporaryDirectory(prefix="eqr-verify-") as tmp:
        checked, mismatches = compare(path, recalculate(path, Path(tmp)))
    for sheet, coord, formula, ours, theirs in mismatches[:20]:
        print(f"{sheet}!{coord}: Python {ours!r} vs LibreOffice {theirs!r}  ({formula[:80]})")
    print(f"{checked} formula cells checked, {len(mismatches)} mismatches")
    return 1 if mismatches else 0


# --------------------------------------------------------------------------- main
COMMANDS: list[Callable] = [add_build, add_assumptions, add_verify]


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="eqr", description="Equity-research models for Nvidia and the AI supply "
                                        "chain: assumption sheets → live-formula Excel "
                                        "workbook → memo.")
    p.add_argument("--version", action="version", version=f"eqr {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add in COMMANDS:
        add(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except EqrError as err:
        print(f"eqr: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("eqr: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
