"""The import graph of ``models/`` (issue 14): no cycle, and the core reaches nothing above it.

Every import counts, function-level ones included (an import inside a function to dodge a cycle
is still a cycle). Read from the source with :mod:`ast`, nothing imported. Dependencies point
down: model definitions → the line-item core; engine → models; rendering and run handling →
engine; cli → everything (STYLE.md).
"""
from __future__ import annotations

import ast
from pathlib import Path

from models import registry

PACKAGE = Path(registry.__file__).resolve().parent

#: the core: model definitions, the line-item engine and what it is built from
CORE = frozenset({*registry.MODELS, *registry.ENGINE_MODULES, "errors"})
#: what the core may reach besides itself: the typed assumptions the engine evaluates (and the
#: YAML reader they come through), where their sheets are, the checks on input text, what
#: overlays declare they move and the models' headline lists the engine checks those
#: declarations against (no workbook, memo, plots, run folders, command line...)
CORE_MAY_USE = frozenset({"assumptions", "yamlread", "paths", "textcheck", "expects", "headlines"})


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """``models/plots/china.py`` → ``plots.china``; a package's ``__init__`` → the package."""
    parts = path.relative_to(package).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"


def imports_of(path: Path, package: Path = PACKAGE) -> set[str]:
    """The modules of the package that ``path`` imports anywhere in it (names relative to the
    package; ``from models import memo`` counts as ``memo``)."""
    name = module_name(path, package)
    here = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
            found |= {t.split(".", 1)[1] for t in targets if t.startswith("models.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x / from .x import y
                base = here[:len(here) - (node.level - 1)] if node.level > 1 else here
                module = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module == "models" or (node.module or "").startswith("models."):
                module = node.module[len("models."):] if node.module != "models" else ""
            else:
                continue
            for alias in node.names:  # `from models import memo` imports the module memo
                sub = f"{module}.{alias.name}" if module else alias.name
                found.add(sub if _is_module(sub, package) else module)
    found.discard("")
    found.discard(name)
    return {m for m in found if _is_module(m, package)}


def _is_module(name: str, package: Path) -> bool:
    path = package.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    return {module_name(p, package): imports_of(p, package)
            for p in sorted(package.rglob("*.py")) if "__pycache__" not in p.parts}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in graph.get(todo.pop(), ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_core_does_not_import_the_io_layer():
    graph = import_graph()
    allowed = CORE | CORE_MAY_USE
    wrong = {m: sorted(reachable(graph, m) - allowed) for m in sorted(CORE) if m in graph}
    assert {m: w for m, w in wrong.items() if w} == {}


def test_the_graph_sees_function_level_and_relative_imports(tmp_path):
    """The checker itself: a cycle made only by an import inside a function is found, and so
    is a core module reaching the I/O layer through another module."""
    pkg = tmp_path / "models"
    (pkg / "plots").mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "plots" / "__init__.py").write_text("from . import china\n", encoding="utf-8")
    (pkg / "plots" / "china.py").write_text("from ..lineitems import Row\n", encoding="utf-8")
    (pkg / "lineitems.py").write_text("def grid():\n    from models.grids import make\n",
                                      encoding="utf-8")
    (pkg / "grids.py").write_text("import models.lineitems\n", encoding="utf-8")
    (pkg / "engine.py").write_text("from models import grids, errors\n", encoding="utf-8")
    (pkg / "errors.py").write_text("def f():\n    from models.memo import x\n",
                                   encoding="utf-8")
    (pkg / "memo.py").write_text("x = 1\n", encoding="utf-8")
    graph = import_graph(pkg)
    assert graph["plots"] == {"plots.china"} and graph["plots.china"] == {"lineitems"}
    assert graph["engine"] == {"grids", "errors"}
    assert cycles(graph) == [["grids", "lineitems"]]
    assert "memo" in reachable(graph, "engine")


def test_the_real_graph_is_not_empty():
    """Guards against a checker that finds nothing: known edges of the real package."""
    graph = import_graph()
    assert "lineitems" in graph["engine"] and "registry" in graph["engine"]
    assert "engine" in graph["runs"] and "lineitems" in graph["grids"]
    assert "plots" in reachable(graph, "runs")


def test_only_the_entry_points_import_the_command_line():
    """Library modules take plain arguments and return values: nothing below the ``cli``
    package reaches up into it (only ``__main__`` starts it)."""
    graph = import_graph()
    up = {m for m, deps in graph.items()
          if not (m == "cli" or m.startswith("cli.") or m == "__main__")
          and any(d == "cli" or d.startswith("cli.") for d in deps)}
    assert up == set()
    assert {"cli.build", "cli.sweep", "cli.diff", "cli.rerun", "cli.verify"} <= set(graph)
