"""Where the bundled folders are: ``./<name>`` when run from a checkout, else beside the package."""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_dir(name: str) -> Path:
    here = Path.cwd() / name
    return here if here.is_dir() else PROJECT_ROOT / name
