"""Benchmarks: ``python benchmarks/run.py`` prints one JSON object.

* build: seconds for ``python -m models build --no-pdf`` in a fresh interpreter, next to the
  seconds a fresh interpreter takes to import the third-party libraries that build loads (found
  by running a build and listing its third-party modules) and, for reference, the list
  ``pandas, numpy, openpyxl, xlsxwriter, jinja2, yaml, matplotlib``. Medians of ``--reps``.
* sweep: scenarios per second at N = ``--n`` (default 1,000,000), median of ``--reps``.
* single: seconds per scenario through the single-run API (``engine.run(assumptions)`` and its
  line-item outputs) on ``--single`` scenarios drawn like the sweep's, and the sweep's
  per-scenario speedup over it (also: with ``Result.outputs``, which adds the grids, and with
  the cost of building each scenario's assumptions by ``set_value``).

Targets (issue 6; reported, never asserted): sweep of 1e6 ≤ 1 s on 2 cores; ≥ 100× faster per
scenario than single runs; full build ≤ 2× the import time.
Run it on a quiet machine: other processes on the 2 cores inflate every figure (the JSON records
the load average before and after).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BRIEF_LIBRARIES = ["pandas", "numpy", "openpyxl", "xlsxwriter", "jinja2", "yaml", "matplotlib"]

LIST_BUILD_MODULES = r"""
import io, contextlib, json, sys
from models.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["build", "--no-pdf", "--out", sys.argv[1]]) == 0
std = set(sys.stdlib_module_names)
mods = [m for m in list(sys.modules)
        if m.split(".")[0] not in std and m.split(".")[0] != "models"
        and not any(part.startswith("_") for part in m.split("."))]
print(json.dumps(mods))
"""

IMPORT_ALL = r"""
import importlib, sys
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""


CPU_SECONDS: dict[str, list[float]] = {}


