"""Command line: ``eqr`` / ``python -m models``.

Every command prints a short error and exits with code 2 on bad input (no traceback).
An unexpected exception is a bug in eqr, not bad input: one line, exit 1, and the traceback
only with ``--debug`` or ``EQR_DEBUG=1``. Run folders are atomic (models/runs.py), so neither
leaves partial output.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Callable, Sequence

from models import __version__
from models.errors import EqrError

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: same one-line shape, exit 2
        _usage_exit(f"{message} (see '{self.prog} --help')")


def _usage_exit(message: str):
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


def cmd_build(args) -> int:
    from models.runs import write_run
    if args.from_workbook is not None or args.save_scenario is not None:
        return build_from_workbook(args)
    a = resolve_from_args(args)
    warnings: list[str] = []
    folder = write_run(a, out=args.out, reports_dir=args.reports,
                       templates_dir=args.templates, pdf=args.pdf, paper=args.paper,
                       scenarios=compared_scenarios(args, a), warnings=warnings)
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


# --------------------------------------------------------------------------- check
def add_check(sub) -> None:
    p = sub.add_parser("check", help="validate the assumptions and run the models; write nothing",
                       description="Everything `build` does except writing files: load and "
                                   "validate the sheets, scenarios and --set, run every model, "
                                   "compare the scenarios, refuse non-finite results, draw the "
                                   "charts and render the memo in memory (not the PDF). Exit 0 "
                                   "if a build would succeed, 2 with the error otherwise.")
    add_assumption_options(p)
    p.add_argument("--templates", type=Path, default=None, metavar="DIR",
                   help="memo templates folder (default: the bundled templates/)")
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


# --------------------------------------------------------------------------- assumptions
def add_assumptions(sub) -> None:
    p = sub.add_parser("assumptions", help="list resolved assumptions with sources",
                       description="Show every assumption's key, value, unit, source and which "
                                   "file, scenario overlay, --set or workbook edit gave it its "
                                   "value. The 'no effect while' column names the choice that "
                                   "disconnects an input in this run (e.g. china.h200_units "
                                   "while china.units_source = market); --set the choice to "
                                   "see it change.")
    add_assumption_options(p)
    p.add_argument("--model", default=None, help="only this model's assumptions")
    p.add_argument("--changed", action="store_true",
                   help="only what scenarios, --set or a workbook changed (with the base value)")
    p.add_argument("--from-workbook", type=Path, default=None, metavar="XLSX",
                   help="the inputs of a model.xlsx edited in Excel (see eqr build --help)")
    p.set_defaults(func=cmd_assumptions)


def cmd_assumptions(args) -> int:
    from models.assumptions import ASSUMPTIONS_DIR
    from models.listing import render, table
    if args.from_workbook is not None:
        from models.readback import read_back
        a = read_back(args.from_workbook, scenarios=args.scenario, overrides=args.overrides,
                      directory=args.assumptions, force=args.force).assumptions
    else:
        a = resolve_from_args(args)
    if args.model is not None and args.model not in a.sheets:  # not an empty listing
        from models.errors import did_you_mean
        raise EqrError("unknown model", key="--model", expected=f"one of {sorted(a.sheets)}",
                       found=args.model, hint=did_you_mean(args.model, a.sheets))
    from models.engine import run
    from models.listing import no_effect
    print(render(table(a, model=args.model, changed=args.changed,
                       directory=args.assumptions or ASSUMPTIONS_DIR,
                       inactive=no_effect(run(a)))), end="")
    return 0


# --------------------------------------------------------------------------- sweep
def add_sweep(sub) -> None:
    p = sub.add_parser("sweep", help="draw N scenarios from the assumption ranges, vectorised",
                       description="Draw N scenarios from the low/base/high ranges of the "
                                   "assumption sheets (triangular or uniform, per the sheet's "
                                   "dist), evaluate china -> valuation for all of them at once "
                                   "with numpy, and report percentiles and histograms.")
    add_assumption_options(p)
    p.add_argument("--n", type=int, required=True, metavar="N", help="number of scenarios")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="random seed (same seed and N, same numbers); default: a fresh seed, "
                        "printed so the sweep can be repeated")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write sweep.json, histograms.txt and histograms.png here (a new or "
                        "empty folder); default: reports/sweeps/<date>_n<N>_seed<S>")
    p.add_argument("--output", action="append", default=[], metavar="KEY",
                   help="an output to report (model.row or model.row.PERIOD; repeatable); "
                        "default: the valuation headlines")
    p.add_argument("--threads", type=int, default=None, metavar="T",
                   help="worker threads (default: 2, or 1 on a single core)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args) -> int:
    from models.sweep import run_sweep_command
    return run_sweep_command(args, resolve_from_args(args))


# --------------------------------------------------------------------------- verify
def add_verify(sub) -> None:
    p = sub.add_parser("verify", help="recalculate a run's workbook in LibreOffice and compare",
                       description="Recalculate RUN/model.xlsx in headless LibreOffice (stored "
                                   "values ignored) and compare every formula cell with the "
                                   "value Python stored. Exit 1 on any mismatch.")
    p.add_argument("run", metavar="RUN", help="run folder, its name under reports/, 'latest', "
                                              "or a model.xlsx")
    p.add_argument("--reports", type=Path, default=None,
                   help="folder that holds run folders and 'latest' (default: reports/)")
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


# --------------------------------------------------------------------------- main
def add_diff(sub) -> None:
    from models.diff import add_diff as add
    add(sub)


def add_rerun(sub) -> None:
    from models.reproduce import add_rerun as add
    add(sub)


# --------------------------------------------------------------------------- new
def add_new(sub) -> None:
    p = sub.add_parser("new", help="scaffold a new model (eqr new model NAME)",
                       description="Write the files of something new; see "
                                   "docs/adding-a-model.md.")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", parser_class=_Parser)
    kinds.required = True
    m = kinds.add_parser("model", help="a working model: sheet, module, chart, memo section, "
                                       "test",
                         description="Write assumptions/NAME.yaml, models/NAME.py, "
                                     "models/plots/NAME.py, templates/sections/NAME.md.j2 and "
                                     ".html.j2 and tests/test_NAME.py: a small working model "
                                     "that the next `eqr build` runs (the registry finds the "
                                     "module; no list to edit). Never overwrites a file.")
    m.add_argument("name", metavar="NAME", help="the model's name: a lower-case Python "
                                                "identifier, e.g. demo_co")
    m.add_argument("--root", type=Path, default=None, metavar="DIR",
                   help="project folder to write into (default: the one eqr runs from)")
    m.set_defaults(func=cmd_new_model)


def cmd_new_model(args) -> int:
    from models.scaffold import new_model
    for path in new_model(args.name, args.root):
        print_path(path)
    return 0


COMMANDS: list[Callable] = [add_build, add_check, add_assumptions, add_sweep, add_verify,
                            add_diff, add_rerun, add_new]


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="eqr", description="Equity-research models for Nvidia and the AI supply "
                                        "chain: assumption sheets → live-formula Excel "
                                        "workbook → memo.")
    p.add_argument("--version", action="version", version=f"eqr {__version__}")
    p.add_argument("--debug", action="store_true", default=False,
                   help="show the traceback of an internal error (also: EQR_DEBUG=1)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add in COMMANDS:
        add(sub)
    for command in sub.choices.values():  # `eqr build --debug` works as well as `eqr --debug`
        try:
            command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                                 help=argparse.SUPPRESS)
        except argparse.ArgumentError:
            pass
    return p


class _Terminated(BaseException):
    """SIGTERM/SIGHUP during a command: unwinds like Ctrl-C so temporary output is removed."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum, frame):
    raise _Terminated(signum)


