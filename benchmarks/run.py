"""Benchmarks: ``python benchmarks/run.py`` prints one JSON object.

The three ratios of issue 18 (``ratios``; each measured side by side in this one run, the
commands interleaved, the minimum of ``--reps`` taken for both sides):

* ``build_no_pdf``: ``python -m models build --no-pdf`` in a fresh interpreter ÷ the import
  floor, a fresh interpreter importing numpy, xlsxwriter, jinja2, yaml and matplotlib.pyplot
  (the libraries a build without the PDF needs for its job). Target ≤ 2.
* ``build_pdf``: the same build with the PDF ÷ that floor plus weasyprint. Target ≤ 4.
  (``--skip-pdf`` leaves it out: WeasyPrint takes several seconds a build.)
* ``sweep``: ``run_sweep`` of ``--n`` (1,000,000) scenarios (default threads) ÷ a plain-numpy
  floor of the same shape: per chunk of 32,768 scenarios, one ``rng.random`` draw per drawn
  assumption and as many in-place elementwise operations on contiguous float64 vectors as the
  sweep performs per scenario (counted by :func:`sweep_shape`). Target ≤ 3.

Also (as before): the build next to importing every third-party module it loads; sweep
scenarios per second; seconds per scenario through the single-run API and the sweep's
per-scenario speedup over it. CPU seconds (user + sys) are given beside wall seconds: they are
less sensitive to other load. Timings are never asserted in tests. Run on a quiet machine:
the JSON records the load average before and after.
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BRIEF_LIBRARIES = ["pandas", "numpy", "openpyxl", "xlsxwriter", "jinja2", "yaml", "matplotlib"]
#: what a build without the PDF needs for its job (issue 18's import floor)
FLOOR_LIBRARIES = ["numpy", "xlsxwriter", "jinja2", "yaml", "matplotlib.pyplot"]
PDF_LIBRARIES = ["weasyprint"]

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
        # in one process (the chart process's imports, matplotlib's, counted too)
        listed = subprocess.run([py, "-c", LIST_BUILD_MODULES, str(tmp / "list")], cwd=ROOT,
                                check=True, capture_output=True, text=True,
                                env={**os.environ, "EQR_SERIAL_CHARTS": "1"})
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


def bench_ratios(reps: int, pdf: bool) -> dict:
    """Builds and their import floors, interleaved (build, floor, build, floor, ...) so that a
    change in the machine's load touches both sides alike; minimum of ``reps`` each."""
    py = sys.executable
    floor_cmd = [py, "-c", "import " + ", ".join(FLOOR_LIBRARIES)]
    pdf_floor_cmd = [py, "-c", "import " + ", ".join(FLOOR_LIBRARIES + PDF_LIBRARIES)]
    out: dict = {"floor_libraries": FLOOR_LIBRARIES, "pdf_floor_libraries":
                 FLOOR_LIBRARIES + PDF_LIBRARIES}
    with tempfile.TemporaryDirectory(prefix="eqr-bench-") as tmp:
        tmp = Path(tmp)
        runs: dict[str, list[float]] = {"build": [], "floor": [], "build_pdf": [],
                                        "pdf_floor": []}
        subprocess.run(floor_cmd + ["-c", "pass"], cwd=ROOT, check=False)  # warm the caches
        for i in range(reps):
            runs["build"].append(timed_subprocess(
                [py, "-m", "models", "build", "--no-pdf", "--out", str(tmp / f"r{i}")],
                tag="r_build"))
            runs["floor"].append(timed_subprocess(floor_cmd, tag="r_floor"))
            if pdf:
                runs["build_pdf"].append(timed_subprocess(
                    [py, "-m", "models", "build", "--out", str(tmp / f"p{i}")],
                    tag="r_build_pdf"))
                runs["pdf_floor"].append(timed_subprocess(pdf_floor_cmd, tag="r_pdf_floor"))
    out.update({f"{k}_runs": v for k, v in runs.items() if v})
    out.update({f"{k}_seconds": min(v) for k, v in runs.items() if v})
    out.update({f"cpu_{k}_seconds": min(CPU_SECONDS[f"r_{k}"]) for k, v in runs.items() if v})
    out["ratio_build_no_pdf"] = out["build_seconds"] / out["floor_seconds"]
    out["cpu_ratio_build_no_pdf"] = out["cpu_build_seconds"] / out["cpu_floor_seconds"]
    if pdf:
        out["ratio_build_pdf"] = out["build_pdf_seconds"] / out["pdf_floor_seconds"]
        out["cpu_ratio_build_pdf"] = out["cpu_build_pdf_seconds"] / out["cpu_pdf_floor_seconds"]
    return out


