"""'6 million Blackwell GPUs' reconciled against Nvidia's revenue and against US power.

In October 2025 Nvidia's CEO said 6 million Blackwell GPUs had shipped in the last four
quarters. The founding article divided data-center revenue by a price per GPU, found 2.5-3.5
million, and called the rest a gap. This model does the same arithmetic twice:

* the **seed case** (rows ``seed_case.*``) with the article's own inputs, reproducing its
  figures, and
* the **corrected case** by Nvidia fiscal quarter: data-center revenue less networking, times the
  Blackwell share of compute revenue, divided by an ASP per *package* (per-package quote, or an
  NVL72 rack price / 72); the claim read as dies or as packages.

The **bridge** walks from the claimed units to the headline revenue-implied units (data-center
revenue in the claim window / the reference ASP: the article's kind of arithmetic on the reported
figures). Each step has its own definition (a step is not "the rest"), and a check row proves
they add up to ``claimed - headline``. Steps, in substitution order (each evaluated with the
earlier ones already applied, which is what makes the decomposition exact):

claim side (units)
  1. die vs package   = claimed x (1 - 1/k), k = dies per package on the die basis, else 1
  2. non-DC units     = Blackwell packages shipped outside the data center, in the window
  3. timing           = packages shipped in the window whose revenue falls outside it (net)
  -> level: claimed data-center packages recognised in the window (C_dc)
residual
  4. residual gap     = C_dc - I           (claimed packages revenue does not pay for)
  -> level: revenue-implied packages I = B / P
revenue side (from the corrected implied units back up to the headline H = D / P_ref)
  5. ASP              = B/P - B/P_ref      (B Blackwell GPU revenue, P selected ASP,
                                            P_ref reference ASP)  -> level B / P_ref
  6. non-Blackwell    = -(non-Blackwell compute revenue) / P_ref  -> level compute / P_ref
  7. networking       = -(networking revenue) / P_ref             -> level D / P_ref = H

Positive steps explain part of the claim (move from the claim down toward the headline);
negative steps widen it (revenue the headline counted as GPUs that are not Blackwell GPUs).
Every level between the steps is itself a meaningful figure. The order matters for steps 5-7:
with the price swapped first (as here, going from I back to H) the revenue deductions are
valued at the reference price P_ref; swapping it last would value them at P and change both the
ASP step and the deductions (their sum is the same). The claim-side steps do not interact
(non-DC and timing units are entered as packages).

Power, on one basis (IT load): packages x US share x (rack kW / packages per rack) -> GW of IT
load needed in the US, against CBRE's primary-market additions in 2024-2025 (quoted as IT load).
Facility power (x the PUE of new liquid-cooled halls) and the founding article's capacity (its
basis is not stated) are shown for information, not compared.

Residual gap range: the gap again with ASP +/- USD 5k and the Blackwell share +/- 10 points (the
corners that move it most), rows ``bridge_residual_gap_low`` / ``_high``.

Units: revenue USD bn, prices USD per package, units as counted (packages unless a row says
dies), power kW per package and GW.
"""
from __future__ import annotations

from models.lineitems import IF, MAX, MIN, Across, ModelBuilder, SumRows, Total, safe_div
from models.units import PCT_POINTS, USD_M_PER_BN, USD_PER_BN, USD_PER_USD_M

TITLE = "Blackwell units"
#: what `eqr diff` attributes first (models/headlines.py): packages revenue pays for, and the
#: gap left between them and the claim
HEADLINES = ("implied_packages_total", "bridge_residual_gap", "residual_gap_share_of_claim")
DESCRIPTION = ("'6 million Blackwell GPUs' against data-center revenue and US power: seed "
               "case, corrected case by Nvidia fiscal quarter, bridge, power cross-check.")

KW_PER_GW = 1e6       # kW -> GW
HALF = 2              # midpoint of a low/high range = (low + high) / 2
GRID_STEPS = 7        # grid points per axis: ASP 22k..40k in 3k steps, share -20..+10 pp in 5 pp

