"""Accelerator chips and the US export-control test (ECCN 3A090.a).

The chip table comes from the assumption sheet: every assumption named ``tflops_<CHIP>`` adds a
chip, which also needs ``die_area_<CHIP>``, ``memory_<CHIP>``, ``bandwidth_<CHIP>`` and
``tdp_<CHIP>``. For each chip:

    TPP                  = dense FP16/BF16 TFLOPS × bit length      (H20: 148 × 16 = 2,368)
    performance density  = TPP ÷ die area in mm²                    (H20: 2,368 ÷ 814 = 2.91)
    3A090.a              = 1 if TPP ≥ 4,800, or TPP ≥ 1,600 and density ≥ 5.92; else 0
    case-by-case         = 1 if TPP < 21,000 and DRAM bandwidth < 6.5 TB/s (Jan-2026 rule)

Outputs are named ``export_control.<measure>.<CHIP>`` (``export_control.tpp.H20``). A figure no
source gives is unknown (NaN in Python, ``#N/A`` in Excel, null in outputs.json), and so is every
row that needs it. The 3A090.a status is unknown only when the answer turns on the missing figure
(the MTT S4000: TPP exactly 1,600 and no die area); with TPP ≥ 4,800 the density is not needed,
as Excel's IF looks only at the branch it takes.
"""
from __future__ import annotations

from models.errors import EqrError
from models.lineitems import IF, ModelBuilder, RowRef

TITLE = "Export control"
DESCRIPTION = ("Accelerator chip table: dense FP16/BF16 TFLOPS, die area, memory, bandwidth, TDP "
               "(each figure sourced on the Inputs sheet; #N/A = unknown), Total Processing "
               "Performance, performance density and the ECCN 3A090.a test.")

#: the figures every chip has, in sheet order: (assumption prefix, section title, number format)
CHIP_FIGURES = (
    ("tflops", "Dense FP16/BF16 TFLOPS", "#,##0.0"),
    ("die_area", "Die area (mm²)", "#,##0"),
    ("memory", "Memory (GB)", "#,##0"),
    ("bandwidth", "Memory bandwidth (TB/s)", "0.00"),
    ("tdp", "TDP (W)", "#,##0"),
)
TPP_FORMAT = "#,##0"
DENSITY_FORMAT = "0.00"


def chips(a) -> list[str]:
    """The chip keys of the assumption sheet, in sheet order (``tflops_H20`` → ``H20``)."""
    prefix = "export_control.tflops_"
    return [key[len(prefix):] for key in a.sheets["export_control"].assumptions
            if key.startswith(prefix)]


def chip_name(a, chip: str) -> str:
    """The chip's display name: its TFLOPS label up to the colon ('Nvidia H20')."""
    return a[f"export_control.tflops_{chip}"].label.split(":")[0].strip()


def _require_figures(a, chip: str) -> None:
    for prefix, _, _ in CHIP_FIGURES:
        key = f"export_control.{prefix}_{chip}"
        if key not in a.items:
            first = a[f"export_control.tflops_{chip}"]
            raise EqrError(f"chip {chip!r} has no {prefix} figure", file=first.file,
                           line=first.line, key=key,
                           expected=f"an assumption {prefix}_{chip} (a value, or 'unknown: "
                                    "true' with a note)")


def define(m: ModelBuilder) -> None:
    a = m.assumptions
    names = chips(a)
    for chip in names:
        _require_figures(a, chip)

    m.section("Rule inputs (linked from the Inputs sheet)")
    bits = m.input("bit_length")
    tpp_line = m.input("tpp_threshold")
    tpp_floor = m.input("tpp_threshold_with_density")
    density_line = m.input("density_threshold")
    cbc_tpp = m.input("case_by_case_max_tpp")
    cbc_bandwidth = m.input("case_by_case_max_bandwidth")

    figures: dict[str, dict[str, RowRef]] = {chip: {} for chip in names}
    for prefix, title, fmt in CHIP_FIGURES:
        m.section(f"{title} (inputs; source per chip on the Inputs sheet)")
        for chip in names:
            row = m.input(f"{prefix}_{chip}", row_name=f"{prefix}.{chip}")
            row.row.fmt = fmt
            figures[chip][prefix] = row

    m.section("Total Processing Performance (TPP = dense TFLOPS × bit length)")
    tpp = {chip: m.row(f"tpp.{chip}", f"{chip_name(a, chip)}: TPP", "TPP",
                       figures[chip]["tflops"] * bits, fmt=TPP_FORMAT)
           for chip in names}

    m.section("Performance density (TPP ÷ die area in mm²)")
    density = {chip: m.row(f"performance_density.{chip}",
                           f"{chip_name(a, chip)}: performance density", "TPP per mm2",
                           tpp[chip] / figures[chip]["die_area"], fmt=DENSITY_FORMAT)
               for chip in names}

    m.section("ECCN 3A090.a: 1 = controlled (TPP ≥ 4,800, or TPP ≥ 1,600 and density ≥ 5.92)")
    for chip in names:
        m.row(f"eccn_3a090a.{chip}", f"{chip_name(a, chip)}: caught by 3A090.a", "flag",
              IF(tpp[chip] >= tpp_line, 1,
                 IF(tpp[chip] >= tpp_floor, IF(density[chip] >= density_line, 1, 0), 0)))

    m.section("Jan-2026 rule: 1 = within the case-by-case limits (TPP < 21,000 and DRAM "
              "bandwidth < 6.5 TB/s)")
    for chip in names:
        m.row(f"case_by_case_eligible.{chip}",
              f"{chip_name(a, chip)}: within the case-by-case limits", "flag",
              IF(tpp[chip] < cbc_tpp, IF(figures[chip]["bandwidth"] < cbc_bandwidth, 1, 0), 0))
