"""``eqr build`` (from the sheets, or from a workbook edited in Excel) and ``eqr check``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models.cli.common import (add_assumption_options, add_reports_option, add_templates_option,
                               compared_scenarios, print_path, print_warnings,
                               resolve_from_args)
from models.errors import EqrError


def add_build(sub) -> None:
    p = sub.add_parser("build", help="build a run: workbook, outputs, memo",
                       description="Resolve the assumptions (base sheets, scenarios, --set), run "
                                   "every model and write a run folder with model.xlsx, "
                                   "outputs.json, cells.json, manifest.json and the memo.")
    add_assumption_options(p)
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write the run here (a new or empty folder) instead of reports/<run id>")
    add_reports_option(p)
    add_templates_option(p)
    p.add_argument("--pdf", action=argparse.BooleanOptionalAction, default=True,
                   help="write memo.pdf (WeasyPrint; the default); --no-pdf skips it")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4",
                   help="page size of memo.html's print CSS and memo.pdf (default: a4)")
    p.add_argument("--from-workbook", type=Path, default=None, metavar="XLSX",
                   help="take the inputs from the Inputs sheet of a model.xlsx edited in Excel "
                        "(edits are measured against --scenario, else the workbook's own "
                        "scenarios; --set applies after)")
    p.add_argument("--save-scenario", default=None, metavar="NAME",
                   help="with --from-workbook: also save the edits as "
                        "assumptions/scenarios/NAME.yaml (never overwrites)")
    p.add_argument("--compare", default=None, metavar="NAMES",
                   help="scenarios to show side by side on the Scenarios sheet and in the memo, "
                        "comma-separated, e.g. base,china_ban,bofa ('base' = no overlay, 'a+b' "
                        "stacks overlays; each also gets this run's --set). Default: base and "
                        "every overlay in assumptions/scenarios/ that changes an input of the "
                        "headline outputs (china, valuation)")
    p.add_argument("--no-compare", action="store_true",
                   help="no Scenarios sheet or scenario comparison")
    p.set_defaults(func=cmd_build)


def cmd_build(args) -> int:
    if args.from_workbook is not None or args.save_scenario is not None:
        return build_from_workbook(args)
    # the chart process and the PDF's printer first: they import matplotlib and WeasyPrint on
    # the other core while the sheets are read and the models run (models.painter,
    # models.printer)
    from models.painter import Painter
    from models.printer import Printer
    painter = printer = None
    try:
        painter = Painter()
        printer = Printer() if args.pdf else None
        from models.runs import write_run
        a = resolve_from_args(args)
        warnings: list[str] = []
        folder = write_run(a, out=args.out, reports_dir=args.reports,
                           templates_dir=args.templates, pdf=args.pdf, paper=args.paper,
                           scenarios=compared_scenarios(args, a), warnings=warnings,
                           printer=printer, painter=painter)
    finally:
        from models.runs import stop_helpers
        stop_helpers(painter, printer)  # a bad sheet, say; nothing to do after a build
    print_warnings(warnings)
    print_path(folder)
    return 0


def build_from_workbook(args) -> int:
    """``eqr build --from-workbook FILE [--save-scenario NAME]``."""
    from models.assumptions import ASSUMPTIONS_DIR
    from models.readback import override_text, prepare_overlay, read_back, save_overlay
    from models.runs import write_run
    directory = Path(args.assumptions or ASSUMPTIONS_DIR)
    if args.from_workbook is None:
        raise EqrError("--save-scenario needs --from-workbook", key="--save-scenario",
                       expected="eqr build --from-workbook FILE --save-scenario NAME")
    rb = read_back(args.from_workbook, scenarios=args.scenario, overrides=args.overrides,
                   directory=directory, force=args.force)
    overlay = prepare_overlay(rb, args.save_scenario, directory) if args.save_scenario \
        else None
    for note in rb.notes:
        print(f"eqr: note: {note}", file=sys.stderr)
    print(f"eqr: {len(rb.edits)} input(s) edited in {rb.book.shown}"
          + "".join(f"\n  {e.cell:<12} {e.key}: {override_text(e.old)} → "
                    f"{override_text(e.new)}" for e in rb.edits), file=sys.stderr)
    compare = compared_scenarios(args, rb.assumptions, overrides=rb.assumptions.overrides)
    # the overlay first (atomic, never over an existing file), then the run; if the run
    # fails the overlay goes again: both or neither (issue 17, case 4)
    saved = save_overlay(*overlay) if overlay else None
    warnings: list[str] = []
    try:
        folder = write_run(rb.assumptions, out=args.out, reports_dir=args.reports,
                           templates_dir=args.templates, pdf=args.pdf, paper=args.paper,
                           extra_manifest=rb.manifest(), scenarios=compare,
                           warnings=warnings)
    except BaseException as exc:
        if saved is not None and getattr(exc, "eqr_written", None) is None:
            saved.unlink(missing_ok=True)  # no run: no overlay (a run kept keeps it too)
        raise
    if saved is not None:
        print(f"eqr: saved the edits as scenario {args.save_scenario}: {saved}",
              file=sys.stderr)
    print_warnings(warnings)
    print_path(folder)
    return 0


# --------------------------------------------------------------------------- check
def add_check(sub) -> None:
    p = sub.add_parser("check", help="validate the assumptions and run the models; write nothing",
                       description="Everything `build` does except writing files: load and "
                                   "validate the sheets, scenarios and --set, run every model, "
                                   "compare the scenarios, refuse non-finite results, draw the "
                                   "charts and render the memo in memory (not the PDF). Exit 0 "
                                   "if a build would succeed, 2 with the error otherwise.")
    add_assumption_options(p)
    add_templates_option(p)
    p.add_argument("--paper", choices=("a4", "letter"), default="a4",
                   help="page size, as for build")
    p.add_argument("--compare", default=None, metavar="NAMES",
                   help="scenarios compared side by side, as for build (default: as build)")
    p.add_argument("--no-compare", action="store_true", help="no scenario comparison")
    p.add_argument("--quick", action="store_true",
                   help="only validate the sheets, scenarios and --set and define the models "
                        "(no evaluation, comparison, charts or memo): a fast first check")
    p.set_defaults(func=cmd_check)


def cmd_check(args) -> int:
    from models.runs import dry_run
    from models.workbook import check_passes
    a = resolve_from_args(args)
    if args.quick:
        from models.engine import build_specs
        specs = build_specs(a)
        print(f"ok (quick): {len(a.items)} assumptions in {len(a.sheets)} sheet(s), "
              f"{sum(len(s.rows) for s in specs.values())} rows defined; nothing written")
        return 0
    from models.expects import inert_warnings
    compared = compared_scenarios(args, a)
    result = dry_run(a, templates_dir=args.templates, paper=args.paper, scenarios=compared)
    print_warnings([item.message() for item in result.inactive]
                   + inert_warnings(a, compared))
    checks = [row for spec in result.specs.values() for row in spec.checks]
    failed = [row.key for row in checks if not check_passes(result, row)]
    print(f"ok: {len(a.items)} assumptions in {len(a.sheets)} sheet(s), "
          f"{len(result.outputs)} outputs, {len(checks) - len(failed)}/{len(checks)} checks "
          f"pass{' (failing: ' + ', '.join(failed) + ')' if failed else ''}; nothing written")
    return 0
