"""``eqr rerun RUN``: rebuild a recorded run from its manifest and check its outputs
(models.reproduce)."""
from __future__ import annotations

import sys
from pathlib import Path

from models.cli.common import add_reports_option, add_templates_option
from models.reproduce import rerun


def add_rerun(sub) -> None:
    p = sub.add_parser("rerun", help="reproduce a recorded run from its manifest",
                       description="Rebuild a run from the resolved assumptions recorded in its "
                                   "manifest.json (even if the assumption sheets changed since) "
                                   "into a new folder, and check that outputs.json is "
                                   "identical. Exit code 1 if it is not.")
    p.add_argument("run", metavar="RUN", help="run folder, its name under reports/, or 'latest'")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write the rerun here (a new or empty folder) instead of reports/")
    add_reports_option(p)
    p.add_argument("--assumptions", type=Path, default=None, metavar="DIR",
                   help="current assumption sheets (compared by sha256; used only for runs "
                        "whose manifest predates full records)")
    add_templates_option(p)
    p.set_defaults(func=cmd_rerun)


def cmd_rerun(args) -> int:
    done = rerun(args.run, out=args.out, reports_dir=args.reports,
                 directory=args.assumptions, templates_dir=args.templates)
    for note in done.notes:
        print(f"eqr: note: {note}", file=sys.stderr)
    if done.differences:
        print(f"eqr: outputs.json differs from {done.original.run_id}'s in "
              f"{len(done.differences)} value(s):", file=sys.stderr)
        for line in done.differences[:20]:
            print(f"  {line}", file=sys.stderr)
    else:
        print(f"eqr: outputs.json identical to {done.original.run_id}'s "
              f"({len(done.original.outputs)} values)", file=sys.stderr)
    print(done.folder)
    return 1 if done.differences else 0