SEED = "seed_case."   # prefix of the seed case's rows: outputs blackwell.seed_case.<x>


def define(m: ModelBuilder) -> None:
    inp = _inputs(m)
    rev = _revenue_by_quarter(m, inp)
    asp = _asp(m, inp, rev)
    claim = _claim_side(m, inp)
    implied = _implied_units(m, inp, rev, asp, claim)
    headline = _headline(m, inp, rev)
    bridge = _bridge(m, inp, rev, asp, implied, claim, headline)
    _gap_range(m, inp, rev, asp, claim)
    _power(m, inp, claim, implied)
    _seed_case(m, inp)
    _grids(m)
    _checks(m, rev, asp, implied, headline, bridge)


# --------------------------------------------------------------------------- inputs
def _inputs(m: ModelBuilder) -> dict:
    """Every assumption of the sheet as a green link row, grouped as on the Inputs sheet."""
    groups = {
        "Inputs by quarter (linked from the Inputs sheet)": [
            "networking_revenue_bn", "blackwell_share_of_compute",
            "blackwell_share_shift", "non_dc_units", "shipped_not_recognised_units",
            "claim_window_share"],
        "Inputs: the claim, ASP and power": [
            "units_claimed", "claim_basis", "dies_per_package", "asp_case", "asp_route",
            "asp_package_low_usd", "asp_package_base_usd", "asp_package_high_usd",
            "gb200_rack_price_low_usd_m", "gb200_rack_price_high_usd_m",
            "gb300_rack_price_low_usd_m", "gb300_rack_price_high_usd_m",
            "gb300_share_of_racks", "gpus_per_rack", "asp_reference_usd",
            "gap_range_asp_usd", "gap_range_share_pp",
            "rack_power_low_kw", "rack_power_high_kw", "pue_new_halls", "us_share_low",
            "us_share_high",
            "us_capacity_added_2024_gw", "us_capacity_added_2025_gw", "cbre_adds_2024_gw",
            "cbre_adds_2025_gw"],
    }
    refs = {}
    for title, names in groups.items():
        m.section(title)
        if not refs:  # one source of truth: Nvidia's reported quarters (sheet nvda_actuals)
            source = m.model("nvda_actuals").row("data_center_revenue")
            refs["dc_revenue_bn"] = m.row(
                "dc_revenue_bn", "Data-center revenue (sheet nvda_actuals)", "USD bn",
                Across(source, m.name, {p: (p,) for p in m.periods}) / USD_M_PER_BN)
        refs.update({name: m.input(name) for name in names})
    return refs


def _revenue_by_quarter(m: ModelBuilder, i: dict) -> dict:
    """Compute = data center - networking; Blackwell = compute x share; window-weighted sums."""
    m.section("Revenue by quarter (USD bn)")
    compute = m.row("compute_revenue_bn", "Data-center compute revenue", "USD bn",
                    i["dc_revenue_bn"] - i["networking_revenue_bn"])
    share = m.row("blackwell_share_used", "Blackwell share of compute revenue used (share + "
                  "shift, within 0-100%)", "fraction", _share_used(i))
    blackwell = m.row("blackwell_revenue_bn", "Blackwell GPU revenue", "USD bn",
                      compute * share)
    non_bw = m.row("non_blackwell_compute_revenue_bn", "Non-Blackwell compute revenue",
                   "USD bn", compute - blackwell)
    w = i["claim_window_share"]
    m.section("Revenue in the claim window (quarter x window share)")
    dc_w = m.row("dc_revenue_window_bn", "Data-center revenue in the window", "USD bn",
                 i["dc_revenue_bn"] * w)
    net_w = m.row("networking_revenue_window_bn", "Networking revenue in the window", "USD bn",
                  i["networking_revenue_bn"] * w)
    nbw_w = m.row("non_blackwell_revenue_window_bn", "Non-Blackwell compute revenue in the "
                  "window", "USD bn", non_bw * w)
    bw_w = m.row("blackwell_revenue_window_bn", "Blackwell GPU revenue in the window", "USD bn",
                 blackwell * w)
    m.section("Claim-window totals (USD bn)")
    return {
        "blackwell": blackwell, "dc": i["dc_revenue_bn"], "networking": i["networking_revenue_bn"],
        "compute": compute,
        "dc_total": m.row("dc_revenue_total_bn", "Data-center revenue, claim window", "USD bn",
                          Total(dc_w.row)),
        "net_total": m.row("networking_revenue_total_bn", "Networking revenue, claim window",
                           "USD bn", Total(net_w.row)),
        "nbw_total": m.row("non_blackwell_revenue_total_bn", "Non-Blackwell compute revenue, "
                           "claim window", "USD bn", Total(nbw_w.row)),
        "bw_total": m.row("blackwell_revenue_total_bn", "Blackwell GPU revenue, claim window",
                          "USD bn", Total(bw_w.row)),
    }


