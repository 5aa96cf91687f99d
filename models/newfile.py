"""Write a new file atomically and never over an existing one.

The content goes to a hidden temporary file in the destination folder first; the temporary file
is then hard-linked to its final name, which fails if that name exists (no check-then-write
race), and removed. Where hard links are not supported the final name is created with
``O_EXCL`` and the content copied in (still never overwriting). A reader never sees a half-written
file under the final name on a filesystem with hard links.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from models.errors import EqrError


def write_new(path: Path, data: bytes | str, what: str = "file") -> Path:
    """Create ``path`` with ``data``; raise :class:`EqrError` if it exists already."""
    return write_new_files([(path, data, what)])[0]


def write_new_files(files: list[tuple[Path, bytes | str, str]]) -> list[Path]:
    """Create several new files together or not at all (issue 17): every file's content is
    written and flushed to a hidden temporary file first, and only when all of them are
    complete are they linked to their names; a failure at any point (disk full, a name taken
    meanwhile) removes the temporary files and any name already linked. ``files`` holds
    (path, data, what) triples."""
    staged: list[tuple[Path, str, str]] = []
    linked: list[Path] = []
    current = None  # the file being written or linked
    try:
        for path, data, what in files:
            current = Path(path)
            _check_new(current, what)
            staged.append((current, _stage(current, data), what))
        for current, tmp, what in staged:
            _link(tmp, current, what)
            linked.append(current)
    except BaseException as exc:
        for done in linked:
            done.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _os_error(exc, current) from None
        raise
    finally:
        for _, tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return linked


def _check_new(path: Path, what: str) -> None:
    if path.exists() or path.is_symlink():
        raise EqrError(f"{what} exists already", file=str(path),
                       expected="a new file name", hint="earlier files are never overwritten")
    if not path.parent.is_dir():
        raise EqrError("folder does not exist", file=str(path.parent),
                       expected=f"an existing folder for the {what}")


def _stage(path: Path, data: bytes | str) -> str:
    """A hidden temporary file beside ``path`` holding ``data`` (flushed to disk)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def _link(tmp: str, path: Path, what: str) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise EqrError(f"{what} exists already", file=str(path), expected="a new file name",
                       hint="earlier files are never overwritten") from None
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS):
            raise
        _exclusive_copy(tmp, path, what)  # no hard links here: exclusive create, then copy


def _os_error(exc: OSError, path: Path) -> EqrError:
    """Named by the file the user asked for, not the hidden temporary one."""
    from models.errors import os_error
    return os_error(OSError(exc.errno, exc.strerror), "cannot write the file", path,
                    done="nothing was written: none of the files was created")


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
