"""The one exception type for problems a user can fix."""
from __future__ import annotations

import difflib
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
            parts.append(f"found {self.found!r}")
        text = "; ".join(parts)
        if self.hint:
            text += f" ({self.hint})"
        return text


def nearest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest valid name to a misspelt one, for 'did you mean' hints."""
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    best = nearest(word, candidates)
    return f"did you mean {best!r}?" if best else None
