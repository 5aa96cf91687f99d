"""``eqr assumptions``: the resolved inputs with their sources."""
from __future__ import annotations

from pathlib import Path

from models.cli.common import add_assumption_options, resolve_from_args
from models.errors import EqrError


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
