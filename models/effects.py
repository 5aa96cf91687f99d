"""Which inputs reach the results under the current choices (issue 15).

An ``IF`` whose condition the current choices decide (``china.units_source = market``) cuts the
branch it does not take; a ``CHOOSE`` cuts the options it does not pick. An assumption that
reaches no calculated row through the branches taken has no effect on this run: changing it
(``--set``, an overlay, a workbook edit) changes nothing, and the user is told which switch
disconnects it.

This module only reads an evaluated :class:`models.engine.Result`; it writes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.lineitems import Expr, Func, InputValue, Row


@dataclass(frozen=True)
class Inactive:
    """An assumption with no effect, and the switches (choice assumptions) that cut it off."""

    key: str
    switches: tuple[tuple[str, str, tuple[str, ...]], ...]  # (key, current value, other choices)

    def message(self) -> str:
        if not self.switches:
            return f"{self.key} has no effect on any result of this run"
        key, value, others = self.switches[0]
        text = f"{self.key} has no effect while {key} = {value}"
        if len(others) == 1:
            text += f"; add --set {key}={others[0]}"
        elif others:
            text += f" (other choices: {', '.join(others)})"
        return text


class _Walk:
    """Inputs reached through the branches the current values take, per row (memoised)."""

    def __init__(self, result):
        self.env = result.env
        self.rows: dict[str, frozenset[str]] = {}
        self.cut: dict[str, set[str]] = {}  # input → switch inputs of the IFs that cut it

    def row(self, row: Row) -> frozenset[str]:
        if row.key not in self.rows:
            self.rows[row.key] = frozenset()  # rows refer back only; stay safe on self-refs
            self.rows[row.key] = frozenset(self.expr(row.expr))
        return self.rows[row.key]

    def expr(self, e: Expr) -> set[str]:
        if isinstance(e, InputValue):
            return {e.key}
        found: set[str] = set()
        for r in e.rows_read():
            found |= self.row(r)
        if isinstance(e, Func) and e.name in ("IF", "CHOOSE"):
            taken, dropped = self._branches(e)
            for child in taken:
                found |= self.expr(child)
            switch = self.expr(e.args[0])
            for child in dropped:
                for key in self.expr(child) - found:
                    self.cut.setdefault(key, set()).update(switch)
            return found
        gated = _flag_product(e)
        if gated is not None:
            flag, other = gated
            found |= self.expr(flag)
            if self._all_zero(flag):  # the choice switches the other factor off
                for key in self.expr(other) - found:
                    self.cut.setdefault(key, set()).update(self.expr(flag))
                return found
            return found | self.expr(other)
        for child in e.children():
            found |= self.expr(child)
        return found

    def _all_zero(self, e: Expr) -> bool:
        try:
            value = np.asarray(e.evaluate(self.env), dtype=float)[0]
        except (TypeError, ValueError, KeyError, IndexError):
            return False
        return bool(np.all(value == 0))

    def _branches(self, e: Func) -> tuple[list[Expr], list[Expr]]:
        """(taken, dropped): the condition or index always counts as taken."""
        try:
            value = np.asarray(e.args[0].evaluate(self.env), dtype=float)[0]
        except (TypeError, ValueError, KeyError, IndexError):
            return list(e.args), []
        if np.isnan(value).any():
            return list(e.args), []
        if e.name == "IF":
            if np.all(value != 0):
                return [e.args[0], e.args[1]], [e.args[2]]
            if np.all(value == 0):
                return [e.args[0], e.args[2]], [e.args[1]]
            return list(e.args), []
        picked = {int(v) for v in np.ravel(value)}
        options = e.args[1:]
        return ([e.args[0]] + [o for i, o in enumerate(options, start=1) if i in picked],
                [o for i, o in enumerate(options, start=1) if i not in picked])


def _walk_of(result) -> _Walk:
    """The run's dependency walk, memoised on the result: the build's check for inputs that do
    nothing and the note's key sources both read it, so each row is walked once per run."""
    walk = getattr(result, "_effects_walk", None)
    if walk is None or walk.env is not result.env:
        walk = _Walk(result)
        result._effects_walk = walk
    return walk


def inactive_inputs(result, keys) -> list[Inactive]:
    """Of ``keys`` (assumption keys, or ``key.PERIOD``), those that reach no calculated row of
    this run through the branches its choices take, with the switches that cut them off."""
    walk = _walk_of(result)
    reached: set[str] = set()
    for spec in result.specs.values():
        for row in spec.rows:
            if row.kind == "link" and isinstance(row.expr, InputValue):
                continue  # an input's own link row is not an effect
            reached |= walk.row(row)
    a = result.assumptions
    out: list[Inactive] = []
    for flat in dict.fromkeys(keys):
        key = flat if flat in a.items else flat.rpartition(".")[0]
        if key not in a.items or key in reached:
            continue
        switches = []
        for s in sorted(walk.cut.get(key, ())):
            item = a[s]
            if item.choices and isinstance(item.value, str):
                switches.append((s, item.value, tuple(c for c in item.choices
                                                      if c != item.value)))
        out.append(Inactive(key, tuple(switches)))
    return out


def changed_keys(a) -> list[str]:
    """Assumptions set by a scenario overlay, ``--set`` or a workbook edit in this run."""
    return [key for key, item in a.items.items()
            if item.set_by and (item.set_by.startswith("scenario ")
                                or item.set_by in ("--set", "workbook"))]


@dataclass(frozen=True)
class Guard:
    """An input that reaches the results only through one branch of an ``IF`` on a choice:
    it has no effect while ``switch`` is (``equal`` True) or is not (False) ``value``."""

    key: str
    switch: str
    value: str
    equal: bool


