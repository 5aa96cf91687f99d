"""The one exception type for problems a user can fix."""
from __future__ import annotations

import difflib
import errno
from typing import Iterable


class EqrError(Exception):
    """A user-facing problem: bad assumption, bad override, bad workbook, bad path.

    The CLI prints ``str(err)`` and exits with code 2; no traceback.
    The message names where (file and line, or key), what was expected and what was found.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 key: str | None = None, expected: str | None = None, found: object = None,
                 hint: str | None = None):
        self.file, self.line, self.key = file, line, key
        self.expected, self.found, self.hint = expected, found, hint
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        key = f"{self.key}: " if self.key else ""
        parts = [f"{where}{key}{self.message}"]
        if self.expected is not None:
            parts.append(f"expected {self.expected}")
        if self.found is not None:
            parts.append(f"found {short_repr(self.found)}")
        text = "; ".join(parts)
        if self.hint:
            text += f" ({self.hint})"
        return text


#: how much of a wrong value an error message shows (a whole 10 MB string or an alias bomb
#: must not end up on the terminal)
_REPR_CHARS, _REPR_ITEMS, _REPR_DEPTH = 120, 6, 3


def short_repr(value: object, depth: int = 0) -> str:
    """``repr`` bounded in length, items and depth, whatever ``value`` is.

    Walks lists and mappings itself (``repr`` of a nested structure built from YAML aliases can
    be exponentially long) and escapes control characters and lone surrogates.
    """
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        if depth >= _REPR_DEPTH:
            return "[...]" if not isinstance(value, dict) else "{...}"
        items = list(value.items()) if isinstance(value, dict) else list(value)
        shown = items[:_REPR_ITEMS]
        if isinstance(value, dict):
            body = [f"{short_repr(k, depth + 1)}: {short_repr(v, depth + 1)}" for k, v in shown]
            open_, close = "{", "}"
        else:
            body = [short_repr(v, depth + 1) for v in shown]
            open_, close = ("(", ")") if isinstance(value, tuple) else ("[", "]")
        if len(items) > len(shown):
            body.append(f"... {len(items)} items")
        text = open_ + ", ".join(body) + close
    elif isinstance(value, (str, bytes)):
        text = repr(value[:_REPR_CHARS]) + ("..." if len(value) > _REPR_CHARS else "")
    elif isinstance(value, (int, float, bool)) or value is None:
        try:
            text = repr(value)
        except ValueError:  # an int with more digits than Python will print
            text = "a number with too many digits"
    else:
        text = object.__repr__(value) if type(value).__repr__ is object.__repr__ else repr(value)
    return text if len(text) <= 2 * _REPR_CHARS else text[:2 * _REPR_CHARS] + "..."


def nearest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest valid name to a misspelt one, for 'did you mean' hints."""
    if not isinstance(word, str) or len(word) > 200:  # no name is that long; skip the search
        return None
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    best = nearest(word, candidates)
    return f"did you mean {best!r}?" if best else None


def os_error(exc: OSError, what: str, path: object = None,
             done: str = "nothing was written") -> EqrError:
    """An OSError (disk full, permission denied, a file where a folder should be) in words;
    ``done`` says what became of the output (the hint where the error has no better one)."""
    hints = {errno.ENOSPC: "the disk is full: free some space and try again",
             errno.EDQUOT: "the disk quota is used up: free some space and try again",
             errno.EFBIG: "a file grew beyond the size the system allows",
             errno.EACCES: "check the folder's permissions or choose another folder",
             errno.EPERM: "check the folder's permissions or choose another folder",
             errno.EROFS: "the folder is on a read-only disk; choose another folder",
             errno.ENOTDIR: "part of the path is a file, not a folder",
             errno.EEXIST: "part of the path is a file, not a folder",
             errno.ENAMETOOLONG: "use a shorter path"}
    where = exc.filename if exc.filename is not None else path
    hint = hints.get(exc.errno)
    return EqrError(f"{what}: {exc.strerror or exc.__class__.__name__}",
                    file=str(where) if where is not None else None,
                    hint=f"{hint}; {done}" if hint else done)
