"""Every bundled scenario's outputs, in memory, as one JSON file; or compare two such files.

Checks that a refactor changed no number (issue 14): run it on the commit before and after,

    PYTHONPATH=<checkout before> python benchmarks/scenario_outputs.py /tmp/before.json
    PYTHONPATH=<checkout after>  python benchmarks/scenario_outputs.py /tmp/after.json
    python benchmarks/scenario_outputs.py --compare /tmp/before.json /tmp/after.json

The base case and each overlay in assumptions/scenarios are run through ``engine.run`` (every
line item and grid output; what a build adds around them, the scenario columns and the risk
picture, is checked by ``benchmarks/compare_builds.py`` on two run folders).
"""
from __future__ import annotations

import argparse
import json
import math
import sys


def collect() -> dict[str, dict[str, float | None]]:
    from models import engine
    from models.assumptions import available_scenarios, resolve
    out = {}
    for name in ["base", *available_scenarios()]:
        values = engine.run(resolve([] if name == "base" else [name])).outputs
        out[name] = {k: v if isinstance(v, (int, float)) and math.isfinite(v) else None
                     for k, v in values.items()}
    return out


def compare(before: dict, after: dict) -> list[str]:
    """One line per scenario or output that is missing on one side or has another value."""
    lines = [f"scenario {s}: only in {'before' if s in before else 'after'}"
             for s in sorted(set(before) ^ set(after))]
    for s in sorted(set(before) & set(after)):
        for k in sorted(set(before[s]) | set(after[s])):
            x, y = before[s].get(k, "missing"), after[s].get(k, "missing")
            if x != y:
                lines.append(f"{s} {k}: {x} -> {y}")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="+", help="OUT.json, or BEFORE.json AFTER.json with --compare")
    p.add_argument("--compare", action="store_true")
    args = p.parse_args(argv)
    if not args.compare:
        data = collect()
        with open(args.files[0], "w", encoding="utf-8") as f:
            json.dump(data, f, sort_keys=True)
        print(f"{sum(map(len, data.values()))} outputs of {len(data)} scenarios")
        return 0
    before, after = (json.load(open(f, encoding="utf-8")) for f in args.files[:2])
    lines = compare(before, after)
    print("\n".join(lines[:50]) or "identical")
    print(f"{sum(map(len, before.values()))} outputs of {len(before)} scenarios compared; "
          f"{len(lines)} differ")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