def _share_used(i: dict, extra_pp=None):
    """Blackwell share of compute used = share + shift (+ ``extra_pp``) points, within 0-100%:
    one definition for the base case and for the ends of the residual gap's range."""
    shift = i["blackwell_share_shift"]
    if extra_pp is not None:
        shift = shift + extra_pp
    return MIN(1, MAX(0, i["blackwell_share_of_compute"] + shift / PCT_POINTS))


def _asp(m: ModelBuilder, i: dict, rev: dict) -> dict:
    """Selected ASP per package = the chosen case (low/base/high) of the chosen route. The rack
    route takes networking content out of the rack price (NVLink switch trays and NICs are
    booked as networking revenue, which the corrected case has already removed)."""
    m.section("ASP per Blackwell package (USD)")
    f_low = m.row("asp_case_low_flag", "ASP case is low (1/0)", "flag",
                  IF(i["asp_case"].eq("low"), 1, 0))
    f_base = m.row("asp_case_base_flag", "ASP case is base (1/0)", "flag",
                   IF(i["asp_case"].eq("base"), 1, 0))
    f_high = m.row("asp_case_high_flag", "ASP case is high (1/0)", "flag",
                   IF(i["asp_case"].eq("high"), 1, 0))
    f_rack = m.row("asp_route_rack_flag", "ASP from the rack route (1/0)", "flag",
                   IF(i["asp_route"].eq("rack"), 1, 0))
    package = m.row("asp_package_usd", "Per-package route: selected case", "USD per unit",
                    i["asp_package_low_usd"] * f_low + i["asp_package_base_usd"] * f_base
                    + i["asp_package_high_usd"] * f_high)
    mix = i["gb300_share_of_racks"]
    rack_low = m.row("rack_price_low_usd_m", "NVL72 rack price, GB200/GB300 mix - low", "USD m",
                     i["gb200_rack_price_low_usd_m"] * (1 - mix)
                     + i["gb300_rack_price_low_usd_m"] * mix)
    rack_high = m.row("rack_price_high_usd_m", "NVL72 rack price, GB200/GB300 mix - high",
                      "USD m", i["gb200_rack_price_high_usd_m"] * (1 - mix)
                      + i["gb300_rack_price_high_usd_m"] * mix)
    rack_base = m.row("rack_price_base_usd_m", "NVL72 rack price, mix - base (midpoint)",
                      "USD m", (rack_low + rack_high) / HALF)
    per_rack = i["gpus_per_rack"]
    net = m.row("rack_networking_share", "Networking content of a rack price (proxy: "
                "networking share of data-center revenue in the claim window)", "fraction",
                safe_div(rev["net_total"], rev["dc_total"]))
    m.row("asp_rack_low_usd", "Rack route: rack price low less networking / packages per rack",
          "USD per unit", rack_low * (1 - net) * USD_PER_USD_M / per_rack)
    m.row("asp_rack_high_usd", "Rack route: rack price high less networking / packages per "
          "rack", "USD per unit", rack_high * (1 - net) * USD_PER_USD_M / per_rack)
    rack = m.row("asp_rack_usd", "Rack route: selected case (less networking)", "USD per unit",
                 (rack_low * f_low + rack_base * f_base + rack_high * f_high) * (1 - net)
                 * USD_PER_USD_M / per_rack)
    selected = m.row("asp_selected_usd", "ASP per package used (selected route and case)",
                     "USD per unit", rack * f_rack + package * (1 - f_rack))
    return {"selected": selected}


