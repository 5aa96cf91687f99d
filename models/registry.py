"""The models the toolkit runs, in one place.

Every part that needs "the models" (the engine, model validation, the scenario comparison, the
read-back, the manifest's code hash) reads :data:`MODELS` from here, so adding a model is: a
module ``models/<name>.py``, a sheet ``assumptions/<name>.yaml`` and its name in
:data:`MODELS` (after the models whose rows it links to).

A model module provides (the protocol, checked by ``tests/test_registry.py``):

* ``TITLE`` and ``DESCRIPTION`` (text), ``define(m: ModelBuilder)`` — its line items;
* optionally ``validate(a: Assumptions)`` — checks of its resolved assumptions beyond units and
  bounds (run before anything is written), ``HEADLINES`` (rows ``eqr diff`` explains first) and
  ``COMPARE_HEADLINES`` (scalar outputs shown side by side per scenario).

This module imports no other part of the toolkit, so anything may import it.
"""
from __future__ import annotations

import importlib
from types import ModuleType

#: model modules in dependency order (a model may link to the rows of any model before it)
MODELS: tuple[str, ...] = ("export_control", "china_market", "china", "nvda_actuals", "nvda",
                           "nvda_fy", "blackwell", "depreciation", "valuation")

#: the engine files whose code decides the numbers (besides each model module): a change in
#: any of them changes what ``eqr rerun`` reproduces
ENGINE_MODULES: tuple[str, ...] = ("lineitems", "engine", "fin", "vintage", "rowexprs", "grids",
                                   "registry", "units")

REQUIRED = ("TITLE", "DESCRIPTION", "define")


def model_module(name: str) -> ModuleType:
    """The module that defines model ``name``."""
    return importlib.import_module(f"models.{name}")


def optional(name: str, attribute: str, default=None):
    """A model's optional protocol attribute (``validate``, ``HEADLINES``, ...)."""
    return getattr(model_module(name), attribute, default)
