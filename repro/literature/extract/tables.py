"""Tables of a paper: the data model and the two extractors' entry points.

`tables_from_latex` reads `\\begin{table}` environments from the LaTeX source;
`tables_from_pdf` rebuilds tables from text positions when there is no source.
Both return the same `Table` shape so claims do not care where a table came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .numbers import parse_number


@dataclass
class Cell:
    text: str                 # raw cell text
    value: float | None       # parsed number, None if not numeric
    spread: float | None      # the ± / (x) spread if present
    bold: bool = False        # best/bold mark

    @classmethod
    def from_text(cls, text: str, bold: bool = False) -> "Cell":
        value, spread = parse_number(text)
        return cls(text=text, value=value, spread=spread, bold=bold)


@dataclass
class Table:
    number: str               # "2"
    caption: str
    page: int | None          # 1-based page in the PDF (LaTeX: None unless known)
    columns: list[str]        # header for each data column (multi-level joined with " / ")
    rows: list[tuple[str, list[Cell | None]]] = field(default_factory=list)
    source: str = "latex"     # "latex" or "pdf"
    image_only: bool = False  # caption found but no cell text
    captioned: bool = True    # False: found by its layout alone (numbered "U1", "U2"... in page order)

    def numeric_cells(self) -> list[tuple[str, str, Cell]]:
        """(row label, column, cell) for every cell holding a number."""
        out = []
        for label, cells in self.rows:
            for col, cell in zip(self.columns, cells):
                if cell is not None and cell.value is not None:
                    out.append((label, col, cell))
        return out


_CITE_RE = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")


def clean_label(text: str) -> str:
    """Row/column text without numeric citations (`ByteNet [18]` -> `ByteNet`)."""
    return re.sub(r"\s+", " ", _CITE_RE.sub("", text)).strip()


def drop_empty_columns(table: Table) -> Table:
    """Spacer columns (no header, no cell) carry nothing: remove them."""
    keep = [
        i for i, col in enumerate(table.columns)
        if col.strip() or any(i < len(c) and c[i] is not None and c[i].text.strip() for _, c in table.rows)
    ]
    table.columns = [table.columns[i] for i in keep]
    table.rows = [(lab, [cells[i] if i < len(cells) else None for i in keep]) for lab, cells in table.rows]
    return table


def tables_from_latex(tex: str) -> list[Table]:
    """Every captioned table environment of a LaTeX source, numbered in order."""
    from .latex_tables import parse_latex_tables

    return parse_latex_tables(tex)


def tables_from_pdf(pdf_path: str) -> list[Table]:
    """Tables rebuilt from a PDF's text positions (pure; safe to run in a child process)."""
    from .pdf_tables import parse_pdf_tables

    return parse_pdf_tables(pdf_path)


def _key(text: str) -> str:
    # "d_model" == "dmodel", "PPL (dev)" == "ppl(dev)": compare letters and digits only
    return re.sub(r"[^0-9a-zα-ωϵ]", "", text.lower())


def accuracy(tables: list[Table], truth: dict) -> dict[str, float | int]:
    """Recall and precision of numeric cells against a ground-truth mapping.

    `truth` is `{number: {"rows": [{"row", "occurrence"?, "cells": {column: value}}]}}`
    (tests/data/1706.03762_tables.yaml). A cell counts when table, row label (and its
    occurrence among equal labels), column and value all agree; precision is over the
    numeric cells extracted from the tables present in `truth`.
    """
    expected: dict[tuple[str, str, int, str], float] = {}
    for number, spec in truth.items():
        for r in spec["rows"]:
            for col, v in r["cells"].items():
                expected[(str(number), _key(r["row"]), int(r.get("occurrence", 0)), _key(col))] = float(v)
    got: dict[tuple[str, str, int, str], float] = {}
    for t in tables:
        if str(t.number) not in truth:
            continue
        seen: dict[str, int] = {}
        for label, cells in t.rows:
            occ = seen.get(_key(label), 0)
            seen[_key(label)] = occ + 1
            for col, cell in zip(t.columns, cells):
                if cell is not None and cell.value is not None:
                    got[(str(t.number), _key(label), occ, _key(col))] = cell.value
    hits = sum(1 for k, v in got.items() if k in expected and abs(expected[k] - v) <= 1e-9 * max(1.0, abs(v)))
    return {"expected": len(expected), "extracted": len(got), "correct": hits,
            "recall": hits / len(expected) if expected else 0.0,
            "precision": hits / len(got) if got else 0.0}
