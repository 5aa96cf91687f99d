"""Benchmark the rerun tools; prints JSON. Run from the repository root:

    python benchmarks/reruns.py

Measures (median of a few repeats, seconds): reading back a run's workbook (read_inputs +
validation against the baseline), and ``models.diff.compute`` with k changed assumptions, exact
(2^k mixes in one batch) and sampled (2,000 orderings × (k+1) mixes).
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's models

from models.assumptions import resolve, set_value
from models.cli import main
from models.diff import compute
from models.readback import read_back


def timed(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run_record(a):
    """A recorded run as diff reads it (manifest + outputs), without writing a folder."""
    from models import engine
    from models.reproduce import Run
    from models.runs import manifest
    m = json.loads(json.dumps(manifest(a, "bench", "2026-01-01T00:00:00+00:00", {})))
    return Run(Path("bench"), m, json.loads(json.dumps(engine.run(a).outputs)))


def changed(base, k: int):
    """B: the first k numeric scalar assumptions moved by 10% (within their bounds)."""
    b = base
    keys = [key for key, it in base.items.items()
            if not it.is_series and isinstance(it.value, float) and it.value > 0][:k]
    for key in keys:
        item = base.items[key]
        upper = item.bounds[1]
        new = item.value * 1.1 if upper is None or item.value * 1.1 <= upper else item.value * 0.9
        b = set_value(b, key, new, set_by="bench", force=True)
    return b, len(keys)


def main_() -> None:
    out: dict = {}
    base = resolve()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        main(["build", "--out", str(run)])
        out["readback_s"] = round(timed(lambda: read_back(run / "model.xlsx")), 4)
    ra = run_record(base)
    for k in (2, 4, 8, 12):
        b, got = changed(base, k)
        rb = run_record(b)
        out[f"diff_exact_k{got}_s"] = round(timed(lambda: compute(ra, rb)), 4)
        if got == 12:
            out[f"diff_sampled_k{got}_2000_orderings_s"] = round(
                timed(lambda: compute(ra, rb, exact_limit=4), repeat=1), 4)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main_()
