"""Claims, tables and hyperparameters read from a paper (used by `repro new`).

Pure functions on text: nothing here imports torch or lightning.
"""

from .tables import Cell, Table, tables_from_latex, tables_from_pdf

__all__ = ["Cell", "Table", "tables_from_latex", "tables_from_pdf"]