def _implied_units(m: ModelBuilder, i: dict, rev: dict, asp: dict, claim: dict) -> dict:
    """Revenue-implied packages = Blackwell GPU revenue / ASP, by quarter and in the window."""
    m.section("Revenue-implied Blackwell packages (corrected case)")
    by_q = m.row("implied_packages", "Revenue-implied Blackwell packages", "units",
                 safe_div(rev["blackwell"] * USD_PER_BN, asp["selected"]))
    in_w = m.row("implied_packages_window", "Revenue-implied packages in the window", "units",
                 by_q * i["claim_window_share"])
    total = m.row("implied_packages_total", "Revenue-implied Blackwell packages, claim window",
                  "units", Total(in_w.row))
    m.row("implied_units_claim_basis", "Revenue-implied units counted as the claim counts "
          "(packages x claimed GPUs per package)", "units", total * claim["k"])
    return {"total": total}


def _claim_side(m: ModelBuilder, i: dict) -> dict:
    """Claimed packages = claimed / k; claimed DC packages = that - non-DC - timing (window)."""
    m.section("The claim, read as packages")
    k = m.row("claimed_units_per_package", "Claimed GPUs per package (dies basis: dies per "
              "package; packages basis: 1)", "units per package",
              IF(i["claim_basis"].eq("dies"), i["dies_per_package"], 1))
    packages = m.row("claimed_packages", "Claimed Blackwell packages", "units",
                     i["units_claimed"] / k)
    non_dc_w = m.row("non_dc_units_window", "Packages outside the data center, in the window",
                     "units", i["non_dc_units"] * i["claim_window_share"])
    timing_w = m.row("timing_units_window", "Packages shipped but recognised outside the "
                     "window, in the window", "units",
                     i["shipped_not_recognised_units"] * i["claim_window_share"])
    non_dc = m.row("non_dc_units_total", "Packages outside the data center, claim window",
                   "units", Total(non_dc_w.row))
    timing = m.row("timing_units_total", "Packages shipped, revenue outside the window (net)",
                   "units", Total(timing_w.row))
    dc = m.row("claimed_dc_packages", "Claimed data-center packages recognised in the window",
               "units", packages - non_dc - timing)
    return {"k": k, "packages": packages, "non_dc": non_dc, "timing": timing, "dc": dc}


def _headline(m: ModelBuilder, i: dict, rev: dict) -> dict:
    """Headline implied units = all data-center revenue in the window / reference ASP."""
    m.section("Headline arithmetic (data-center revenue / reference ASP)")
    h = m.row("headline_implied_units", "Revenue-implied units, headline arithmetic",
              "units", safe_div(rev["dc_total"] * USD_PER_BN, i["asp_reference_usd"]))
    return {"units": h}


