"""``eqr new model NAME``: scaffold a model (models.scaffold)."""
from __future__ import annotations

from pathlib import Path

from models.cli.common import Parser, print_path


def add_new(sub) -> None:
    p = sub.add_parser("new", help="scaffold a new model (eqr new model NAME)",
                       description="Write the files of something new; see "
                                   "docs/adding-a-model.md.")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", parser_class=Parser)
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
