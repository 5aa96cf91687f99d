"""What every command shares: the parser class, the assumption options, resolving them, and
printing warnings and paths."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from models.errors import EqrError

if TYPE_CHECKING:
    from models.assumptions import Assumptions

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: same one-line shape, exit 2
        usage_exit(f"{message} (see '{self.prog} --help')")


def usage_exit(message: str):
    print(f"eqr: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USER_ERROR)


def add_assumption_options(p: argparse.ArgumentParser) -> None:
    """Options every command that resolves assumptions takes."""
    p.add_argument("--scenario", action="append", default=[], metavar="NAME",
                   help="apply assumptions/scenarios/NAME.yaml (repeatable, applied in order)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override one assumption, e.g. china.levy_rate=0.15 or "
                        "nvda.dc_growth_qoq.Q3FY2027=0.05 (repeatable, applied last)")
    p.add_argument("--assumptions", type=Path, default=None, metavar="DIR",
                   help="folder of assumption sheets (default: the bundled assumptions/)")
    p.add_argument("--force", action="store_true",
                   help="accept values outside an assumption's bounds")


def add_reports_option(p: argparse.ArgumentParser) -> None:
    """``--reports DIR``: where run folders and ``latest`` are (build, rerun, verify, diff)."""
    p.add_argument("--reports", type=Path, default=None, metavar="DIR",
                   help="folder that holds run folders and 'latest' (default: reports/)")


def add_templates_option(p: argparse.ArgumentParser) -> None:
    """``--templates DIR``: memo templates that replace the bundled ones of the same name."""
    p.add_argument("--templates", type=Path, default=None, metavar="DIR",
                   help="folder of memo templates; a file there replaces the bundled "
                        "template of the same name (e.g. memo.md.j2, sections/china.md.j2)")


def resolve_from_args(args) -> Assumptions:
    from models.assumptions import ASSUMPTIONS_DIR, resolve
    return resolve(args.scenario, args.overrides, args.assumptions or ASSUMPTIONS_DIR,
                   force=args.force)


def compared_scenarios(args, a, overrides=None) -> dict:
    """The ``--compare`` scenarios resolved (name → assumptions), or {} with --no-compare.
    Each gets this run's overrides (``--set``, or the edits read back from a workbook)."""
    from models.assumptions import ASSUMPTIONS_DIR
    from models.compare import default_names, parse_names, resolve_scenarios
    if args.no_compare:
        if args.compare is not None:
            raise EqrError("--compare and --no-compare together", key="--compare",
                           expected="one of them", found=args.compare)
        return {}
    directory = args.assumptions or ASSUMPTIONS_DIR
    names = (parse_names(args.compare) if args.compare is not None
             else default_names(a, directory))
    return resolve_scenarios(names, args.overrides if overrides is None else overrides,
                             directory, force=args.force)


def print_warnings(warnings: list[str]) -> None:
    """After a successful build: one line per changed input that the current choices
    disconnect (models.effects). The run proceeds."""
    for message in warnings:
        print(f"eqr: warning: {message}", file=sys.stderr)


def print_path(path: Path) -> None:
    """Print a path on stdout even if it is not valid UTF-8 (bytes from the command line)."""
    try:
        print(path, flush=True)
    except UnicodeEncodeError:
        print(os.fsencode(path).decode("utf-8", "backslashreplace"), flush=True)