def _bridge(m: ModelBuilder, i: dict, rev: dict, asp: dict, implied: dict, claim: dict,
            headline: dict) -> dict:
    """Steps from the claim to the headline; see the module docstring for their order."""
    m.section("Bridge: claimed units -> headline revenue-implied units")
    claimed = m.row("bridge_claimed_units", "Claimed Blackwell GPUs", "units",
                    i["units_claimed"])
    k = claim["k"]
    p_ref = i["asp_reference_usd"]
    steps = [
        m.row("bridge_die_vs_package", "Die vs package: second dies counted as GPUs", "units",
              i["units_claimed"] * (k - 1) / k),
        m.row("bridge_non_dc_units", "Non-data-center units", "units", claim["non_dc"]),
        m.row("bridge_timing", "Timing: shipped in the window, recognised outside", "units",
              claim["timing"]),
        m.row("bridge_residual_gap", "Residual gap: claimed packages revenue does not pay for",
              "units", claim["dc"] - implied["total"]),
        m.row("bridge_asp", "ASP: selected price instead of the reference price", "units",
              safe_div(rev["bw_total"] * USD_PER_BN, asp["selected"])
              - safe_div(rev["bw_total"] * USD_PER_BN, p_ref)),
        m.row("bridge_non_blackwell", "Non-Blackwell compute revenue counted as GPUs", "units",
              -safe_div(rev["nbw_total"] * USD_PER_BN, p_ref)),
        m.row("bridge_networking", "Networking revenue counted as GPUs", "units",
              -safe_div(rev["net_total"] * USD_PER_BN, p_ref)),
    ]
    m.row("bridge_headline_units", "Headline revenue-implied units", "units",
          headline["units"])
    m.row("residual_gap_share_of_claim", "Residual gap as a share of claimed data-center "
          "packages", "fraction", safe_div(steps[3], claim["dc"]))
    return {"steps": steps, "claimed": claimed}


def _grids(m: ModelBuilder) -> None:
    """Implied packages and the residual gap against the ASP and the Blackwell share."""
    axes = {"rows": "blackwell.blackwell_share_shift", "cols": "blackwell.asp_package_base_usd",
            "steps": GRID_STEPS}
    m.grid("grid_implied_asp_share", "Revenue-implied packages (claim window): Blackwell share "
           "shift x ASP per package (base case)", m.ref("implied_packages_total"), **axes)
    m.grid("grid_gap_asp_share", "Residual gap (claimed DC packages - implied): Blackwell share "
           "shift x ASP per package (base case)", m.ref("bridge_residual_gap"), **axes)


def _checks(m: ModelBuilder, rev: dict, asp: dict, implied: dict, headline: dict,
            bridge: dict) -> None:
    """The bridge closes; implied packages x ASP give back the Blackwell revenue."""
    m.section("Checks")
    m.check("check_bridge_closes", "Bridge steps sum to claimed - headline implied units",
            SumRows([s.row for s in bridge["steps"]])
            - (bridge["claimed"] - headline["units"]), tolerance=1e-6)
    m.check("check_networking_within_dc_revenue",
            "Networking revenue does not exceed data-center revenue (excess, USD bn)",
            MAX(0, rev["networking"] - rev["dc"]))
    m.check("check_implied_times_asp_is_revenue",
            "Implied packages x ASP = Blackwell GPU revenue in the window (USD bn)",
            implied["total"] * asp["selected"] / USD_PER_BN - rev["bw_total"],
            tolerance=1e-9)


def _power(m: ModelBuilder, i: dict, claim: dict, implied: dict) -> None:
    """On one basis, IT load: GW needed = packages x US share x rack kW / packages per rack /
    1e6, against CBRE's primary-market additions (quoted as IT load); gap = needed - added, at
    the low and the high end. Facility power (IT load x PUE of new liquid-cooled halls) and the
    founding article's capacity (basis not stated) are information rows, not compared."""
    m.section("Power cross-check (US), IT load")
    per_rack = i["gpus_per_rack"]
    kw_low = m.row("it_kw_per_package_low", "IT load per package - low (rack kW / packages per "
                   "rack)", "kW", i["rack_power_low_kw"] / per_rack)
    kw_high = m.row("it_kw_per_package_high", "IT load per package - high", "kW",
                    i["rack_power_high_kw"] / per_rack)
    need = {}
    for basis, units, label in (("claimed", claim["dc"], "claimed data-center packages"),
                                ("implied", implied["total"], "revenue-implied packages")):
        for end, share, kw in (("low", i["us_share_low"], kw_low),
                               ("high", i["us_share_high"], kw_high)):
            need[basis, end] = m.row(f"us_it_load_needed_{basis}_{end}_gw",
                                     f"US IT load needed for {label} - {end}", "GW",
                                     units * share * kw / KW_PER_GW)
    cbre = m.row("us_capacity_added_cbre_gw", "US primary-market capacity added 2024-2025 "
                 "(CBRE, IT load)", "GW", i["cbre_adds_2024_gw"] + i["cbre_adds_2025_gw"])
    m.section("Power gap on IT load: needed - CBRE additions (positive = more than was built)")
    for basis in ("claimed", "implied"):
        for end in ("low", "high"):
            m.row(f"us_power_gap_{basis}_cbre_{end}_gw",
                  f"Gap, {basis} packages vs CBRE additions (IT load) - {end}", "GW",
                  need[basis, end] - cbre)
    m.section("Information only: facility power and the founding article's capacity")
    for end in ("low", "high"):
        m.row(f"us_facility_power_claimed_{end}_gw", f"US facility power for the claimed "
              f"packages - {end} (IT load x PUE of new liquid-cooled halls)", "GW",
              need["claimed", end] * i["pue_new_halls"])
    m.row("us_capacity_added_seed_gw", "US capacity added 2024-2025 (founding article; basis "
          "not stated)", "GW", i["us_capacity_added_2024_gw"] + i["us_capacity_added_2025_gw"])


