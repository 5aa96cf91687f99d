"""The depreciation-schedule debate: hyperscaler server lives, methods, and earnings.

Critics (Michael Burry among them) argue AI servers have an economic life near three years;
Microsoft, Alphabet, Amazon and Meta depreciate them over five to six. This model takes each
company's server and network capex by vintage and depreciates it

* under the company's **policy**: its life in each year, applied *prospectively* — when the life
  changes, the remaining net book value of every vintage still in service is spread over its
  remaining new life (a change in accounting estimate), and
* under **alternatives**: straight line over each alternative life, and straight line, declining
  balance and sum-of-years' digits at the critics' life, as if that life had always applied.

Per company and year it shows the depreciation under each, the change in pre-tax income and EPS,
and that change as a share of pre-tax income. It also backs out the life that market prices
imply (H100 resale value and rental prices), sets the model's own estimate of each reported
life-change effect next to the reported figure, and tabulates cumulative depreciation after N
years by method and life (the WSJ's point).

Formulas (f = first-year fraction of the convention, a/b = years in service at the start/end of
the year, S = salvage share, L = life, k = declining-balance factor):

* straight line, one vintage: ``SLN(1,S,L) * (MIN(L,b) - MIN(L,a))`` of its cost;
* declining balance: ``VDB(1,S,L,MIN(L,a),MIN(L,b),k)``;
* sum-of-years' digits: cumulative share ``(1-S) * (x(2L-x+1) - r(1-r)) / (L(L+1))`` at
  ``x = MIN(L,b)``, ``r = MOD(x,1)`` (SYD's per-period charges, pro rata within a period);
* policy: ``(cost*(1-S) - depreciation so far) * rate``, with ``rate = 1`` once the remaining
  life ``R = L - a`` is within the year's service time ``s = b - a``, otherwise
  ``MIN(1, s/R)`` for straight line, ``s*MAX(k/L, 1/R)`` for declining balance (switching to
  straight line; the rate applies to the book value above salvage) and ``s*2/(R+1)`` for SYD on
  the remaining life. With a full-year convention and no change of life these are Excel's
  SLN, DDB/VDB and SYD schedules.

Units: USD bn, lives in years, shares as fractions, EPS in USD per share.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from models import fin
from models.errors import EqrError
from models.lineitems import (ABS, IF, MAX, MIN, NA, Across, At, Func, ModelBuilder, Prev,
                              RowRef, SumRows, Total, div_or_na, safe_div, wrap)
from models.units import USD_M_PER_BN
from models.vintage import (MOD1, CumBefore, HeaderYear, PeriodCell, SumProduct,
                            period_years, running_balance_row)

TITLE = "Server depreciation"
DESCRIPTION = ("Hyperscaler server and network depreciation by vintage: each company's policy "
               "(life changes applied prospectively) against alternative lives and methods; "
               "market-implied life; reported effects of life changes vs the model; cumulative "
               "depreciation by method. USD bn unless stated.")

MODEL = "depreciation"
#: what `eqr diff` attributes first (models/headlines.py): each company's FY2026 depreciation
#: under its policy and the EPS change at the critics' life (straight line)
HEADLINES = tuple(f"{co}_{row}.FY2026" for co in ("microsoft", "alphabet", "amazon", "meta")
                  for row in ("depr_policy", "eps_change_sl_critic"))
DDB_FACTOR = 2  # 'double' declining balance, by definition
COMPANY_FIELDS = ("server_share", "life", "method", "pretax_income", "tax_rate",
                  "diluted_shares")
SUBSET_FIELDS = ("subset_share", "subset_life")
CALIB_FIELDS = ("period", "year_share", "basis")
#: what a reported life-change effect covers: assets in service when the year began, or those
#: plus the year's own additions (the model's full first-year effect)
CALIB_BASES = ("opening", "with_additions")


# =========================================================================== numpy twins
def _vdb(cost, salvage, life, start, end, factor):
    """Excel ``VDB`` (with its switch to straight line) over arrays, via :func:`fin.vdb`; an
    unknown argument (NaN, ``#N/A`` in Excel) gives an unknown result, as in Excel."""
    return np.vectorize(_vdb_one, otypes=[float])(cost, salvage, life, start, end, factor)


def _vdb_one(*args):
    if any(isinstance(x, (float, np.floating)) and np.isnan(x) for x in args):
        return np.nan
    return fin.vdb(*args)


def SLN(cost, salvage, life):
    return Func("SLN", [wrap(cost), wrap(salvage), wrap(life)], fin.sln)


def VDB(cost, salvage, life, start, end, factor):
    return Func("VDB", [wrap(x) for x in (cost, salvage, life, start, end, factor)], _vdb)


def syd_cumulative(x, life, salvage):
    """Share of cost depreciated by SYD after ``x`` years of service (``0 <= x <= life``).

    Defined as ``(1-S) * (x*(2L-x+1) - r*(1-r)) / (L*(L+1))`` with ``r = x - INT(x)``: the sum of
    the whole periods' SYD charges plus the current period's charge pro rata.
    """
    r = MOD1(x)
    return (1 - salvage) * (x * (2 * life - x + 1) - r * (1 - r)) / (life * (life + 1))


def convention_fraction(convention):
    """First-year fraction of the chosen convention: ``(conv="full_year")*1 + ...``."""
    expr = None
    for name, share in fin.CONVENTIONS.items():
        term = convention.eq(name) * share
        expr = term if expr is None else expr + term
    return expr


def policy_rate(life, start, end, sl, db_k, syd):
    """Share of this year's opening depreciable book value charged under a policy method.

    ``R = life - start`` (remaining life at the start of the year), ``s = end - start``
    (service time in the year): 1 if ``R <= s`` (the asset finishes this year), else
    ``MIN(1, s*(sl/R + (k>0)*MAX(k/L, 1/R) + syd*2/(R+1)))``.
    """
    remaining = life - start
    service = end - start
    per_year = sl / remaining + (db_k > 0) * MAX(db_k / life, 1 / remaining) \
        + syd * 2 / (remaining + 1)
    return IF(remaining <= service, 1, MIN(1, service * per_year))


# =========================================================================== structure
@dataclass(frozen=True)
class Alternative:
    """A counterfactual: one method at one life, applied to every vintage from the start."""

    key: str          # output-name part, e.g. "sl_alt1", "db_critic"
    method: str       # "sl" | "db" | "syd"
    life_key: str     # assumption name of the life
    label: str        # e.g. "straight line, 3 years"


def _value(a, name):
    return a.value(f"{MODEL}.{name}")


def companies(a) -> list[str]:
    """Companies in sheet order: every ``<company>_capex`` assumption."""
    names = [k.split(".", 1)[1] for k in a.sheets[MODEL].assumptions]
    return [n[:-len("_capex")] for n in names if n.endswith("_capex")]


def alt_life_names(a) -> list[str]:
    names = [k.split(".", 1)[1] for k in a.sheets[MODEL].assumptions]
    found = [n for n in names if re.fullmatch(r"alt_life_\d+", n)]
    return sorted(found, key=lambda n: int(n.rsplit("_", 1)[1]))


def calibrations(a) -> list[tuple[str, str]]:
    """``(name, company)`` of every calibration point ``calib_<company>_<tag>``."""
    names = [k.split(".", 1)[1] for k in a.sheets[MODEL].assumptions]
    cos = companies(a)
    out = []
    for n in names:
        if not n.startswith("calib_") or n.endswith(tuple(f"_{f}" for f in CALIB_FIELDS)):
            continue
        company = next((c for c in cos if n.startswith(f"calib_{c}_")), None)
        if company is not None:
            out.append((n, company))
    return out


def reported_depreciation(a, co: str) -> list[tuple[str, str]]:
    """``(name, period)`` of each reported server-depreciation figure
    ``<company>_server_depr_reported_fy<year>`` whose year is a column of the sheet."""
    names = [k.split(".", 1)[1] for k in a.sheets[MODEL].assumptions]
    periods = a.sheets[MODEL].periods
    found = [(n, f"FY{n[-4:]}") for n in names
             if re.fullmatch(rf"{co}_server_depr_reported_fy\d{{4}}", n)]
    return [(n, p) for n, p in found if p in periods]


def _years(life: float) -> str:
    return f"{life:g} years"


def alternatives(a) -> list[Alternative]:
    """Straight line at every alternative life; SL, DB and SYD at the critics' life."""
    out = [Alternative(f"sl_alt{n.rsplit('_', 1)[1]}", "sl", n,
                       f"straight line, {_years(_value(a, n))}")
           for n in alt_life_names(a)]
    critic = _value(a, "critic_life")
    factor = _value(a, "db_factor")
    out += [Alternative("sl_critic", "sl", "critic_life",
                        f"critics' {_years(critic)}, straight line"),
            Alternative("db_critic", "db", "critic_life",
                        f"critics' {_years(critic)}, declining balance {factor:g}x"),
            Alternative("syd_critic", "syd", "critic_life",
                        f"critics' {_years(critic)}, sum-of-years' digits")]
    return out


def _is_whole(x: float) -> bool:
    return abs(x - round(x)) < 1e-12


# =========================================================================== validation
def _where(a, key: str) -> dict:
    """File and line of an assumption when its value comes from its sheet; else just the key."""
    item = a[key]
    if item.set_by == item.file:
        return {"file": item.file, "line": item.line}
    return {}


_PROBLEMS = {
    "life": "a useful life must be more than zero years",
    "salvage": "salvage value must lie between zero and the cost",
    "factor": "the declining-balance factor must be above zero",
    "method": "unknown depreciation method",
    "convention": "unknown first-year convention",
}


def _fin_check(a, call, keys: dict[str, str], shown: dict[str, str] | None = None,
               hint: str | None = None) -> None:
    """Run a :mod:`models.fin` check; turn its FinInputError into an EqrError on the key."""
    try:
        call()
    except fin.FinInputError as err:
        key = keys.get(err.argument)
        if key is None:
            raise
        base = key.rsplit(".", 1)[0] if key not in a.items else key
        shown_key = (shown or {}).get(err.argument, key)
        problem = _PROBLEMS.get(err.argument, f"bad {err.argument}")
        if err.argument == "life" and "syd" in err.expected:
            problem = "sum-of-years' digits needs a whole number of years"
        raise EqrError(problem, key=shown_key, expected=err.expected, found=err.found,
                       hint=err.hint or hint, **_where(a, base)) from None


def _require(a, name: str, why: str) -> None:
    if f"{MODEL}.{name}" not in a.items:
        raise EqrError(f"missing assumption {MODEL}.{name}", file=a.sheets[MODEL].file,
                       expected=why)


def validate(a) -> None:
    """Check the depreciation sheet beyond units and bounds (called when assumptions resolve).

    Lives above zero, salvage between zero and cost, known methods and convention, a factor
    above zero, a whole critics' life for SYD, consecutive fiscal-year periods, and every
    company and calibration block complete. Raises EqrError naming file and line, or the key.
    """
    if MODEL not in a.sheets:
        return
    sheet = a.sheets[MODEL]
    years = period_years(sheet.periods)
    if np.any(np.diff(years) != 1):
        raise EqrError("periods must be consecutive years", file=sheet.file, key="periods",
                       expected="one period per year, e.g. FY2018 ... FY2027",
                       found=list(sheet.periods))
    for name in ("convention", "salvage_fraction", "db_factor", "critic_life",
                 "cumulative_years"):
        _require(a, name, "see assumptions/depreciation.yaml")
    if not companies(a):
        raise EqrError("no company blocks", file=sheet.file,
                       expected="assumptions named <company>_capex")
    def key(name: str) -> str:
        return f"{MODEL}.{name}"

    salvage = _value(a, "salvage_fraction")
    factor = _value(a, "db_factor")
    convention = _value(a, "convention")
    base_keys = {"salvage": key("salvage_fraction"), "factor": key("db_factor"),
                 "convention": key("convention")}
    _fin_check(a, lambda: fin.schedule(1.0, salvage, 1.0, "db", convention, factor, 1),
               base_keys)
    lives = [(n, _value(a, n)) for n in alt_life_names(a) + ["critic_life"]]
    for name, life in lives:
        _fin_check(a, lambda: fin.schedule(1.0, salvage, life, "db", convention, factor, 1),
                   {**base_keys, "life": key(name)})
    critic = _value(a, "critic_life")
    _fin_check(a, lambda: fin.schedule(1.0, salvage, critic, "syd", convention, factor, 1),
               {**base_keys, "life": key("critic_life")})
    for co in companies(a):
        for field in COMPANY_FIELDS:
            _require(a, f"{co}_{field}", f"every company block has {', '.join(COMPANY_FIELDS)}")
        has_subset = [f"{MODEL}.{co}_{f}" in a.items for f in SUBSET_FIELDS]
        if any(has_subset) and not all(has_subset):
            _require(a, f"{co}_{SUBSET_FIELDS[has_subset.index(False)]}",
                     f"{' and '.join(SUBSET_FIELDS)} go together")
        method = _value(a, f"{co}_method")
        policy_factor = DDB_FACTOR if method == "ddb" else factor
        life_names = [f"{co}_life"] + ([f"{co}_subset_life"] if all(has_subset) else []) \
            + ([f"{co}_network_life"] if f"{MODEL}.{co}_network_life" in a.items else [])
        for name in life_names:
            lives = _value(a, name)  # a series; a single value or None (unknown) is let through
            for period, life in (lives.items() if isinstance(lives, dict) else ()):
                if life is None:
                    continue
                _fin_check(a, lambda: fin.schedule(1.0, salvage, life, method, "full_year",
                                                   policy_factor, 1),
                           {**base_keys, "life": key(name), "method": key(f"{co}_method")},
                           shown={"life": f"{key(name)}.{period}"},
                           hint=f"{key(f'{co}_method')} is {method!r}"
                           if method == "syd" else None)
    for name, _ in calibrations(a):
        for field in CALIB_FIELDS:
            _require(a, f"{name}_{field}", f"each calibration point has {name}_{field}")


# =========================================================================== the model
def define(m: ModelBuilder) -> None:
    a = m.assumptions
    validate(a)
    periods = m.periods
    first, last = periods[0], periods[-1]

    # ------------------------------------------------------------- timeline and conventions
    m.section("Timeline and conventions")
    year = m.row("fiscal_year", "Fiscal year (read from the column header)", "year",
                 HeaderYear(m.name), fmt="0")
    convention = m.input("convention")
    f = m.row("first_year_fraction", "Share of a year depreciated in the year placed in service",
              "fraction", convention_fraction(convention))
    salvage = m.input("salvage_fraction")
    k = m.input("db_factor")
    lives = {n: m.input(n) for n in alt_life_names(a) + ["critic_life"]}

    m.section("Vintage timing: years in service at the start of each year (any company)")
    start = {v: m.row(f"service_start_{v}", f"{v} vintage: years in service at start of year",
                      "years", MAX(0, year - PeriodCell(year.row, v) - (1 - f)))
             for v in periods}
    m.section("Vintage timing: years in service at the end of each year (any company)")
    end = {v: m.row(f"service_end_{v}", f"{v} vintage: years in service at end of year",
                    "years", MAX(0, year - PeriodCell(year.row, v) + f))
           for v in periods}

    # ------------------------------------------------------------- unit schedules
    alts = alternatives(a)
    unit: dict[str, dict[str, RowRef]] = {}
    for alt in alts:
        life = lives[alt.life_key]
        if alt.method == "syd":
            m.section(f"Sum-of-years' digits at {alt.label.split(', ')[-1]}: cumulative share "
                      f"of cost depreciated by year end, by vintage")
            cum = {v: m.row(f"cum_{alt.key}_{v}", f"{v} vintage: cumulative share ({alt.label})",
                            "fraction", syd_cumulative(MIN(life, end[v]), life, salvage))
                   for v in periods}
        m.section(f"Share of cost depreciated each year, by vintage: {alt.label}")
        rows = {}
        for v in periods:
            if alt.method == "sl":
                expr = SLN(1, salvage, life) * (MIN(life, end[v]) - MIN(life, start[v]))
            elif alt.method == "db":
                expr = VDB(1, salvage, life, MIN(life, start[v]), MIN(life, end[v]), k)
            else:
                expr = cum[v] - Prev(cum[v].row)
            rows[v] = m.row(f"unit_{alt.key}_{v}", f"{v} vintage ({alt.label})", "fraction",
                            expr)
        unit[alt.key] = rows

    # ------------------------------------------------------------- companies
    m.section("Completeness: purchases before the first column are not in the sheet")
    ghost = m.row("pre_first_vintage_age", f"Age at the start of the year of purchases made "
                  f"the year before {first} (not in the sheet)", "years",
                  MAX(0, year - PeriodCell(year.row, first) + f))
    for name in alt_life_names(a) + ["critic_life"]:
        tag = name.replace("alt_life_", "alt").replace("critic_life", "critic")
        m.row(f"vintages_complete_{tag}", f"Depreciation at {_years(_value(a, name))} is "
              f"complete (1): purchases before {first} are past that life", "flag",
              IF(ghost >= lives[name], 1, 0))
    network = m.input("network_share_of_pool")
    blocks = {co: _company(m, co, alts, unit, start, end, salvage, k, f, ghost, network)
              for co in companies(a)}

    # ------------------------------------------------------------- Nvidia's share of the capex
    _nvidia_share_of_capex(m, companies(a))

    # ------------------------------------------------------------- market-implied life
    _market(m, blocks, salvage, k)

    # ------------------------------------------------------------- calibration
    _calibration(m, a, blocks)

    # ------------------------------------------------------------- cumulative depreciation
    _cumulative(m, a, lives, f, salvage, k)

    # ------------------------------------------------------------- checks
    m.section("Checks")
    for alt in alts:
        if alt.method == "syd":
            continue
        life = lives[alt.life_key]
        horizon = MIN(life, PeriodCell(end[first].row, last))
        closed = (SLN(1, salvage, life) * horizon if alt.method == "sl"
                  else VDB(1, salvage, life, 0, horizon, k))
        m.check(f"check_unit_{alt.key}_adds_up",
                f"Yearly shares sum to the closed form ({alt.label})",
                _total(unit[alt.key][first]) - closed, tolerance=1e-9)


def _total(ref: RowRef):
    return Total(ref.row)


@dataclass(frozen=True)
class Pool:
    """Part of a company's servers with its own life path (Amazon's 2025 subset)."""

    tag: str          # "" or "subset_": output-name prefix
    text: str         # "" or "subset": label qualifier
    weight: Any       # share of each vintage in the pool (None = all of it)
    life: RowRef      # life in effect each year

    def qualified(self, label: str) -> str:
        return f"{label} ({self.text})" if self.text else label


def _company(m: ModelBuilder, co: str, alts, unit, start, end, salvage, k, f, ghost,
             network) -> dict:
    """One company's block; returns its policy-life and first-year-effect rows."""
    a = m.assumptions
    name = co.title()
    periods = m.periods

    m.section(f"{name}: server and network capex")
    capex = m.input(f"{co}_capex")
    share = m.input(f"{co}_server_share")
    server = m.row(f"{co}_server_capex", f"{name} server and network capex", "USD bn",
                   capex * share)
    m.section(f"{name}: server capex by vintage (placed in service during the year)")
    vintage = {v: m.row(f"{co}_vintage_{v}", f"{name} {v} vintage", "USD bn",
                        PeriodCell(server.row, v)) for v in periods}

    m.section(f"{name}: depreciation policy")
    method = m.input(f"{co}_method")
    sl = m.row(f"{co}_policy_is_sl", f"{name} policy is straight line (1) or not (0)", "flag",
               IF(method.eq("sl"), 1, 0))
    db_k = m.row(f"{co}_policy_db_factor", f"{name} policy declining-balance factor (0 = none)",
                 "x", IF(method.eq("ddb"), DDB_FACTOR, IF(method.eq("db"), k, 0)))
    syd = m.row(f"{co}_policy_is_syd", f"{name} policy is sum-of-years' digits (1) or not (0)",
                "flag", IF(method.eq("syd"), 1, 0))
    pools = [Pool("", "", None, m.input(f"{co}_life"))]
    if f"{MODEL}.{co}_subset_share" in a.items:
        subset = m.input(f"{co}_subset_share")
        pools = [Pool("", "main pool", 1 - subset, pools[0].life),
                 Pool("subset_", "subset", subset, m.input(f"{co}_subset_life"))]
    if f"{MODEL}.{co}_network_life" in a.items:
        # network equipment on its own disclosed life: carved out of the main pool
        main = pools[0]
        pools = [Pool("", main.text or "servers",
                      (1 if main.weight is None else main.weight) - network, main.life),
                 *pools[1:],
                 Pool("network_", "network", network, m.input(f"{co}_network_life"))]
    prev_life = {pool.tag: m.row(f"{co}_{pool.tag}life_prev",
                                 pool.qualified(f"{name} life the year before (first year: same)"),
                                 "years", IF(Prev(pool.life.row) > 0, Prev(pool.life.row),
                                             pool.life))
                 for pool in pools}

    policy_blocks, lastlife_blocks = [], []
    for pool in pools:
        def cost(v, pool=pool):
            """Depreciable cost of the pool's part of vintage v."""
            base = vintage[v] * (1 - salvage)
            return base if pool.weight is None else base * pool.weight

        m.section(pool.qualified(f"{name}: depreciation under policy, by vintage"))
        policy = {v: running_balance_row(
            m, f"{co}_{pool.tag}policy_{v}", f"{name} {v} vintage: depreciation under policy",
            "USD bn", cost(v), policy_rate(pool.life, start[v], end[v], sl, db_k, syd))
            for v in periods}
        m.section(pool.qualified(f"{name}: depreciation had last year's life been kept, "
                                 f"by vintage (same opening book value)"))
        old = {v: m.row(f"{co}_{pool.tag}lastlife_{v}",
                        f"{name} {v} vintage: depreciation at last year's life", "USD bn",
                        (cost(v) - CumBefore(policy[v].row))
                        * policy_rate(prev_life[pool.tag], start[v], end[v], sl, db_k, syd))
               for v in periods}
        policy_blocks.append(SumRows([policy[v].row for v in periods]))
        lastlife_blocks.append(SumRows([old[v].row for v in periods]))

    m.section(f"{name}: depreciation under policy vs alternatives")
    policy_total = m.row(f"{co}_depr_policy", f"{name} depreciation under policy", "USD bn",
                         _sum(policy_blocks))
    lastlife_total = m.row(f"{co}_depr_lastlife", f"{name} depreciation at last year's life",
                           "USD bn", _sum(lastlife_blocks))
    effect = m.row(f"{co}_life_change_effect",
                   f"{name} depreciation saved by this year's life change",
                   "USD bn", lastlife_total - policy_total)
    # this year's own vintage is in service for f of a year from age 0: its share of the effect
    # is its depreciable cost × (rate at last year's life − rate at this year's), per pool
    additions = m.row(f"{co}_life_change_effect_additions",
                      f"{name} of which on this year's additions (in service f of a year)",
                      "USD bn", _sum([
                          server * (1 - salvage) * (1 if pool.weight is None else pool.weight)
                          * (policy_rate(prev_life[pool.tag], 0, f, sl, db_k, syd)
                             - policy_rate(pool.life, 0, f, sl, db_k, syd))
                          for pool in pools]))
    opening = m.row(f"{co}_life_change_effect_opening",
                    f"{name} of which on assets in service at the start of the year",
                    "USD bn", effect - additions)
    vint_rows = [vintage[v].row for v in periods]
    alt_rows = {alt.key: m.row(f"{co}_depr_{alt.key}", f"{name} depreciation, {alt.label}",
                               "USD bn", SumProduct(vint_rows, [unit[alt.key][v].row
                                                                 for v in periods]))
                for alt in alts}

    m.section(f"{name}: change in pre-tax income if depreciated by the alternative "
              f"(= policy − alternative depreciation)")
    delta = {alt.key: m.row(f"{co}_pretax_change_{alt.key}", f"{name} pre-tax change, {alt.label}",
                            "USD bn", policy_total - alt_rows[alt.key])
             for alt in alts}
    m.section(f"{name}: change in EPS (after tax at the marginal rate, that year's shares)")
    tax = m.input(f"{co}_tax_rate")
    shares = m.input(f"{co}_diluted_shares")
    for alt in alts:
        m.row(f"{co}_eps_change_{alt.key}", f"{name} EPS change, {alt.label}", "USD per share",
              safe_div(delta[alt.key] * (1 - tax), shares))
    m.section(f"{name}: change as a share of pre-tax income")
    pretax = m.input(f"{co}_pretax_income")
    for alt in alts:  # a share of a loss (Amazon FY2022) or of nothing is n/a, not +109%
        m.row(f"{co}_pretax_share_{alt.key}", f"{name} share of pre-tax, {alt.label} (n/a "
              f"where pre-tax income is not positive)", "fraction",
              IF(pretax > 0, delta[alt.key] / pretax, NA()))

    # network gear kept at its policy life: servers-only alternative = the critics' schedule
    # on (1 - network share) of each vintage + the network's policy depreciation (its own pool
    # where it has one, else that share of the policy total)
    m.section(f"{name}: the critics' life on servers only (network gear kept at policy life)")
    network_policy = (m.row(f"{co}_network_depr_policy", f"{name} network equipment "
                            f"depreciation under policy", "USD bn", policy_blocks[-1])
                      if pools[-1].tag == "network_" else policy_total * network)
    servers_only = m.row(f"{co}_pretax_change_sl_critic_servers_only",
                         f"{name} pre-tax change, critics' life on servers only", "USD bn",
                         policy_total - network_policy - alt_rows["sl_critic"] * (1 - network))
    m.row(f"{co}_pretax_share_sl_critic_servers_only", f"{name} share of pre-tax, critics' "
          f"life on servers only", "fraction", safe_div(servers_only, pretax))
    m.row(f"{co}_vintages_complete", f"{name} policy depreciation complete (1): purchases "
          f"before the first column are past this year's longest life (0: some may be missing)",
          "flag", IF(ghost >= _longest([pool.life for pool in pools]), 1, 0))

    m.section(f"{name}: book value")
    placed = m.row(f"{co}_depreciable_placed", f"{name} depreciable server capex placed in "
                   f"service to date", "USD bn",
                   (CumBefore(server.row) + server) * (1 - salvage))
    charged = m.row(f"{co}_depr_policy_to_date", f"{name} depreciation under policy to date",
                    "USD bn", CumBefore(policy_total.row) + policy_total)
    nbv = m.row(f"{co}_net_book_value", f"{name} net book value above salvage, year end",
                "USD bn", placed - charged)
    scale = {}
    points = reported_depreciation(a, co)
    if points:
        m.section(f"{name}: server depreciation under policy against the reported figure")
    for name_, period in points:
        reported = m.input(name_)
        scale[period] = m.row(
            f"{name_}_over_model", f"{name} {period}: reported ÷ model server depreciation "
            f"(× the sheet's server share = the share that matches)", "x",
            div_or_na(reported, PeriodCell(policy_total.row, period)))
    if len(pools) > 1:
        m.check(f"check_{co}_pool_shares_not_negative", f"{name}: the main pool's share "
                f"(1 - subset - network) is not negative", MIN(0, wrap(pools[0].weight)),
                tolerance=1e-9)
    m.check(f"check_{co}_book_value_not_negative",
            f"{name}: policy never depreciates more than the cost placed in service",
            IF(nbv < 0, nbv, 0), tolerance=1e-9)
    return {"life": pools[0].life, "effect": effect, "opening": opening, "scale": scale}


def _longest(lives):
    out = lives[0]
    for life in lives[1:]:
        out = MAX(out, life)
    return out


def _sum(rows):
    total = rows[0]
    for r in rows[1:]:
        total = total + r
    return total


def _nvidia_share_of_capex(m: ModelBuilder, cos: list[str]) -> None:
    """Cross-check: Nvidia's data-center revenue (sheet nvda_fy) against the four companies'
    capex. The companies' fiscal year n (Microsoft's ends in June, the others' in December) is
    set beside Nvidia's FY n+1 (Feb–Jan); years Nvidia's sheets do not cover are #N/A."""
    try:
        nvidia = m.model("nvda_fy")
    except KeyError:  # a run without Nvidia's sheets
        return
    m.section("Cross-check: Nvidia data-center revenue against the four companies' capex")
    mapping = {p: (f"FY{int(p[-4:]) + 1}",) for p in m.periods
               if f"FY{int(p[-4:]) + 1}" in nvidia.periods}
    revenue = m.row("nvidia_dc_revenue", "Nvidia Data Center revenue, its next fiscal year "
                    "(sheet nvda_fy)", "USD bn",
                    Across(nvidia.row("data_center_revenue"), m.name, mapping) / USD_M_PER_BN)
    total = m.row("big_four_capex", "The four companies' capex", "USD bn",
                  SumRows([m.ref(f"{co}_capex").row for co in cos]))
    m.row("nvidia_dc_revenue_share_of_capex", "Nvidia Data Center revenue as a share of the "
          "four companies' capex", "fraction", div_or_na(revenue, total))


def _market(m: ModelBuilder, blocks: dict, salvage, factor) -> None:
    """Market-implied life from resale values and rental prices; each policy against it."""
    m.section("Market-implied life: H100 resale value")
    resale = m.input("resale_fraction")
    age = m.input("resale_age")
    # straight line to salvage s: book = 1 − (1 − s) × age / L, so L = age (1 − s) / (1 − resale)
    sl_life = m.row("implied_sl_life", "Resale-implied straight-line life: age × (1 − salvage) "
                    "/ (1 − resale)", "years", div_or_na(age * (1 - salvage), 1 - resale))
    rate = m.row("implied_db_rate", "Resale-implied declining-balance rate: 1 − resale^(1/age)",
                 "fraction", 1 - resale ** (1 / age))
    m.row("implied_ddb_life", "Resale-implied declining-balance life: the sheet's factor / rate",
          "years", div_or_na(factor, rate))
    m.section("Market-implied life: H100 rental prices")
    peak = m.input("rental_peak")
    latest = m.input("rental_latest")
    years = m.input("rental_years")
    ratio = m.row("rental_ratio", "Latest rental price as a share of the peak", "fraction",
                  div_or_na(latest, peak))
    m.row("rental_annual_decline", "Annual decline of the rental price: 1 − ratio^(1/years)",
          "fraction", 1 - ratio ** (1 / years))
    m.row("rental_sl_life", "Rental-implied straight-line life: years / (1 − ratio)", "years",
          div_or_na(years, 1 - ratio))
    m.section("Each company's policy life against the resale-implied life")
    for co, block in blocks.items():
        name = co.title()
        life = block["life"]
        m.row(f"{co}_life_minus_implied", f"{name} policy life − resale-implied life", "years",
              life - sl_life)
        m.row(f"{co}_book_value_at_resale_age",
              f"{name} book value left at the resale age (policy life)",
              "fraction", 1 - (1 - salvage) * MIN(1, age / life))


def _calibration(m: ModelBuilder, a, blocks: dict[str, dict]) -> None:
    """Reported effects of life changes against the model's first-year effect on the same
    basis: assets in service when the year began (``opening``), or those plus the year's own
    additions (``with_additions``), as the company's wording says (``calib_..._basis``)."""
    m.section("Calibration: reported effects of life changes against the model's estimate")
    tolerance = m.input("calibration_tolerance")
    for name, co in calibrations(a):
        m.section(f"Calibration: {a[f'{MODEL}.{name}'].label}")
        reported = m.input(name, label="Reported reduction in depreciation (USD bn)")
        period = m.input(f"{name}_period")
        share = m.input(f"{name}_year_share")
        basis = m.input(f"{name}_basis")
        effect = m.row(f"{name}_model_year", "Model: first-year effect on the reported basis "
                       "(opening: excludes this year's additions)", "USD bn",
                       IF(basis.eq("opening"), At(blocks[co]["opening"].row, period),
                          At(blocks[co]["effect"].row, period)))
        model = m.row(f"{name}_model", "Model: first-year effect × share of the year", "USD bn",
                      effect * share)
        gap = m.row(f"{name}_gap", "Gap: model − reported", "USD bn", model - reported)
        matched = blocks[co]["scale"].get(_value(a, f"{name}_period"))
        if matched is not None:
            # depreciation and the effect are both proportional to a constant server share:
            # the share that matches reported depreciation that year scales the effect alike
            scaled = m.row(f"{name}_model_scaled", "Model at the server share that matches "
                           "reported server depreciation that year", "USD bn",
                           model * matched)
            m.row(f"{name}_gap_scaled", "Gap at that server share: model − reported",
                  "USD bn", scaled - reported)
        m.row(f"{name}_gap_share", "Gap as a share of the reported figure", "fraction",
              safe_div(gap, ABS(reported)))
        # the effect is proportional to the server share of capex (an analyst assumption for
        # every company): the multiple of it at which the model would meet the reported figure
        m.row(f"{name}_share_multiple", "Server share multiple at which the model meets the "
              "reported figure (reported ÷ model; the effect is proportional to the share)",
              "x", div_or_na(reported, model))
        m.row(f"{name}_miss", "Misses by more than the tolerance (1) or not (0)", "flag",
              IF(ABS(safe_div(gap, ABS(reported))) > tolerance, 1, 0))


def _cumulative(m: ModelBuilder, a, lives, f, salvage, k) -> None:
    """Cumulative depreciation after N calendar years as a share of cost, by method and life."""
    m.section("Cumulative depreciation after N years, share of cost (WSJ point)")
    n = m.input("cumulative_years")
    x = m.row("cumulative_service_years", "Years in service after N calendar years", "years",
              MAX(0, n - (1 - f)))
    for name in alt_life_names(a):
        life = lives[name]
        value = _value(a, name)
        tag = name.replace("alt_life_", "alt")
        m.row(f"cum_share_sl_{tag}", f"Straight line, {_years(value)}", "fraction",
              SLN(1, salvage, life) * MIN(life, x))
        m.row(f"cum_share_db_{tag}", f"Declining balance, {_years(value)}", "fraction",
              VDB(1, salvage, life, 0, MIN(life, x), k))
        if _is_whole(value):
            m.row(f"cum_share_syd_{tag}", f"Sum-of-years' digits, {_years(value)}", "fraction",
                  syd_cumulative(MIN(life, x), life, salvage))
    m.section("The WSJ's comparison: its life and the accelerated method it describes")
    wsj_life = m.input("wsj_life")
    wsj_k = m.input("wsj_db_factor")
    m.row("cum_share_wsj_sl", "Straight line at the WSJ's life", "fraction",
          SLN(1, salvage, wsj_life) * MIN(wsj_life, x))
    m.row("cum_share_wsj_accelerated", "Declining balance at the WSJ's factor and life",
          "fraction", VDB(1, salvage, wsj_life, 0, MIN(wsj_life, x), wsj_k))
    m.row("cum_share_wsj_accelerated_full_year", "The same with a full year in the first year "
          "(N years of service)", "fraction", VDB(1, salvage, wsj_life, 0, MIN(wsj_life, n), wsj_k))
    m.row("cum_share_wsj_ddb", "Double-declining balance at the WSJ's life (not the source's "
          "method)", "fraction", VDB(1, salvage, wsj_life, 0, MIN(wsj_life, x), DDB_FACTOR))
