"""The note's PDF, printed by a forked process that imports WeasyPrint while the build runs.

WeasyPrint takes about half a second to import and needs only the memo's HTML and the chart
SVGs. A build with the PDF starts a :class:`Printer` first thing (``eqr build`` before it
reads the sheets); the process imports WeasyPrint on the second core while the build loads
the assumptions and runs the models, then waits. Once ``memo.html`` and every SVG are written
the build calls :meth:`Printer.print`, and the note is laid out while the chart process saves
the PNGs. Without a fork (:func:`models.forked.start`) :meth:`Printer.print` prints right
there. Same file either way (:func:`models.memo.write_pdf`).
"""
from __future__ import annotations

import json
from pathlib import Path


class Printer:
    def __init__(self):
        from models import forked
        self._child = forked.start(_serve)
        self._done = False

    def print(self, html: Path, pdf: Path) -> None:
        """Print ``html`` to ``pdf`` (in the printing process, which is not waited for here:
        :meth:`finish` waits and re-raises its error)."""
        if self._child is None:
            from models.memo import write_pdf
            write_pdf(html, pdf)
            return
        self._child.send(json.dumps([str(html), str(pdf)]).encode("utf-8"))

    def finish(self, abort: bool = False) -> None:
        """Wait for the PDF (or, with ``abort``, stop the process); a second call does
        nothing."""
        if self._done:
            return
        self._done = True
        if self._child is not None:
            self._child.wait(kill=abort)


def _serve(channel) -> None:
    """In the printing process: import WeasyPrint, then print the one note asked for (none if
    the build gave up first)."""
    try:  # the heavy import first, before eqr's own modules (its error is reported below)
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        pass
    from models.memo import load_weasyprint, write_pdf
    load_weasyprint()
    message = channel.receive()
    if message:
        html, pdf = json.loads(message.decode("utf-8"))
        write_pdf(Path(html), Path(pdf))