def _gap_range(m: ModelBuilder, i: dict, rev: dict, asp: dict, claim: dict) -> None:
    """The residual gap at the corners of its own uncertainty: ASP +/- ``gap_range_asp_usd``
    and every quarter's Blackwell share +/- ``gap_range_share_pp`` points. The fewest implied
    packages (higher ASP, lower share) give the high end of the gap; the most give the low end.
    Same definitions as the base case: ``_share_used`` and revenue / ASP."""
    m.section("Residual gap: range at the corners of ASP and Blackwell-share uncertainty")
    d_asp, d_pp = i["gap_range_asp_usd"], i["gap_range_share_pp"]
    w = i["claim_window_share"]
    totals = {}
    for tag, sign, word in (("up", 1, "plus"), ("down", -1, "minus")):
        window = m.row(f"blackwell_revenue_window_share_{tag}_bn", f"Blackwell GPU revenue in "
                       f"the window, share {word} the range", "USD bn",
                       rev["compute"] * _share_used(i, d_pp * sign) * w)
        totals[tag] = m.row(f"blackwell_revenue_total_share_{tag}_bn", f"Blackwell GPU "
                            f"revenue, claim window, share {word} the range", "USD bn",
                            Total(window.row))
    most = m.row("implied_packages_most", "Revenue-implied packages, most: share up, ASP down",
                 "units", safe_div(totals["up"] * USD_PER_BN, asp["selected"] - d_asp))
    fewest = m.row("implied_packages_fewest", "Revenue-implied packages, fewest: share down, "
                   "ASP up", "units", safe_div(totals["down"] * USD_PER_BN,
                                               asp["selected"] + d_asp))
    low = m.row("bridge_residual_gap_low", "Residual gap - low end (claimed DC packages - most "
                "implied)", "units", claim["dc"] - most)
    high = m.row("bridge_residual_gap_high", "Residual gap - high end (claimed DC packages - "
                 "fewest implied)", "units", claim["dc"] - fewest)
    m.check("check_gap_range_asp_above_zero", "ASP less the range stays above zero (shortfall, "
            "USD per unit)", MIN(0, asp["selected"] - d_asp))
    m.row("residual_gap_share_low", "Residual gap, low end, as a share of claimed DC packages",
          "fraction", safe_div(low, claim["dc"]))
    m.row("residual_gap_share_high", "Residual gap, high end, as a share of claimed DC "
          "packages", "fraction", safe_div(high, claim["dc"]))


