"""Command line: ``eqr`` / ``python -m models``.

Every command prints a short error and exits with code 2 on bad input (no traceback).
An unexpected exception is a bug in eqr, not bad input: one line, exit 1, and the traceback
only with ``--debug`` or ``EQR_DEBUG=1``. Run folders are atomic (models/runs.py), so neither
leaves partial output.
"""
from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Callable, Sequence

from models import __version__
from models.cli.assumptions import add_assumptions
from models.cli.build import add_build, add_check
from models.cli.common import EXIT_INTERNAL_ERROR, EXIT_USER_ERROR, Parser
from models.cli.diff import add_diff
from models.cli.new import add_new
from models.cli.rerun import add_rerun
from models.cli.sweep import add_sweep
from models.cli.verify import add_verify
from models.errors import EqrError

COMMANDS: list[Callable] = [add_build, add_check, add_assumptions, add_sweep, add_verify,
                            add_diff, add_rerun, add_new]


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="eqr", description="Equity-research models for Nvidia and the AI supply "
                                        "chain: assumption sheets → live-formula Excel "
                                        "workbook → memo.")
    p.add_argument("--version", action="version", version=f"eqr {__version__}")
    p.add_argument("--debug", action="store_true", default=False,
                   help="show the traceback of an internal error (also: EQR_DEBUG=1)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
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


#: the garbage collector's thresholds while a command runs: a build allocates millions of
#: short-lived objects (expression nodes, numpy scalars, matplotlib artists) and Python's default
#: (700, 10, 10) ran ~4 full collections per build, ~0.3 s of CPU; a command is short-lived,
#: so collect less often (issue 18; restored afterwards for in-process callers)
GC_THRESHOLDS = (100_000, 50, 100)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    debug = bool(getattr(args, "debug", False) or os.environ.get("EQR_DEBUG"))
    old_handlers = _catch_termination()
    old_gc = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
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
        gc.set_threshold(*old_gc)
        for signum, handler in old_handlers.items():
            try:
                signal.signal(signum, handler)
            except (ValueError, OSError, TypeError):
                pass


if __name__ == "__main__":
    raise SystemExit(main())
