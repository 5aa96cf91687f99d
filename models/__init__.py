"""eqr: equity-research models for Nvidia and the AI supply chain.

The package is a pure core (``models.<model>`` modules built on :mod:`models.lineitems`)
wrapped by I/O at the edges: :mod:`models.assumptions` loads sheets, :mod:`models.workbook`
writes the Excel model, :mod:`models.memo` renders the memo, :mod:`models.runs` writes run
folders and :mod:`models.cli` is the command line.
"""

__version__ = "0.1.0"
