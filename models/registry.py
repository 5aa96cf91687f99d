"""The models the toolkit runs, in one place.

Every part that needs "the models" (the engine, model validation, the scenario comparison, the
read-back, the manifest's code hash) reads :data:`MODELS` from here. :data:`MODELS` is the
bundled models in dependency order (:data:`BUNDLED`), then every other module
``models/<name>.py`` that declares the protocol below (found by reading the files, without
importing them), by name. So adding a model is a module and a sheet ``assumptions/<name>.yaml``
(``eqr new model NAME`` writes both, see docs/adding-a-model.md); it may link to the rows of
every bundled model. A model that a bundled model links to goes into :data:`BUNDLED` instead,
before the models that use it.

A model module provides (the protocol, checked by ``tests/test_registry.py``):

* ``TITLE`` and ``DESCRIPTION`` (text), ``define(m: ModelBuilder)`` — its line items;
* optionally ``validate(a: Assumptions)`` — checks of its resolved assumptions beyond units and
  bounds (run before anything is written), ``HEADLINES`` (rows ``eqr diff`` explains first) and
  ``COMPARE_HEADLINES`` (scalar outputs shown side by side per scenario).

This module imports no other part of the toolkit, so anything may import it.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

#: the bundled model modules in dependency order (a model may link to the rows of any model
#: before it)
BUNDLED: tuple[str, ...] = ("export_control", "china_market", "china", "nvda_actuals", "nvda",
                            "nvda_fy", "blackwell", "depreciation", "valuation")

#: the engine files whose code decides the numbers (besides each model module): a change in
#: any of them changes what ``eqr rerun`` reproduces
ENGINE_MODULES: tuple[str, ...] = ("lineitems", "engine", "fin", "vintage", "rowexprs", "grids",
                                   "registry", "units")

REQUIRED = ("TITLE", "DESCRIPTION", "define")

PACKAGE_DIR = Path(__file__).resolve().parent


def declares_protocol(path: Path) -> bool:
    """``path`` assigns ``TITLE`` and ``DESCRIPTION`` and defines ``define`` at top level."""
    try:
        text = path.read_text(encoding="utf-8")
        if "def define(" not in text:  # most modules: no parse needed
            return False
        tree = ast.parse(text, str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return False  # not a model; importing it would show the real problem
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    names |= {target.id for node in tree.body if isinstance(node, ast.Assign)
              for target in node.targets if isinstance(target, ast.Name)}
    names |= {node.target.id for node in tree.body
              if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
    return set(REQUIRED) <= names


def discovered(folder: Path = PACKAGE_DIR) -> tuple[str, ...]:
    """The model modules in ``folder`` besides the bundled ones (``eqr new model``), by name."""
    return tuple(sorted(path.stem for path in folder.glob("*.py")
                        if path.stem not in BUNDLED and path.stem not in ENGINE_MODULES
                        and not path.stem.startswith("_") and declares_protocol(path)))


#: every model the engine runs: the bundled ones in their order, then the discovered ones
MODELS: tuple[str, ...] = BUNDLED + discovered()


def model_module(name: str) -> ModuleType:
    """The module that defines model ``name``."""
    return importlib.import_module(f"models.{name}")


def optional(name: str, attribute: str, default=None):
    """A model's optional protocol attribute (``validate``, ``HEADLINES``, ...)."""
    return getattr(model_module(name), attribute, default)
