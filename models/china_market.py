"""China's AI-accelerator market: demand, supply by source, China's response, the US licence cap.

Per calendar year (CY2024–CY2028), in accelerator cards ("units") and in compute
(H100-equivalents: units × the chip's TPP ÷ the H100's TPP, TPP from the export_control sheet):

    domestic supply   = Ascend (910B + 910C) + Cambricon + Kunlunxin + CSP ASICs + others
    gap before H200   = MAX(0, demand − domestic − H20 − grey channel)
    H200 China wants  = the selected response's row (flags, one per response):
                          limited purchase: MIN(gap, units China allows)
                          continued ban:    MIN(gap, units China allows)   (0 by default)
                          full opening:     gap × share bought as H200
    H200 licensed     = wanted × licence approval rate × (H200 within the case-by-case limits)
    cumulative H200   = MIN(previous cumulative + licensed, 50% × cumulative US shipments)
    H200 units        = cumulative − previous cumulative
    balance           = total supply − demand        (+ surplus, − shortfall)

The cap is on cumulative shipments because the January-2026 rule caps *aggregate* shipments to
China at 50% of the total shipped to US end users. ``china_market.h200_units`` drives the
``china`` revenue model unless ``china.units_source`` is ``typed``.
"""
from __future__ import annotations

from models import export_control
from models.errors import EqrError
from models.lineitems import IF, MAX, MIN, At, ModelBuilder, Prev, RowRef, SumRows, div_or_na
from models.rowexprs import pick, running_total

TITLE = "China market"
DESCRIPTION = ("China AI-accelerator demand and supply by source (units and H100-equivalents), "
               "China's response to the H200 decision, the US licence conditions and the H200 "
               "units that feed the china sheet.")

#: China's possible responses; each has its own rows below (the sheet's choices must match)
RESPONSES = ("limited_purchase", "continued_ban", "full_opening")
#: the chip whose TPP is one unit of compute ("H100-equivalent")
COMPUTE_UNIT_CHIP = "H100"
#: the chip the grey channel brings in (H100/H200: the same GH100 compute)
GREY_CHANNEL_CHIP = "H100"
UNITS_FORMAT = '#,##0;(#,##0);"–"'
H100_EQ = "H100-eq"


def _check_choices(a, chips: list[str]) -> None:
    """The sheet's response choices are the ones this model has rows for; chip choices name
    chips of the export_control sheet."""
    item = a["china_market.china_response"]
    if tuple(item.choices) != RESPONSES:
        raise EqrError("China's responses do not match the model", file=item.file,
                       line=item.line, key=item.key, expected=f"choices: {list(RESPONSES)}",
                       found=list(item.choices))
    for key in a.sheets["china_market"].assumptions:
        if not key.endswith("_chip"):
            continue
        chip_item = a[key]
        unknown = [c for c in chip_item.choices if c not in chips]
        if unknown:
            raise EqrError("chip choice not on the export_control sheet", file=chip_item.file,
                           line=chip_item.line, key=key, expected=f"chips from {chips}",
                           found=unknown)
    for needed in (COMPUTE_UNIT_CHIP, GREY_CHANNEL_CHIP, "H20", "H200", "Ascend_910B",
                   "Ascend_910C"):
        if needed not in chips:
            raise EqrError(f"the china_market model needs chip {needed!r}",
                           file=a.sheets["export_control"].file,
                           expected=f"an assumption tflops_{needed} and its other figures")


def _compute(m: ModelBuilder, source: str, label: str, units: RowRef, tpp_per_card: RowRef,
             per_h100: RowRef) -> RowRef:
    """Compute of one supply source in H100-equivalents: units × TPP per card ÷ H100 TPP."""
    return m.row(f"compute.{source}", f"{label}: compute", H100_EQ,
                 units * tpp_per_card / per_h100, fmt=UNITS_FORMAT)