def choice_test(e: Expr) -> tuple[str, str, bool] | None:
    """``(choice key, text, positive)`` if ``e`` is 1/true exactly when the choice equals
    ``text`` (``positive``) or differs from it (not ``positive``); None for anything else.

    The forms the models use: ``choice = "text"`` (the choice input or its link row), a flag
    row ``IF(choice = "text", 1, 0)`` (read directly or as ``flag = 1``)."""
    from models.lineitems import BinOp, Const, RowRef
    if isinstance(e, RowRef) and _choice_key(e) is None:
        return choice_test(e.row.expr)  # a flag row
    if isinstance(e, Func) and e.name == "IF" and all(isinstance(x, Const) for x in e.args[1:]):
        then, other = e.args[1].value, e.args[2].value
        inner = choice_test(e.args[0])
        if inner is None or {then, other} != {0, 1} or isinstance(then, bool):
            return None
        return inner[0], inner[1], inner[2] == (then == 1)
    if not (isinstance(e, BinOp) and e.op in ("=", "<>") and isinstance(e.b, Const)):
        return None
    same = e.op == "="
    if isinstance(e.b.value, str):
        key = _choice_key(e.a)
        return (key, e.b.value, same) if key is not None else None
    if e.b.value in (0, 1) and not isinstance(e.b.value, bool):
        inner = choice_test(e.a)
        if inner is not None:
            return inner[0], inner[1], inner[2] == (same == (e.b.value == 1))
    return None


def _choice_key(e: Expr) -> str | None:
    """The assumption key when ``e`` reads an input directly or through link rows."""
    from models.lineitems import RowRef
    while isinstance(e, RowRef):
        e = e.row.expr
    return e.key if isinstance(e, InputValue) else None


def _flag_product(e: Expr) -> tuple[Expr, Expr] | None:
    """``flag * x`` (either order) with ``flag`` a :func:`choice_test`: (flag, x)."""
    from models.lineitems import BinOp
    if isinstance(e, BinOp) and e.op == "*":
        if choice_test(e.a) is not None:
            return e.a, e.b
        if choice_test(e.b) is not None:
            return e.b, e.a
    return None


def _pick_choice(e: Func) -> tuple[str, tuple[str, ...]] | None:
    """``CHOOSE(MATCH(choice, {names}, 0), ...)`` (models.rowexprs.pick) → (choice, names)."""
    from models.rowexprs import TextList
    index = e.args[0]
    if isinstance(index, Func) and index.name == "MATCH" and isinstance(index.args[1], TextList):
        key = _choice_key(index.args[0])
        if key is not None:
            return key, tuple(index.args[1].names)
    return None


def _branch_guards(e: Expr) -> dict[int, frozenset]:
    """Child index → the guard ``(switch, value, equal)`` reading through that child adds:
    the child has no effect while ``(switch = value) == equal``."""
    if isinstance(e, Func) and e.name == "IF":
        found = choice_test(e.args[0])
        if found is None:
            return {}
        switch, value, positive = found
        return {1: frozenset({(switch, value, not positive)}),
                2: frozenset({(switch, value, positive)})}
    if isinstance(e, Func) and e.name == "CHOOSE":
        found = _pick_choice(e)
        if found is None:
            return {}
        switch, names = found
        return {i: frozenset({(switch, name, False)}) for i, name in enumerate(names, start=1)}
    gated = _flag_product(e)
    if gated is not None:
        switch, value, positive = choice_test(gated[0])
        index = list(e.children()).index(gated[1])
        return {index: frozenset({(switch, value, not positive)})}
    return {}


def switch_guards(specs) -> list[Guard]:
    """For every ``IF`` on a choice, the inputs that reach a calculated row only through one
    of its branches (static: whatever the current values). The workbook greys their rows on the
    Inputs sheet with a conditional format that reads the choice cell, so switching it in Excel
    greys and un-greys them at once.

    One walk: each row maps every input it reads to the guards common to all its paths
    (a guard is an IF branch on a choice); reading through a branch adds that branch's guard."""
    memo: dict[str, dict[str, frozenset]] = {}

    def merge(into: dict, part: dict, extra: frozenset = frozenset()) -> None:
        if extra:
            for key, guards in part.items():
                guards = guards | extra
                into[key] = into[key] & guards if key in into else guards
            return
        for key, guards in part.items():  # most paths have no guard: nothing to intersect
            old = into.get(key)
            if old is None:
                into[key] = guards
            elif old:
                into[key] = old & guards

    def expr(e) -> dict[str, frozenset]:
        if isinstance(e, InputValue):
            return {e.key: frozenset()}
        out: dict[str, frozenset] = {}
        for r in e.rows_read():
            merge(out, row_inputs(r))
        guards = _branch_guards(e)
        for i, c in enumerate(e.children()):
            merge(out, expr(c), guards.get(i, frozenset()))
        return out

    def row_inputs(r) -> dict[str, frozenset]:
        if r.key not in memo:
            memo[r.key] = {}
            memo[r.key] = expr(r.expr)
        return memo[r.key]

    total: dict[str, frozenset] = {}
    for spec in specs.values():
        for row in spec.rows:
            if row.kind == "link" and isinstance(row.expr, InputValue):
                continue
            merge(total, row_inputs(row))
    return [Guard(key, switch, value, equal)
            for key, guards in sorted(total.items())
            for switch, value, equal in sorted(guards) if key != switch]


def inputs_reaching(result, row_key: str) -> frozenset[str]:
    """The assumptions that reach the row ``row_key`` (``valuation.price_target``) through the
    branches this run's choices take; empty if the run has no such row."""
    rows = {row.key: row for spec in result.specs.values() for row in spec.rows}
    return _walk_of(result).row(rows[row_key]) if row_key in rows else frozenset()
