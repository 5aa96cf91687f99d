"""Run-to-run diff: which assumptions changed, how each headline output moved, and why.

``eqr diff RUN_A RUN_B`` reads both runs' ``manifest.json`` (the resolved assumptions) and
``outputs.json``. Each assumption whose value differs is a *player* (a time series counts once,
with all its changed periods). Each headline output's change is attributed to the players two
ways, both evaluated by the pure engine on one vectorised batch (one row per mix of A and B
values):

* **alone** (one at a time): ``f(A with player i at B) − f(A)``. Easy to read; does not add up
  to the total when the inputs interact (levy rate × units, for instance).
* **Shapley**: player i's marginal effect averaged over every order of moving the players
  from A to B, ``φᵢ = Σ_{S ⊆ N∖{i}} |S|!(k−|S|−1)!/k! · (f(S ∪ {i}) − f(S))`` where ``f(S)``
  is the output with the players in S at B and the rest at A. The φᵢ add up to
  ``f(B) − f(A)`` exactly (up to floating-point rounding, far below display precision).
  Exact by enumerating all 2^k subsets up to ``exact_limit`` players; beyond it, estimated from
  random orderings with a fixed seed (each ordering's marginals also add up to the total, so the
  estimate does too) and the output says so.

If the recorded outputs differ from what the current models compute from the recorded
assumptions (the model code or the sheets changed between the runs), the gap is shown as
**other (model or sheet version)**, so the rows still add up to the recorded change.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.assumptions import Assumptions
from models.errors import EqrError
from models.formats import DIFF_DEFAULT_FORMAT, DIFF_FORMATS
from models.headlines import Headline, headlines, outputs_for
from models.reproduce import Run, assumptions_from_manifest

EXACT_LIMIT = 12        # players up to which Shapley values are exact (2^12 = 4,096 mixes)
SAMPLES = 2000          # random orderings beyond it
SEED = 20251208         # fixed: the same diff twice gives the same estimate
CHUNK_ROWS = 8192       # at most this many mixes evaluated at once
CHUNK_CELLS = 4_000_000  # and at most this many numbers per line-item array set (memory)
TOL = 1e-9              # relative; below it a gap is rounding, not a difference
ROUNDING = 1e-12        # relative; contributions this small are floating-point noise


# =========================================================================== data
@dataclass
class Change:
    """One assumption value (flat key) that differs between the runs."""

    key: str
    unit: str
    a: Any
    b: Any
    set_by_a: str
    set_by_b: str


@dataclass
class Row:
    """One headline output: recorded values, change, and its attribution."""

    headline: Headline
    a: float
    b: float
    alone: np.ndarray       # (k,) one at a time
    shapley: np.ndarray     # (k,)
    other: float            # recorded change − recomputed change (model or sheet version)
    recomputed: float       # f(B) − f(A) by the current models

    @property
    def change(self) -> float:
        """B − A; 0 where the output is n/a in both runs (a margin of no revenue stays n/a)."""
        if _both_na(self.a, self.b):
            return 0.0
        return self.b - self.a

    @property
    def interaction(self) -> float:
        """What moving the players one at a time misses: recomputed change − Σ alone."""
        return self.recomputed - float(np.sum(self.alone))

    @property
    def residual(self) -> float:
        """Rounding left after Shapley + other (far below display precision)."""
        return self.change - float(math.fsum(self.shapley)) - self.other


@dataclass
class Diff:
    run_a: Run
    run_b: Run
    changes: list[Change]
    only_a: dict[str, Any]
    only_b: dict[str, Any]
    players: list[str]
    units: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    method: str = ""
    notes: list[str] = field(default_factory=list)
    attributed: bool = True
    #: changed assumption → why it has no effect under a run's choices (models.effects)
    inactive: dict[str, str] = field(default_factory=dict)


# =========================================================================== computing
def _flat_item(key: str, a: Assumptions) -> str:
    return key if key in a.items else key.rpartition(".")[0]


def _changes(a: Assumptions, b: Assumptions) -> tuple[list[Change], dict, dict]:
    fa, fb = a.flat_values(), b.flat_values()
    changes = []
    for key in fa:
        if key in fb and fa[key] != fb[key]:
            ia, ib = a.items[_flat_item(key, a)], b.items[_flat_item(key, b)]
            changes.append(Change(key, ib.unit, fa[key], fb[key], ia.set_by, ib.set_by))
    only_a = {k: v for k, v in fa.items() if k not in fb}
    only_b = {k: v for k, v in fb.items() if k not in fa}
    return changes, only_a, only_b


def _players(a: Assumptions, b: Assumptions) -> tuple[list[str], list[str]]:
    """Assumptions (not periods) present in both runs whose values differ, and those whose
    shape changed (a number in one run, a time series in the other: not movable)."""
    players, reshaped = [], []
    for k, it in a.items.items():
        other = b.items.get(k)
        if other is None or it.value == other.value:
            continue
        if it.is_series != other.is_series or (it.is_series and list(it.value) !=
                                               list(other.value)):
            reshaped.append(k)
        else:
            players.append(k)
    return players, reshaped


def player_label(d: "Diff", key: str) -> str:
    """``china.h200_units`` → ``china.h200_units (CY2026, CY2027)`` for a partly changed series."""
    periods = [c.key[len(key) + 1:] for c in d.changes if c.key.startswith(key + ".")]
    return f"{key} ({', '.join(periods)})" if periods else key


class _Batch:
    """Evaluates the models for rows of a mask matrix: True → the player's B value."""

    def __init__(self, frame: Assumptions, specs, players: list[str], a: Assumptions,
                 b: Assumptions, outputs: list[Headline]):
        # models link only to earlier ones: evaluate up to the last model with an output asked
        needed = {h.row.split(".", 1)[0] for h in outputs}
        names = list(specs)
        last = max((names.index(m) for m in needed), default=-1)
        specs = {m: specs[m] for m in names[:last + 1]}
        self.frame, self.specs, self.players = frame, specs, players
        cells = sum(len(s.rows) * len(s.periods) for s in specs.values()) or 1
        self.chunk = max(64, min(CHUNK_ROWS, CHUNK_CELLS // cells))
        self.values = [(self._array(a.items[k].value), self._array(b.items[k].value))
                       for k in players]
        self.pick = []
        for h in outputs:
            model = h.row.split(".", 1)[0]
            col = 0 if h.period is None else specs[model].periods.index(h.period)
            self.pick.append((h.row, col))

    @staticmethod
    def _array(value: Any) -> np.ndarray:
        if isinstance(value, dict):
            return np.array([list(value.values())], dtype=float)
        if isinstance(value, str):
            return np.array([[value]], dtype=object)
        return np.array([[np.nan if value is None else float(value)]])  # None: unknown figure

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        parts = [self._evaluate(masks[i:i + self.chunk])
                 for i in range(0, len(masks), self.chunk)]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.pick)))

    def _evaluate(self, masks: np.ndarray) -> np.ndarray:
        from models.engine import evaluate
        from models.lineitems import batch_inputs
        n = len(masks)
        inputs = batch_inputs(self.frame, n)
        for j, key in enumerate(self.players):
            va, vb = self.values[j]
            inputs[key] = np.where(masks[:, j:j + 1], vb, va)
        env = evaluate(self.frame, specs=self.specs, inputs=inputs, n=n).env
        return np.column_stack([np.asarray(env.get(row)[:, col], dtype=float)
                                for row, col in self.pick]) if self.pick else np.zeros((n, 0))