def timed_subprocess(args: list[str], cwd: Path = ROOT, tag: str = "") -> float:
    """Wall seconds of a fresh interpreter running ``args``; its CPU seconds (user + sys, less
    sensitive to other load on the machine) are kept in ``CPU_SECONDS[tag]``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS.setdefault(tag, []).append(after.ru_utime - before.ru_utime
                                           + after.ru_stime - before.ru_stime)
    return wall


def median_of(fn, reps: int) -> tuple[float, list[float]]:
    times = [fn() for _ in range(reps)]
    return statistics.median(times), times


def cpu_median(tag: str) -> float:
    return statistics.median(CPU_SECONDS[tag])


def bench_build(reps: int) -> dict:
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="eqr-bench-") as tmp:
        tmp = Path(tmp)
        listed = subprocess.run([py, "-c", LIST_BUILD_MODULES, str(tmp / "list")], cwd=ROOT,
                                check=True, capture_output=True, text=True)
        modules = json.loads(listed.stdout.strip().splitlines()[-1])
        tops = sorted({m.split(".")[0] for m in modules})
        counter = iter(range(10_000))
        build, build_all = median_of(lambda: timed_subprocess(
            [py, "-m", "models", "build", "--no-pdf", "--out", str(tmp / f"b{next(counter)}")],
            tag="build"), reps)
        imports, imports_all = median_of(lambda: timed_subprocess(
            [py, "-c", IMPORT_ALL, *modules], tag="imports"), reps)
        brief, brief_all = median_of(lambda: timed_subprocess(
            [py, "-c", "import " + ", ".join(BRIEF_LIBRARIES)], tag="brief"), reps)
        bare, bare_all = median_of(lambda: timed_subprocess([py, "-c", "pass"], tag="bare"),
                                   reps)
    return {
        "build_seconds": build, "build_runs": build_all,
        "import_build_libraries_seconds": imports, "import_build_libraries_runs": imports_all,
        "build_libraries": tops, "build_modules_imported": len(modules),
        "import_brief_list_seconds": brief, "import_brief_list_runs": brief_all,
        "brief_list": BRIEF_LIBRARIES,
        "bare_interpreter_seconds": bare,
        "ratio_build_to_build_imports": build / imports,
        "ratio_build_to_brief_list_imports": build / brief,
        "cpu_build_seconds": cpu_median("build"),
        "cpu_import_build_libraries_seconds": cpu_median("imports"),
        "cpu_import_brief_list_seconds": cpu_median("brief"),
        "cpu_ratio_build_to_build_imports": cpu_median("build") / cpu_median("imports"),
    }


def bench_sweep(n: int, reps: int, single: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from models import engine, sweep as S
    from models.assumptions import resolve, set_value

    a = resolve()
    started = time.perf_counter()
    plan = S.plan(a)
    plan_seconds = time.perf_counter() - started
    S.run_sweep(a, min(n, 10 * S.CHUNK), seed=0, sweep=plan)  # warm up
    runs, cpu = [], []
    for i in range(reps):
        started_cpu = time.process_time()
        runs.append(S.run_sweep(a, n, seed=i, sweep=plan).seconds)
        cpu.append(time.process_time() - started_cpu)
    sweep_seconds = statistics.median(runs)
    one_thread = statistics.median(
        S.run_sweep(a, n, seed=i, sweep=plan, threads=1).seconds for i in range(reps))

    # single runs: the same kind of scenarios, one Assumptions object each
    drawn = plan.chunk_inputs(99, 0, single)
    scenarios = []
    started = time.perf_counter()
    for i in range(single):
        s = a
        for r in plan.ranged:
            values = np.broadcast_to(drawn[r.key], (single, drawn[r.key].shape[1]))[i]
            if r.series:
                for period, v in zip(plan.specs[r.key.split(".")[0]].periods, values):
                    s = set_value(s, f"{r.key}.{period}", float(v), set_by="bench", force=True)
            else:
                s = set_value(s, r.key, float(values[0]), set_by="bench", force=True)
        scenarios.append(s)
    prepare = (time.perf_counter() - started) / single
    engine.run(scenarios[0])  # warm up
    started = time.perf_counter()
    for s in scenarios:  # the line items only: the fairest (fastest) single-run comparison
        r = engine.run(s)
        engine.flat_outputs(r.specs, r.env)
    per_single = (time.perf_counter() - started) / single
    started = time.perf_counter()
    for s in scenarios[:20]:  # Result.outputs also evaluates the sensitivity grids
        engine.run(s).outputs
    per_single_with_grids = (time.perf_counter() - started) / min(single, 20)
    per_sweep = sweep_seconds / n
    return {
        "sweep_n": n, "sweep_seconds": sweep_seconds, "sweep_runs": runs,
        "sweep_scenarios_per_second": n / sweep_seconds,
        "sweep_cpu_seconds": statistics.median(cpu),
        "sweep_seconds_one_thread": one_thread,
        "sweep_plan_seconds": plan_seconds,
        "sweep_chunk": S.CHUNK, "sweep_drawn_assumptions": [r.key for r in plan.ranged],
        "sweep_rows_evaluated": len(plan.rows),
        "single_runs": single,
        "single_run_seconds_per_scenario": per_single,
        "single_run_with_grids_seconds_per_scenario": per_single_with_grids,
        "single_run_prepare_seconds_per_scenario": prepare,
        "speedup_per_scenario": per_single / per_sweep,
        "speedup_per_scenario_incl_prepare": (per_single + prepare) / per_sweep,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--single", type=int, default=200)
    p.add_argument("--skip-build", action="store_true")
    args = p.parse_args(argv)
    out = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                       "load_average_before": os.getloadavg()}}
    if not args.skip_build:
        out["build"] = bench_build(args.reps)
    out["sweep"] = bench_sweep(args.n, args.reps, args.single)
    out["machine"]["load_average_after"] = os.getloadavg()
    b, s = out.get("build"), out["sweep"]
    out["targets"] = {
        "sweep_1e6_within_1s": s["sweep_seconds"] * 1_000_000 / s["sweep_n"] <= 1.0,
        "speedup_at_least_100x": s["speedup_per_scenario"] >= 100,
        **({"build_within_2x_imports": b["ratio_build_to_build_imports"] <= 2.0} if b else {}),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
