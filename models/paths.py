"""Where the bundled folders are: ``./<name>`` when run from a checkout, else beside the package.

Resolved when used, not at import: a program (or a test) that changes its working directory
after importing eqr gets the folders of the new one.
"""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_dir(name: str) -> Path:
    here = Path.cwd() / name
    return here if here.is_dir() else PROJECT_ROOT / name


def assumptions_dir() -> Path:
    """The assumption sheets (``--assumptions`` overrides it)."""
    return default_dir("assumptions")


def templates_dir() -> Path:
    """The bundled memo templates (``--templates`` adds a folder in front)."""
    return default_dir("templates")


def reports_dir() -> Path:
    """The folder of run folders and ``latest`` (``--reports`` overrides it)."""
    return default_dir("reports")
