"""Write a new file atomically and never over an existing one.

The content goes to a hidden temporary file in the destination folder first; the temporary file
is then hard-linked to its final name, which fails if that name exists (no check-then-write
race), and removed. Where hard links are not supported the final name is created with
``O_EXCL`` and the content copied in (still never overwriting). A reader never sees a half-written
file under the final name on a filesystem with hard links.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from models.errors import EqrError


def write_new(path: Path, data: bytes | str, what: str = "file") -> Path:
    """Create ``path`` with ``data``; raise :class:`EqrError` if it exists already."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if path.exists() or path.is_symlink():
        raise EqrError(f"{what} exists already", file=str(path),
                       expected="a new file name", hint="earlier files are never overwritten")
    folder = path.parent
    if not folder.is_dir():
        raise EqrError("folder does not exist", file=str(folder),
                       expected=f"an existing folder for the {what}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise EqrError(f"{what} exists already", file=str(path),
                           expected="a new file name",
                           hint="earlier files are never overwritten") from None
        except OSError:  # no hard links here: exclusive create, then copy
            _exclusive_copy(tmp, path, what)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _exclusive_copy(tmp: str, path: Path, what: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise EqrError(f"{what} exists already", file=str(path),
                       expected="a new file name") from None
    try:
        with os.fdopen(fd, "wb") as out, open(tmp, "rb") as src:
            out.write(src.read())
    except BaseException:
        os.unlink(path)
        raise