def _catch_termination() -> dict:
    """Turn SIGTERM/SIGHUP into an exception (main thread only); returns the old handlers."""
    old = {}
    if hasattr(signal, "pthread_kill"):
        import threading
        if threading.current_thread() is not threading.main_thread():
            return old
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            try:
                old[signum] = signal.signal(signum, _raise_terminated)
            except (ValueError, OSError):
                pass
    return old


def _check_path_arguments(args) -> None:
    """Every path option: refuse a NUL byte before any file call trips over it."""
    from models.runs import check_path
    for name, value in vars(args).items():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, Path):
                check_path(v, "--" + name.replace("_", "-"))


def _quiet_broken_pipe() -> None:
    """stdout was closed (``eqr assumptions | head``): stop writing, without a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _what_was_written(exc: BaseException) -> str:
    """An interrupt after the run folder's rename leaves a complete run (models.runs marks the
    exception with it): name it rather than claim nothing was written (issue 17)."""
    written = getattr(exc, "eqr_written", None)
    if written is None:
        return "no run folder was written"
    return (f"the run was complete and is kept: {written} ('latest' may not point at it "
            f"yet)")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    debug = bool(getattr(args, "debug", False) or os.environ.get("EQR_DEBUG"))
    old_handlers = _catch_termination()
    try:
        _check_path_arguments(args)
        return args.func(args)
    except EqrError as err:
        print(f"eqr: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as exc:
        print(f"eqr: interrupted; {_what_was_written(exc)}", file=sys.stderr)
        return 130
    except _Terminated as term:
        print(f"eqr: terminated; {_what_was_written(term)}", file=sys.stderr)
        return 128 + term.signum
    except BrokenPipeError:
        _quiet_broken_pipe()
        return 0
    except Exception as exc:  # a bug in eqr, not bad input
        if debug:
            traceback.print_exc()
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        print(f"eqr: internal error: {exc.__class__.__name__}: {detail}\n"
              f"  This is a bug in eqr, not a problem with your input; no run folder was "
              f"written. Please report it with the command you ran"
              f"{'' if debug else ' and the traceback (run again with --debug or EQR_DEBUG=1)'}.",
              file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    finally:
        for signum, handler in old_handlers.items():
            try:
                signal.signal(signum, handler)
            except (ValueError, OSError, TypeError):
                pass


if __name__ == "__main__":
    raise SystemExit(main())
