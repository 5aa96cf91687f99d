"""Recalculate a workbook in headless LibreOffice, ignoring the values stored in it.

A fresh LibreOffice profile is made whose ``registrymodifications.xcu`` sets
``/org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode`` to 0 ("always recalculate"), then
``soffice --headless --convert-to xlsx`` writes a copy whose cached values are LibreOffice's own.
Used by the parity test and by ``eqr verify``.
"""
from __future__ import annotations

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
