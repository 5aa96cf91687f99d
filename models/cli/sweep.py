"""``eqr sweep``: draw N scenarios from the ranges (models.sweep), print the summary and write
``sweep.json``, ``histograms.txt`` and ``histograms.png`` into a new folder, atomically."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
from pathlib import Path

from models.cli.common import add_assumption_options, resolve_from_args
from models.errors import EqrError
from models.runs import REPORTS_DIR, check_out_dir
from models.sweep import (CHUNK, ProgressBar, check_size, choices_table, histogram_png,
                          histogram_text, plan, report, run_sweep, summarise, summary_table,
                          text_histogram, tornado)


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
    """``eqr sweep``: run, print the summary, write the report folder atomically."""
    a = resolve_from_args(args)
    if args.threads is not None and args.threads < 1:
        raise EqrError("bad number of threads", key="--threads", expected="an integer >= 1",
                       found=args.threads)
    if args.out is not None:
        check_out_dir(Path(args.out))
    sweep = plan(a, args.output or None)
    if args.n >= 1:
        check_size(args.n, len(sweep.outputs))
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    bar = ProgressBar(args.n) if show and args.n > CHUNK else None
    try:
        result = run_sweep(a, args.n, args.seed, threads=args.threads, progress=bar,
                           sweep=sweep)
    finally:
        if bar:
            bar.close()
    rep = report(result, sweep, summarise(result), tornado(a, sweep=sweep))
    if args.out is not None:
        final = Path(args.out)
    else:
        day = dt.date.today().isoformat()
        final = Path(REPORTS_DIR) / "sweeps" / f"{day}_n{args.n}_seed{result.seed}"
        check_out_dir(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".incomplete-" + final.name + "-", dir=final.parent))
    try:
        (tmp / "sweep.json").write_text(json.dumps(rep, indent=2) + "\n", encoding="utf-8")
        (tmp / "histograms.txt").write_text(histogram_text(rep), encoding="utf-8")
        histogram_png(result, rep, tmp / "histograms.png")
        if final.exists():
            final.rmdir()
        tmp.replace(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"{result.n:,} scenarios in {result.seconds:.3f} s "
          f"({result.n / result.seconds:,.0f} per second, {result.threads} threads); "
          f"seed {result.seed}")
    print(summary_table(rep))
    print(choices_table(rep))
    shown = "valuation.price_target" if "valuation.price_target" in rep["outputs"] else next(
        iter(rep["outputs"]))
    if rep["outputs"][shown].get("finite"):
        print(f"\n{shown}\n" + text_histogram(rep["outputs"][shown]))
    print(final)
    return 0