def _seed_case(m: ModelBuilder, i: dict) -> None:
    """The founding article's arithmetic with its own inputs (rows ``seed_case.*``)."""
    m.section("Seed case inputs (the founding article's own figures)")
    s = {n: m.input(n) for n in ("seed_dc_revenue_bn", "seed_q4_revenue_bn", "seed_asp_low_usd",
                                 "seed_asp_high_usd", "seed_dc_unit_share", "seed_pue",
                                 "seed_printed_units_low", "seed_printed_units_high",
                                 "seed_printed_gap_low", "seed_printed_gap_high")}
    m.section("Seed case: the article's arithmetic")
    rev, q4 = s["seed_dc_revenue_bn"] * USD_PER_BN, s["seed_q4_revenue_bn"] * USD_PER_BN
    lo = m.row(SEED + "implied_units_low", "USD 111bn / high price", "units",
               safe_div(rev, s["seed_asp_high_usd"]))
    hi = m.row(SEED + "implied_units_high", "USD 111bn / low price", "units",
               safe_div(rev, s["seed_asp_low_usd"]))
    q4_lo = m.row(SEED + "q4_units_low", "+ first quarter USD 10bn / high price", "units",
                  safe_div(q4, s["seed_asp_high_usd"]))
    q4_hi = m.row(SEED + "q4_units_high", "+ first quarter USD 10bn / low price", "units",
                  safe_div(q4, s["seed_asp_low_usd"]))
    tot_lo = m.row(SEED + "total_units_low", "Revenue-implied GPUs - low", "units", lo + q4_lo)
    tot_hi = m.row(SEED + "total_units_high", "Revenue-implied GPUs - high (best case)",
                   "units", hi + q4_hi)
    dc = m.row(SEED + "claimed_dc_units", "Claimed GPUs going to data centers (80%)", "units",
               i["units_claimed"] * s["seed_dc_unit_share"])
    m.row(SEED + "gap_low", "Gap - low (claimed DC GPUs - best-case implied)", "units",
          dc - tot_hi)
    m.row(SEED + "gap_high", "Gap - high (claimed DC GPUs - low implied)", "units", dc - tot_lo)
    m.section("Seed case: what the printed figures imply")
    m.row(SEED + "printed_asp_low_usd", "Price implied by USD 111bn / printed 3.5M",
          "USD per unit", safe_div(rev, s["seed_printed_units_high"]))
    m.row(SEED + "printed_asp_high_usd", "Price implied by USD 111bn / printed 2.5M",
          "USD per unit", safe_div(rev, s["seed_printed_units_low"]))
    m.row(SEED + "printed_gap_low_implied_units", "Implied GPUs the printed 0.5M gap needs "
          "(claimed DC - gap)", "units", dc - s["seed_printed_gap_low"])
    m.row(SEED + "printed_gap_low_dc_share", "Data-center share the printed 0.5M gap needs at "
          "the article's ~4M implied", "fraction",
          safe_div(tot_hi + s["seed_printed_gap_low"], i["units_claimed"]))
    m.section("Seed case: power (claimed GPUs as packages, article's PUE)")
    us_lo = m.row(SEED + "us_units_low", "Claimed GPUs in the US - low", "units",
                  i["units_claimed"] * i["us_share_low"])
    us_hi = m.row(SEED + "us_units_high", "Claimed GPUs in the US - high", "units",
                  i["units_claimed"] * i["us_share_high"])
    need_lo = m.row(SEED + "us_power_needed_low_gw", "US power needed - low", "GW",
                    us_lo * i["rack_power_low_kw"] / i["gpus_per_rack"] * s["seed_pue"]
                    / KW_PER_GW)
    need_hi = m.row(SEED + "us_power_needed_high_gw", "US power needed - high", "GW",
                    us_hi * i["rack_power_high_kw"] / i["gpus_per_rack"] * s["seed_pue"]
                    / KW_PER_GW)
    cap = m.row(SEED + "us_capacity_added_gw", "US capacity added 2024-2025 (article)", "GW",
                i["us_capacity_added_2024_gw"] + i["us_capacity_added_2025_gw"])
    m.row(SEED + "us_power_gap_low_gw", "Power gap - low", "GW", need_lo - cap)
    m.row(SEED + "us_power_gap_high_gw", "Power gap - high", "GW", need_hi - cap)