def shapley_exact(f, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact Shapley values by enumerating all 2^k subsets in one batch.

    Returns (φ of shape (k, H), f(∅), f(N)). Subset S is the bitmask ``m`` (bit i: player i at
    B); ``φᵢ = Σ_{m: bit i clear} w(|m|) (f(m | 2^i) − f(m))`` with
    ``w(s) = s! (k−s−1)! / k!``.
    """
    ids = np.arange(2 ** k)
    masks = ((ids[:, None] >> np.arange(k)) & 1).astype(bool)
    v = f(masks)
    sizes = masks.sum(axis=1)
    weights = np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k)
                        for s in range(k)]) if k else np.zeros(0)
    phi = np.zeros((k, v.shape[1]))
    for i in range(k):
        without = ids[~masks[:, i]]
        gains = v[without | (1 << i)] - v[without]
        phi[i] = weights[sizes[without]] @ gains
    return phi, v[0], v[-1]


def shapley_sampled(f, k: int, samples: int, seed: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shapley values estimated from ``samples`` random orderings (fixed ``seed``).

    Each ordering adds the players one by one; a player's marginal effect is the change when it
    joins. The estimate is the mean over orderings; for every ordering the marginals add up to
    ``f(N) − f(∅)``, so the estimate does too.
    """
    rng = np.random.default_rng(seed)
    orders = np.array([rng.permutation(k) for _ in range(samples)]).reshape(samples, k)
    rank = np.argsort(orders, axis=1)                   # rank[s, p]: when player p joins
    # row (s, j): the first j players of ordering s at B
    joined = rank[:, None, :] < np.arange(k + 1)[None, :, None]
    v = f(joined.reshape(-1, k)).reshape(samples, k + 1, -1)
    marginal = np.diff(v, axis=1)                       # (samples, k, H), by position
    by_player = np.take_along_axis(marginal, rank[:, :, None], axis=1)
    return by_player.mean(axis=0), v[0, 0], v[0, -1]


def one_at_a_time(f, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``f(A with player i at B) − f(A)`` for each player, and f(A)."""
    masks = np.vstack([np.zeros((1, k), dtype=bool), np.eye(k, dtype=bool)])
    v = f(masks)
    return v[1:] - v[0], v[0]


def _frame(a: Assumptions, b: Assumptions) -> Assumptions:
    """A's assumptions, with B's for what A lacks (a model or key added between the runs)."""
    return Assumptions(sheets={**b.sheets, **a.sheets}, items={**b.items, **a.items},
                       scenarios=list(a.scenarios), overrides=list(a.overrides))


def _inactive(a: Assumptions, b: Assumptions, players: list[str]) -> dict[str, str]:
    """Of the changed assumptions, those the choices of run A or run B disconnect (changing
    them there changes nothing), with the switch: ``china.h200_units has no effect while
    china.units_source = market; add --set china.units_source=typed (in A and B)``."""
    from models.effects import inactive_inputs
    from models.engine import evaluate
    found: dict[str, dict[str, str]] = {}
    for label, frame in (("A", _frame(a, b)), ("B", _frame(b, a))):
        try:
            result = evaluate(frame)
        except EqrError:  # the current models cannot evaluate this run: nothing to say
            continue
        for item in inactive_inputs(result, players):
            if item.switches:
                found.setdefault(item.key, {})[label] = item.message()
    out = {}
    for key, per_run in found.items():
        if len(set(per_run.values())) == 1:
            out[key] = f"{next(iter(per_run.values()))} (in {' and '.join(per_run)})"
        else:
            out[key] = "; ".join(f"{text} (in {label})" for label, text in per_run.items())
    return out


def compute(run_a: Run, run_b: Run, *, directory: Path | None = None,
            exact_limit: int = EXACT_LIMIT, samples: int = SAMPLES, seed: int = SEED,
            extra_outputs: list[str] = ()) -> Diff:
    """The diff of two recorded runs (see the module docstring)."""
    from models.engine import build_specs
    ra = assumptions_from_manifest(run_a.manifest, directory)
    rb = assumptions_from_manifest(run_b.manifest, directory)
    a, b = ra.assumptions, rb.assumptions
    changes, only_a, only_b = _changes(a, b)
    players, reshaped = _players(a, b)
    units = {k: b.items[k].unit for k in players}
    diff = Diff(run_a, run_b, changes, only_a, only_b, players, units)
    diff.notes += _version_notes(diff, ra, rb)
    diff.inactive = _inactive(a, b, players)
    if reshaped:
        diff.notes.append(f"changed from a single value to a time series (or the reverse) "
                          f"between the runs, so not moved in the attribution: "
                          f"{', '.join(reshaped)}; their effect shows as 'other'")
    retimed = [m for m in a.sheets if m in b.sheets and a.periods(m) != b.periods(m)]
    if retimed:
        diff.attributed = False
        diff.notes.append(f"the timeline of {', '.join(retimed)} differs between the runs; "
                          f"changes are listed but not attributed")
        return diff
    frame = _frame(a, b)
    try:
        specs = build_specs(frame)
        outputs = headlines(specs) + outputs_for(specs, list(extra_outputs))
    except EqrError as err:
        diff.attributed = False
        diff.notes.append(f"the current models cannot be evaluated on these runs' "
                          f"assumptions ({err}); changes are listed but not attributed")
        return diff
    f = _Batch(frame, specs, players, a, b, outputs)
    k = len(players)
    alone, _ = one_at_a_time(f, k)
    if k <= exact_limit:
        phi, fa, fb = shapley_exact(f, k)
        diff.method = (f"Shapley values exact: all 2^{k} = {2 ** k:,} mixes of the {k} changed "
                       f"assumption(s) evaluated")
    else:
        phi, fa, fb = shapley_sampled(f, k, samples, seed)
        diff.method = (f"Shapley values ESTIMATED from {samples:,} random orderings (seed {seed}): "
                       f"{k} changed assumptions are more than the {exact_limit} up to which all "
                       f"2^k mixes are enumerated; the estimates still add up to the change")
    gaps = []
    for j, h in enumerate(outputs):
        va = _recorded(run_a.outputs, h.output, fa[j])
        vb = _recorded(run_b.outputs, h.output, fb[j])
        other = (vb - float(fb[j])) - (va - float(fa[j]))
        if not _close(va, float(fa[j])) or not _close(vb, float(fb[j])):
            gaps.append((h.output, va, float(fa[j]), vb, float(fb[j])))
        else:
            other = 0.0
        noise = ROUNDING * max(1.0, abs(va), abs(vb))  # e.g. −1e−13 for a player with no effect
        shares, alone_j = _zero_noise(phi[:, j], noise), _zero_noise(alone[:, j], noise)
        if math.isnan(va) or math.isnan(vb):
            other = 0.0
        if _both_na(va, vb):  # n/a in both runs: it did not move
            shares, alone_j = np.zeros_like(shares), np.zeros_like(alone_j)
        diff.rows.append(Row(h, va, vb, alone_j, shares, other, float(fb[j] - fa[j])))
    missing = [h.output for h in outputs if h.output not in run_a.outputs
               or h.output not in run_b.outputs]
    if missing:
        diff.notes.append("not in a run's outputs.json (taken as the current models compute "
                          f"it): {', '.join(missing)}")
    if gaps:
        worst = max(gaps, key=lambda g: max(abs(g[1] - g[2]), abs(g[3] - g[4])))
        diff.notes.append(
            f"{len(gaps)} headline output(s) recorded in the runs differ from what the current "
            f"models compute from the recorded assumptions (e.g. {worst[0]}: A recorded "
            f"{worst[1]:.10g}, recomputed {worst[2]:.10g}; B recorded {worst[3]:.10g}, "
            f"recomputed {worst[4]:.10g}); the difference is shown as 'other (model or sheet "
            f"version)'")
    return diff


def _recorded(outputs: dict[str, Any], name: str, recomputed: float) -> float:
    """A run's recorded output: null (rests on an unknown figure) is NaN; an output the run did
    not record is taken as the current models compute it."""
    if name not in outputs:
        return float(recomputed)
    value = outputs[name]
    return math.nan if value is None else float(value)


def _zero_noise(x: np.ndarray, noise: float) -> np.ndarray:
    """Floating-point rounding shown as what it is: exactly zero."""
    return np.where(np.abs(x) <= noise, 0.0, x)


def _close(x: float, y: float) -> bool:
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y or math.isclose(x, y, rel_tol=TOL, abs_tol=TOL)


def _version_notes(diff: Diff, ra, rb) -> list[str]:
    notes = []
    if diff.only_a or diff.only_b:
        notes.append("the runs used different versions of the assumption sheets: "
                     + "; ".join(filter(None, [
                         f"only in A (removed before B?): {', '.join(diff.only_a)}"
                         if diff.only_a else "",
                         f"only in B (added after A?): {', '.join(diff.only_b)}"
                         if diff.only_b else ""]))
                     + ". An assumption in one run only cannot be moved from A to B; its "
                       "effect, if any, shows as 'other (model or sheet version)'")
    a, b = ra.assumptions, rb.assumptions
    ranged = [k for k in a.items if k in b.items
              and (a.items[k].low, a.items[k].high) != (b.items[k].low, b.items[k].high)]
    if ranged:
        notes.append(f"the low/high ranges differ between the runs for {', '.join(ranged)} "
                     f"(they set the sensitivity grids' axes, not the headline outputs)")
    for name, r in (("A", ra), ("B", rb)):
        if not r.from_record:
            notes.append(f"run {name}'s manifest predates full assumption records; its values "
                         f"are applied to the current sheets")
    code_a = diff.run_a.manifest.get("code_sha256") or {}
    code_b = diff.run_b.manifest.get("code_sha256") or {}
    if code_a and code_b and code_a != code_b:
        files = sorted(k for k in set(code_a) | set(code_b) if code_a.get(k) != code_b.get(k))
        notes.append(f"the model code differs between the runs ({', '.join(files)}); the "
                     f"attribution uses the current code")
    return notes


# =========================================================================== formatting
def fmt_level(v: float, unit: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if unit == "fraction":
        return f"{v * 100:.2f}%"
    if unit == "USD per share":
        return f"{v:.4f}"
    if unit in ("USD m", "USD bn", "units", "USD", "USD per unit"):
        return f"{v:,.1f}"
    return f"{v:,.6g}"


def fmt_change(v: float, unit: str) -> str:
    if isinstance(v, float) and math.isnan(v):
        return "n/a"
    v = v + 0.0  # no "-0.0"
    if unit == "fraction":
        return f"{v * 100:+.2f} pp"
    if unit == "USD per share":
        return f"{v:+.4f}"
    if unit in ("USD m", "USD bn", "units", "USD", "USD per unit"):
        return f"{v:+,.1f}"
    return f"{v:+,.6g}"


def fmt_input(v: Any, unit: str) -> str:
    from models.memo import format_by_unit
    if v is None:
        return "unknown"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return format_by_unit(float(v), unit)
    return str(v)


def _both_na(a: float, b: float) -> bool:
    """n/a (NaN: an unknown figure, or a ratio of a zero base) in both runs."""
    return math.isnan(a) and math.isnan(b)


def is_gap(r: Row) -> bool:
    """n/a in A or B (an unknown figure, or a ratio of a zero base such as a margin without
    revenue), or in a mix of the changed assumptions between them (Shapley values of a game
    with undefined values are undefined): nothing to attribute. n/a in both runs is no change."""
    if _both_na(r.a, r.b):
        return False
    return (math.isnan(r.a) or math.isnan(r.b) or bool(np.isnan(r.shapley).any())
            or bool(np.isnan(r.alone).any()))


#: why a row is listed under "Not attributed"
GAP_REASON = ("Not attributed (n/a in A or B, or in a mix of the changed assumptions: an "
              "unknown figure, or a ratio of a zero base such as a margin without revenue)")


def _is_zero_row(r: Row) -> bool:
    if _both_na(r.a, r.b):
        return True
    if is_gap(r):
        return False
    scale = max(1.0, abs(r.a), abs(r.b))
    return (abs(r.change) <= TOL * scale and not np.any(np.abs(r.shapley) > TOL * scale)
            and abs(r.other) <= TOL * scale)


def _effective(r: Row, players: list[str]) -> list[tuple[int, str]]:
    """The players that move this output (alone or in combination with others)."""
    scale = TOL * max(1.0, abs(r.a), abs(r.b))
    return [(i, p) for i, p in enumerate(players)
            if abs(r.alone[i]) > scale or abs(r.shapley[i]) > scale]


def _table(rows: list[list[str]], right: set[int] = frozenset(), indent: str = "  ") -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        out.append(indent + "  ".join(c.rjust(w) if i in right else c.ljust(w)
                                      for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    return "\n".join(out)


def render_text(d: Diff) -> str:
    """The diff as a terminal report."""
    lines = [f"A: {d.run_a.describe()}\n   {d.run_a.folder}",
             f"B: {d.run_b.describe()}\n   {d.run_b.folder}", ""]
    for note in d.notes:
        lines.append(f"note: {note}")
    if d.notes:
        lines.append("")
    if d.changes:
        lines.append(f"Assumptions that changed ({len(d.changes)} value(s), "
                     f"{len(d.players)} assumption(s))")
        rows = [["assumption", "unit", "A", "B", "set by in A", "set by in B"]]
        rows += [[c.key, c.unit, fmt_input(c.a, c.unit), fmt_input(c.b, c.unit), c.set_by_a,
                  c.set_by_b] for c in d.changes]
        lines.append(_table(rows, right={2, 3}))
        if d.inactive:
            lines.append("  No effect under a run's choices (changing them there changes "
                         "nothing):")
            lines += [f"    {why}" for why in d.inactive.values()]
    else:
        lines.append("No assumption changed between the runs.")
    for label, only in (("A", d.only_a), ("B", d.only_b)):
        if only:
            lines.append(f"Only in run {label}: " + ", ".join(f"{k} = {v}"
                                                              for k, v in only.items()))
    if not d.rows:
        return "\n".join(lines) + "\n"
    lines += ["", "Headline outputs"]
    rows = [["output", "unit", "A", "B", "change"]]
    rows += [[r.headline.output, r.headline.unit, fmt_level(r.a, r.headline.unit),
              fmt_level(r.b, r.headline.unit), fmt_change(r.change, r.headline.unit)]
             for r in d.rows]
    lines.append(_table(rows, right={2, 3, 4}))
    moved = [r for r in d.rows if not _is_zero_row(r) and not is_gap(r)]
    if d.players and moved:
        lines += ["", "Why each headline output changed",
                  "  alone = that assumption moved from A to B with the others left at A "
                  "(one at a time);",
                  "  Shapley = its average effect over every order of moving them; these add "
                  "up to the change.",
                  f"  {d.method}."]
        for r in moved:
            u = r.headline.unit
            lines += ["", f"  {r.headline.output} ({u}): {fmt_level(r.a, u)} → "
                          f"{fmt_level(r.b, u)}, change {fmt_change(r.change, u)}"]
            rows = [["assumption", "alone", "Shapley"]]
            shown = _effective(r, d.players)
            rows += [[player_label(d, p), fmt_change(float(r.alone[i]), u),
                      fmt_change(float(r.shapley[i]), u)] for i, p in shown]
            if r.other:
                rows.append(["other (model or sheet version)", "", fmt_change(r.other, u)])
            rows.append(["interaction (missed by 'alone')", fmt_change(r.interaction, u), ""])
            rows.append(["total", "", fmt_change(float(np.sum(r.shapley)) + r.other, u)])
            lines.append(_table(rows, right={1, 2}, indent="    "))
            if len(shown) < len(d.players):
                lines.append(f"    (no effect: {', '.join(p for p in d.players if p not in dict(shown).values())})")
    same = [r.headline.output for r in d.rows if _is_zero_row(r)]
    if same:
        lines += ["", "Unchanged: " + ", ".join(same)]
    gaps = [r.headline.output for r in d.rows if is_gap(r)]
    if gaps:
        lines += ["", f"{GAP_REASON}: " + ", ".join(gaps)]
    return "\n".join(lines) + "\n"


def _md_escape(text: Any) -> str:
    """Text from the runs (values, overrides, notes, run ids) made inert for Markdown, as in
    memo.md: one line, with every character Markdown or HTML gives a meaning escaped, so a
    heading, an image, a link or raw HTML typed into an input shows as typed (issue 17)."""
    from models.memo import md_text
    return md_text(text)


def render_markdown(d: Diff) -> str:
    """The diff as Markdown (tables)."""
    out = [f"# Run diff: {_md_escape(d.run_a.run_id)} → {_md_escape(d.run_b.run_id)}", "",
           f"- **A**: {_md_escape(d.run_a.describe())}",
           f"- **B**: {_md_escape(d.run_b.describe())}", ""]
    for note in d.notes:
        out.append(f"> Note: {_md_escape(note)}")
    if d.notes:
        out.append("")
    out += ["## Assumptions that changed", ""]
    if d.changes:
        out += ["| assumption | unit | A | B | set by in A | set by in B |",
                "|---|---|---:|---:|---|---|"]
        out += [f"| `{c.key}` | {c.unit} | {_md_escape(fmt_input(c.a, c.unit))} | "
                f"{_md_escape(fmt_input(c.b, c.unit))} | {_md_escape(c.set_by_a)} | "
                f"{_md_escape(c.set_by_b)} |" for c in d.changes]
        if d.inactive:
            out += ["", "No effect under a run's choices (changing them there changes "
                        "nothing):", ""]
            out += [f"- {_md_escape(why)}" for why in d.inactive.values()]
    else:
        out.append("None.")
    for label, only in (("A", d.only_a), ("B", d.only_b)):
        if only:
            out += ["", f"Only in run {label}: "
                    + ", ".join(f"`{k}` = {_md_escape(v)}" for k, v in only.items())]
    if d.rows:
        out += ["", "## Headline outputs", "", "| output | unit | A | B | change |",
                "|---|---|---:|---:|---:|"]
        out += [f"| `{r.headline.output}` | {r.headline.unit} | "
                f"{fmt_level(r.a, r.headline.unit)} | {fmt_level(r.b, r.headline.unit)} | "
                f"{fmt_change(r.change, r.headline.unit)} |" for r in d.rows]
    moved = [r for r in d.rows if not _is_zero_row(r) and not is_gap(r)]
    gaps = [f"`{r.headline.output}`" for r in d.rows if is_gap(r)]
    if gaps:
        out += ["", f"{GAP_REASON}: " + ", ".join(gaps)]
    if d.players and moved:
        out += ["", "## Attribution", "",
                "*alone*: the assumption moved from A to B with the others at A (one at a "
                "time). *Shapley*: its average effect over every order of moving the changed "
                f"assumptions; these add up to the change. {d.method}.", "",
                "| output | assumption | alone | Shapley |", "|---|---|---:|---:|"]
        for r in moved:
            u = r.headline.unit
            for i, p in _effective(r, d.players):
                out.append(f"| `{r.headline.output}` | `{player_label(d, p)}` | "
                           f"{fmt_change(float(r.alone[i]), u)} | "
                           f"{fmt_change(float(r.shapley[i]), u)} |")
            if r.other:
                out.append(f"| `{r.headline.output}` | other (model or sheet version) | | "
                           f"{fmt_change(r.other, u)} |")
            out.append(f"| `{r.headline.output}` | **total change** | "
                       f"interaction {fmt_change(r.interaction, u)} | "
                       f"**{fmt_change(r.change, u)}** |")
    return "\n".join(out) + "\n"


def render_xlsx(d: Diff) -> bytes:
    """The diff as an Excel workbook: Summary, Assumptions, Attribution (with live sums)."""
    import xlsxwriter
    from xlsxwriter.utility import xl_rowcol_to_cell as cell
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "bottom": 1, "bg_color": "#DDEBF7"})
    num = book.add_format({"num_format": DIFF_DEFAULT_FORMAT})
    ws = _sheet(book, "Summary")
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 110)
    info = [("Run A", d.run_a.describe()), ("Folder A", str(d.run_a.folder)),
            ("Run B", d.run_b.describe()), ("Folder B", str(d.run_b.folder)),
            ("Method", d.method or "not attributed")] + [("Note", n) for n in d.notes]
    ws.write_string(0, 0, "eqr diff", bold)
    for i, (k, v) in enumerate(info, start=2):
        ws.write_string(i, 0, k, bold)
        ws.write_string(i, 1, v)
    ws = _sheet(book, "Assumptions")
    ws.set_column(0, 0, 34)
    ws.set_column(1, 5, 18)
    for c, t in enumerate(["Assumption", "Unit", "A", "B", "Set by in A", "Set by in B"]):
        ws.write_string(0, c, t, head)
    for r, ch in enumerate(d.changes, start=1):
        ws.write_string(r, 0, ch.key)
        ws.write_string(r, 1, ch.unit)
        for c, v in ((2, ch.a), (3, ch.b)):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, str(v))
        ws.write_string(r, 4, ch.set_by_a)
        ws.write_string(r, 5, ch.set_by_b)
    if d.rows:
        _xlsx_attribution(book, d, head, num, cell)
    book.close()
    return buf.getvalue()


def _sheet(book, name: str):
    """A worksheet that prints as it reads: landscape, one page wide, header row repeated."""
    ws = book.add_worksheet(name)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    return ws


def _xlsx_attribution(book, d: Diff, head, num, cell) -> None:
    """One row per headline output; Shapley columns with a live SUM and a check column."""
    ws = _sheet(book, "Attribution")
    k = len(d.players)
    cols = ["Output", "Unit", "A", "B", "Change"]
    labels = [player_label(d, p) for p in d.players]
    cols += [f"Shapley: {p}" for p in labels] + ["Other (model or sheet version)",
                                                 "Sum of contributions", "Check (0)"]
    cols += [f"Alone: {p}" for p in labels] + ["Interaction (missed by alone)"]
    ws.set_column(0, 0, 32)
    ws.set_column(1, 1, 13)
    ws.set_column(2, len(cols), 15)
    wrap = book.add_format({"bold": True, "bottom": 1, "bg_color": "#DDEBF7",
                            "text_wrap": True, "valign": "top"})
    ws.set_row(0, 48)
    for c, t in enumerate(cols):
        ws.write_string(0, c, t, wrap)
    ws.freeze_panes(1, 1)
    formats = {u: book.add_format({"num_format": f}) for u, f in DIFF_FORMATS.items()}
    def number(r, c, v, fmt):
        if math.isnan(v):  # rests on an unknown figure
            ws.write_formula(r, c, "=NA()", fmt, "#N/A")
        else:
            ws.write_number(r, c, v, fmt)

    def formula(r, c, text, fmt, v):
        ws.write_formula(r, c, text, fmt, "#N/A" if math.isnan(v) else v)

    for r, row in enumerate(d.rows, start=1):
        num = formats.get(row.headline.unit, num)
        ws.write_string(r, 0, row.headline.output)
        ws.write_string(r, 1, row.headline.unit)
        number(r, 2, row.a, num)
        number(r, 3, row.b, num)
        a_cell, b_cell = cell(r, 2), cell(r, 3)  # n/a in both runs: no change (Row.change)
        formula(r, 4, f"=IF(AND(ISNA({a_cell}),ISNA({b_cell})),0,{b_cell}-{a_cell})", num,
                row.change)
        for i in range(k):
            number(r, 5 + i, float(row.shapley[i]), num)
        ws.write_number(r, 5 + k, row.other, num)
        total = float(math.fsum(row.shapley)) + row.other
        formula(r, 6 + k, f"=SUM({cell(r, 5)}:{cell(r, 5 + k)})", num, total)
        formula(r, 7 + k, f"=ROUND({cell(r, 4)}-{cell(r, 6 + k)},6)", num,
                round(row.change - total, 6))
        for i in range(k):
            number(r, 8 + k + i, float(row.alone[i]), num)
        first, last = cell(r, 8 + k), cell(r, 7 + 2 * k)
        alone_sum = f"SUM({first}:{last})" if k else "0"
        formula(r, 8 + 2 * k, f"={cell(r, 4)}-{cell(r, 5 + k)}-{alone_sum}", num,
                row.change - row.other - float(np.sum(row.alone)))


# =========================================================================== command
