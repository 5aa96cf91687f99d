"""Recalculate a workbook in headless LibreOffice, ignoring the values stored in it.

A fresh LibreOffice profile is made whose ``registrymodifications.xcu`` sets
``/org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode`` to 0 ("always recalculate"), then
``soffice --headless --convert-to xlsx`` writes a copy whose cached values are LibreOffice's own.
Used by the parity test and by ``eqr verify``.
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from models.errors import EqrError

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice_path() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def recalculate(xlsx: Path, out_dir: Path, timeout: float = 300) -> Path:
    """Return the path of a LibreOffice-recalculated copy of ``xlsx`` inside ``out_dir``."""
    soffice = soffice_path()
    if soffice is None:
        raise EqrError("LibreOffice is not installed", expected="soffice on PATH",
                       hint="apt-get install -y --no-install-recommends libreoffice-calc")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="eqr-lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(_XCU, encoding="utf-8")
        cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--nolockcheck", "--calc", "--convert-to", "xlsx", "--outdir", str(out_dir),
               str(xlsx)]
        env = {**os.environ, "HOME": profile}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    result = out_dir / (Path(xlsx).stem + ".xlsx")
    if proc.returncode != 0 or not result.exists():
        raise EqrError("LibreOffice could not recalculate the workbook",
                       found=(proc.stderr or proc.stdout).strip()[-500:])
    return result


def compare(original: Path, recalculated: Path, rel: float = 1e-9, abs_tol: float = 1e-9):
    """Every formula cell of ``original``: its stored (Python) value against the recalculated
    one. Returns (number of formula cells checked, list of mismatches)."""
    import openpyxl

    formulas = openpyxl.load_workbook(original)
    stored = openpyxl.load_workbook(original, data_only=True)
    fresh = openpyxl.load_workbook(recalculated, data_only=True)
    checked, mismatches = 0, []
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if not (isinstance(cell.value, str) and cell.value.startswith("=")):
                    continue
                ours = stored[ws.title][cell.coordinate].value
                theirs = fresh[ws.title][cell.coordinate].value
                checked += 1
                if not _same(ours, theirs, rel, abs_tol):
                    mismatches.append((ws.title, cell.coordinate, cell.value, ours, theirs))
    return checked, mismatches


def _same(a, b, rel: float, abs_tol: float) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)
    return a == b