def define(m: ModelBuilder) -> None:
    a = m.assumptions
    chips = export_control.chips(a)
    _check_choices(a, chips)

    m.section("China's response (choice on the Inputs sheet): one flag per case")
    response = m.input("china_response")
    flag = {case: m.row(f"is_{case}", f"Flag: response is {case}", "flag",
                        IF(response.eq(case), 1, 0)) for case in RESPONSES}

    m.section("Chip TPP (linked from the export_control sheet)")
    tpp = {chip: m.link(f"export_control.tpp.{chip}", name=f"tpp.{chip}") for chip in chips}
    per_h100 = tpp[COMPUTE_UNIT_CHIP]

    m.section("Demand")
    demand = m.input("demand_units")
    demand_chip = m.input("demand_chip")
    demand_tpp = m.row("tpp_per_card.demand", "Demand: TPP per card (chosen chip)", "TPP",
                       pick(demand_chip, tpp), fmt="#,##0")

    m.section("Domestic supply (units)")
    ascend = m.input("ascend_units")
    share_910c = m.input("ascend_910c_share")
    ascend_910b = m.row("ascend_910b_units", "Huawei Ascend 910B supply", "units",
                        ascend * (1 - share_910c), fmt=UNITS_FORMAT)
    ascend_910c = m.row("ascend_910c_units", "Huawei Ascend 910C supply", "units",
                        ascend * share_910c, fmt=UNITS_FORMAT)
    cambricon = m.input("cambricon_units")
    kunlunxin = m.input("kunlunxin_units")
    csp_asic = m.input("csp_asic_units")
    other = m.input("other_domestic_units")
    domestic_rows = [ascend_910b, ascend_910c, cambricon, kunlunxin, csp_asic, other]
    domestic = m.row("domestic_units", "Domestic supply", "units",
                     SumRows([r.row for r in domestic_rows]), fmt=UNITS_FORMAT)

    m.section("Nvidia supply other than licensed H200 (units)")
    h20 = m.input("h20_units")
    grey = m.input("grey_channel_units")

    m.section("H200: what China wants, by response")
    gap = m.row("gap_before_h200", "Demand not met by domestic supply, H20 or grey channel",
                "units", MAX(0, demand - domestic - h20 - grey), fmt=UNITS_FORMAT)
    limited_units = m.input("limited_purchase_units")
    ban_units = m.input("ban_units")
    open_share = m.input("open_share_of_gap")
    wanted = {
        "limited_purchase": m.row("h200_wanted_limited_purchase",
                                  "Limited purchase: H200 wanted", "units",
                                  MIN(gap, limited_units), fmt=UNITS_FORMAT),
        "continued_ban": m.row("h200_wanted_continued_ban", "Continued ban: H200 wanted",
                               "units", MIN(gap, ban_units), fmt=UNITS_FORMAT),
        "full_opening": m.row("h200_wanted_full_opening", "Full opening: H200 wanted", "units",
                              gap * open_share, fmt=UNITS_FORMAT),
    }
    h200_wanted = m.row("h200_wanted", "H200 China wants (selected response)", "units",
                        flag["limited_purchase"] * wanted["limited_purchase"]
                        + flag["continued_ban"] * wanted["continued_ban"]
                        + flag["full_opening"] * wanted["full_opening"], fmt=UNITS_FORMAT)

    m.section("US licence conditions (BIS rule effective 15 Jan 2026)")
    eligible = m.link("export_control.case_by_case_eligible.H200",
                      name="h200_case_by_case_eligible")
    approval = m.input("licence_approval_rate")
    licensed = m.row("h200_licensed", "H200 licensed (wanted × approval × eligible)", "units",
                     h200_wanted * approval * eligible, fmt=UNITS_FORMAT)
    us_units = m.input("us_h200_units")
    us_cumulative = running_total(m, "us_h200_cumulative", "H200 shipped to US end users, "
                                  "cumulative", "units", us_units, fmt=UNITS_FORMAT)
    cap_share = m.input("china_cap_share_of_us")
    cap = m.row("china_cap_cumulative", "Cap on cumulative China shipments", "units",
                cap_share * us_cumulative, fmt=UNITS_FORMAT)
    h200_cumulative = running_total(m, "h200_cumulative", "H200 shipped to China, cumulative "
                                    "(previous + licensed, at most the cap)", "units",
                                    licensed, cap=cap, fmt=UNITS_FORMAT)
    h200 = m.row("h200_units", "H200 shipped to China", "units",
                 h200_cumulative - Prev(h200_cumulative.row), fmt=UNITS_FORMAT)
    m.row("h200_held_back_by_cap", "H200 licensed but held back by the cap", "units",
          licensed - h200, fmt=UNITS_FORMAT)

    m.section("Supply and balance (units)")
    nvidia = m.row("nvidia_units", "Nvidia supply (H20 + grey channel + H200)", "units",
                   h20 + grey + h200, fmt=UNITS_FORMAT)
    supply = m.row("supply_units", "Total supply", "units", domestic + nvidia,
                   fmt=UNITS_FORMAT)
    m.row("balance_units", "Surplus (+) or shortfall (−) of supply against demand", "units",
          supply - demand, fmt=UNITS_FORMAT)
    m.row("domestic_share_units", "Domestic share of supply, by units", "fraction",
          div_or_na(domestic, supply))

    m.section("Compute per card (TPP; chips chosen on the Inputs sheet)")
    per_card = {
        "ascend_910b": m.row("tpp_per_card.ascend_910b", "Ascend 910B: TPP per card", "TPP",
                             tpp["Ascend_910B"], fmt="#,##0"),
        "ascend_910c": m.row("tpp_per_card.ascend_910c", "Ascend 910C: TPP per card", "TPP",
                             tpp["Ascend_910C"], fmt="#,##0"),
    }
    for source, label in (("cambricon", "Cambricon"), ("kunlunxin", "Kunlunxin"),
                          ("csp_asic", "CSP ASICs"), ("other_domestic", "Other domestic")):
        chip = m.input(f"{source}_chip")
        per_card[source] = m.row(f"tpp_per_card.{source}",
                                 f"{label}: TPP per card (chosen chip)", "TPP",
                                 pick(chip, tpp), fmt="#,##0")

    m.section(f"Compute ({H100_EQ}: units × TPP per card ÷ H100 TPP)")
    domestic_compute_rows = [
        _compute(m, "ascend_910b", "Ascend 910B", ascend_910b, per_card["ascend_910b"],
                 per_h100),
        _compute(m, "ascend_910c", "Ascend 910C", ascend_910c, per_card["ascend_910c"],
                 per_h100),
        _compute(m, "cambricon", "Cambricon", cambricon, per_card["cambricon"], per_h100),
        _compute(m, "kunlunxin", "Kunlunxin", kunlunxin, per_card["kunlunxin"], per_h100),
        _compute(m, "csp_asic", "CSP ASICs", csp_asic, per_card["csp_asic"], per_h100),
        _compute(m, "other_domestic", "Other domestic", other, per_card["other_domestic"],
                 per_h100),
    ]
    domestic_compute = m.row("domestic_compute", "Domestic supply: compute", H100_EQ,
                             SumRows([r.row for r in domestic_compute_rows]),
                             fmt=UNITS_FORMAT)
    nvidia_compute_rows = [
        _compute(m, "h20", "H20", h20, tpp["H20"], per_h100),
        _compute(m, "grey_channel", "Grey channel", grey, tpp[GREY_CHANNEL_CHIP], per_h100),
        _compute(m, "h200", "H200", h200, tpp["H200"], per_h100),
    ]
    nvidia_compute = m.row("nvidia_compute", "Nvidia supply: compute", H100_EQ,
                           SumRows([r.row for r in nvidia_compute_rows]), fmt=UNITS_FORMAT)
    supply_compute = m.row("supply_compute", "Total supply: compute", H100_EQ,
                           domestic_compute + nvidia_compute, fmt=UNITS_FORMAT)
    demand_compute = m.row("demand_compute", "Demand: compute", H100_EQ,
                           demand * demand_tpp / per_h100, fmt=UNITS_FORMAT)
    m.row("balance_compute", "Surplus (+) or shortfall (−) of compute against demand", H100_EQ,
          supply_compute - demand_compute, fmt=UNITS_FORMAT)
    m.row("domestic_share_compute", "Domestic share of supply, by compute", "fraction",
          div_or_na(domestic_compute, supply_compute))

    m.section("Cross-check: domestic supply growth against Bernstein's")
    growth_from = m.input("growth_from")
    growth_to = m.input("growth_to")
    bernstein = m.input("bernstein_domestic_growth")
    growth = m.row("domestic_growth", "Domestic supply growth over the cross-check years", "x",
                   div_or_na(At(domestic.row, growth_to), At(domestic.row, growth_from)))
    m.row("domestic_growth_vs_bernstein", "Model growth less Bernstein's", "x",
          growth - bernstein)

    m.section("Checks")
    m.check("check_one_response", "Exactly one China response is selected",
            flag["limited_purchase"] + flag["continued_ban"] + flag["full_opening"] - 1)
    m.check("check_h200_within_cap", "Cumulative H200 to China within the US-volume cap",
            MAX(0, h200_cumulative - cap), tolerance=1e-6)
    m.check("check_h200_within_licensed", "H200 shipped never exceeds H200 licensed",
            MAX(0, h200 - licensed), tolerance=1e-6)