def sweep_shape(plan, n: int = 64) -> tuple[int, int]:
    """(uniform draws, elementwise operations) per scenario of a sweep plan.

    Draws: one uniform number per drawn assumption (a series uses one for all its periods).
    Operations: every node of the evaluated rows whose value varies by scenario counts once per
    period column it produces (an arithmetic operator, a function such as IF or MAX; a sum of k
    rows k − 1; a fiscal-year roll-up of k quarters k − 1 per year; a running total 1, 2 with
    a cap, and a compounding line 3 per period). Nodes that only read a row or an input, and
    rows that do not vary by scenario, count nothing."""
    from models import sweep as S
    from models.lineitems import Across, BinOp, Func, Neg, SumRows, Total, walk
    from models.rowexprs import Compound, RunningTotal
    env = S.evaluate_rows(plan.rows, plan.specs, plan.chunk_inputs(0, 0, n))
    ops = 0
    for row in plan.rows:
        for node in walk(row.expr):
            if not isinstance(node, (BinOp, Neg, Func, SumRows, Across, Total, RunningTotal,
                                     Compound)):
                continue
            value = np.asarray(node.evaluate(env))
            if value.ndim != 2 or value.shape[0] != n:
                continue  # the same in every scenario
            width = value.shape[1]
            if isinstance(node, SumRows):
                ops += width * (len(node.rows) - 1)
            elif isinstance(node, Func):
                ops += width * (1 if node.name == "IF" else max(1, len(node.args) - 1))
            elif isinstance(node, Across):
                ops += sum(max(len(node.mapping.get(p, ())) - 1, 0)
                           for p in env.periods(node.model))
            elif isinstance(node, Total):
                ops += np.asarray(env.get(node.row.key)).shape[1] - 1
            elif isinstance(node, RunningTotal):
                ops += width * (1 if node.cap is None else 2)
            elif isinstance(node, Compound):
                ops += width * 3
            else:
                ops += width
    return len(plan.ranged), ops


def numpy_floor(n: int, draws: int, ops: int, chunk: int, seed: int = 0) -> float:
    """Seconds plain numpy takes for ``draws`` uniform draws and ``ops`` elementwise
    operations per scenario over ``n`` scenarios in chunks of ``chunk``: the draws with
    ``Generator.random``, the operations as in-place add/multiply on contiguous float64 vectors
    (no temporaries, no Python per scenario)."""
    rng = np.random.default_rng(seed)
    work = [np.empty(chunk) for _ in range(4)]
    started = time.perf_counter()
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        u = [rng.random(m) for _ in range(max(draws, 1))]
        w = [x[:m] for x in work]
        np.multiply(u[0], u[1 % len(u)], out=w[0])
        for k in range(1, ops):
            (np.add if k % 2 else np.multiply)(w[(k - 1) % 4], u[k % len(u)], out=w[k % 4])
    return time.perf_counter() - started


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
    draws, ops = sweep_shape(plan)
    floor_runs, side_by_side = [], []
    for i in range(reps):  # interleaved with the sweep, as the builds are with their floor
        floor_runs.append(numpy_floor(n, draws, ops, S.CHUNK, seed=i))
        side_by_side.append(S.run_sweep(a, n, seed=i, sweep=plan).seconds)
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
        "sweep_draws_per_scenario": draws, "sweep_elementwise_ops_per_scenario": ops,
        "numpy_floor_seconds": min(floor_runs), "numpy_floor_runs": floor_runs,
        "sweep_min_seconds_beside_floor": min(side_by_side),
        "ratio_sweep_to_numpy_floor": min(side_by_side) / min(floor_runs),
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
    p.add_argument("--skip-pdf", action="store_true", help="no build with the PDF")
    args = p.parse_args(argv)
    out = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                       "load_average_before": os.getloadavg()}}
    if not args.skip_build:
        r = bench_ratios(args.reps, pdf=not args.skip_pdf)
        out["build"] = bench_build(args.reps)
    out["sweep"] = bench_sweep(args.n, args.reps, args.single)
    out["machine"]["load_average_after"] = os.getloadavg()
    b, s = out.get("build"), out["sweep"]
    out["ratios"] = {
        **({"build_no_pdf": r["ratio_build_no_pdf"],
            "build_no_pdf_detail": {k: v for k, v in r.items() if not k.endswith("_runs")},
            } if b else {}),
        **({"build_pdf": r["ratio_build_pdf"]} if b and "ratio_build_pdf" in r else {}),
        "sweep": s["ratio_sweep_to_numpy_floor"],
        "sweep_detail": {k: s[k] for k in (
            "sweep_min_seconds_beside_floor", "numpy_floor_seconds",
            "sweep_draws_per_scenario", "sweep_elementwise_ops_per_scenario", "sweep_chunk")},
        "targets": {"build_no_pdf": 2.0, "build_pdf": 4.0, "sweep": 3.0},
    }
    out["targets"] = {
        **({"ratios_build_no_pdf_within_2x": r["ratio_build_no_pdf"] <= 2.0} if b else {}),
        **({"ratios_build_pdf_within_4x": r["ratio_build_pdf"] <= 4.0}
           if b and "ratio_build_pdf" in r else {}),
        "ratios_sweep_within_3x": s["ratio_sweep_to_numpy_floor"] <= 3.0,
        "sweep_1e6_within_1s": s["sweep_seconds"] * 1_000_000 / s["sweep_n"] <= 1.0,
        "speedup_at_least_100x": s["speedup_per_scenario"] >= 100,
        **({"build_within_2x_imports": b["ratio_build_to_build_imports"] <= 2.0} if b else {}),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
