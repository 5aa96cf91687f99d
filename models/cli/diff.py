"""``eqr diff RUN_A RUN_B``: what changed between two runs and why (models.diff)."""
from __future__ import annotations

from pathlib import Path

from models.diff import (EXACT_LIMIT, SAMPLES, SEED, compute, render_markdown, render_text,
                         render_xlsx)
from models.cli.common import add_reports_option
from models.errors import EqrError
from models.reproduce import load_run


def add_diff(sub) -> None:
    p = sub.add_parser("diff", help="what changed between two runs, and why",
                       description="List the assumptions that changed between two runs and "
                                   "how each headline output changed, attributed to each "
                                   "changed assumption: one at a time and by Shapley values "
                                   "(which add up to the change).")
    p.add_argument("run_a", metavar="RUN_A", help="run folder, its name under reports/, or "
                                                  "'latest'")
    p.add_argument("run_b", metavar="RUN_B", help="the run to compare with RUN_A")
    p.add_argument("--md", type=Path, default=None, metavar="FILE",
                   help="also write the diff as Markdown (a new file; never overwritten)")
    p.add_argument("--xlsx", type=Path, default=None, metavar="FILE",
                   help="also write the diff as an Excel workbook (a new file)")
    p.add_argument("--output", action="append", default=[], metavar="NAME",
                   help="attribute this output too (model.row or model.row.PERIOD); repeatable")
    add_reports_option(p)
    p.add_argument("--assumptions", type=Path, default=None, metavar="DIR",
                   help="assumption sheets for runs whose manifest predates full records")
    p.add_argument("--exact-limit", type=int, default=EXACT_LIMIT, metavar="K",
                   help=f"enumerate all 2^k mixes up to K changed assumptions "
                        f"(default {EXACT_LIMIT}); beyond, sample orderings")
    p.add_argument("--samples", type=int, default=SAMPLES, metavar="N",
                   help=f"random orderings when sampling (default {SAMPLES})")
    p.add_argument("--seed", type=int, default=SEED, help="seed for the sampled orderings")
    p.set_defaults(func=cmd_diff)


def cmd_diff(args) -> int:
    from models.newfile import write_new_files
    if args.exact_limit < 0 or args.exact_limit > 20:
        raise EqrError("--exact-limit out of range", key="--exact-limit",
                       expected="0 to 20 (2^20 mixes)", found=args.exact_limit)
    if args.samples < 1:
        raise EqrError("--samples must be positive", key="--samples", found=args.samples)
    for path in (args.md, args.xlsx):
        if path is not None and (path.exists() or path.is_symlink()):
            raise EqrError("file exists already", file=str(path), expected="a new file name",
                           hint="earlier files are never overwritten")
    run_a = load_run(args.run_a, args.reports)
    run_b = load_run(args.run_b, args.reports)
    d = compute(run_a, run_b, directory=args.assumptions,
                exact_limit=args.exact_limit, samples=args.samples, seed=args.seed,
                extra_outputs=args.output)
    print(render_text(d), end="")
    # both files rendered, then written together: both land or neither (issue 17)
    files = ([(args.md, render_markdown(d), "Markdown diff")] if args.md is not None else []) \
        + ([(args.xlsx, render_xlsx(d), "Excel diff")] if args.xlsx is not None else [])
    for path in write_new_files(files):
        print(f"wrote {path}")
    return 0
