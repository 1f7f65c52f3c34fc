"""Tables rebuilt from a PDF's text positions (no LaTeX source): where they are on each page.

Tables are found by layout, not by caption: on each page (split at the gutter of a two-column
page, found from word positions), runs of non-prose lines holding >= 2 rows of numbers are
candidate tables; halves of a table across both columns are joined, two tables side by side
are split at an empty channel before a text label column. Each "Table N" caption (above or
below) goes to the nearest grid it overlaps; grids without one are numbered U1, U2... in page
order (`captioned=False`); a caption with no grid beside it falls back to reading the lines next
to it, and only then is the table called image-only.

A page is read as positioned text by pdf_page.py (its streams parsed once, pdf_streams.py);
each grid found is built into a Table by pdf_grid.py; captions are placed by pdf_captions.py.
One pass over a document gives its tables and its page texts (`PdfTableReader`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .numbers import parse_number
from .pdf_captions import _CAPTION, _Caption, _OTHER_CAPTION, _caption_walk, _captions, _match_captions
from .pdf_grid import _Cell, _build, _cells, _n_numeric, _n_words, _texty
from .pdf_page import Line, Rule, _gutter, _lines, _rules, _runs_fixed_width, _runs_layout, _split_gutter, _words
from .pdf_streams import _Doc
from .tables import Table


@dataclass
class _Block:
    """Consecutive table-like lines of one page region: a candidate table."""
    lines: list[Line]
    x_lo: float
    x_hi: float

    @property
    def top(self) -> float:
        return self.lines[0].y + self.lines[0].size

    @property
    def bottom(self) -> float:
        return self.lines[-1].y

    @property
    def x0(self) -> float:
        return min(ln.x0 for ln in self.lines)

    @property
    def x1(self) -> float:
        return max(ln.x1 for ln in self.lines)


def _is_prose(ln: Line, cells: list[_Cell], width: float) -> bool:
    if any(_n_words(c.text) >= 8 for c in cells):
        return True
    return len(cells) == 1 and _n_words(ln.text) >= 5 and (ln.x1 - ln.x0) > 0.45 * width


def _blocks(lines: list[Line], x_lo: float, x_hi: float, vrules: list[float]) -> list[_Block]:
    """Runs of non-prose lines holding an aligned numeric grid (>= 2 rows with numbers)."""
    width = x_hi - x_lo
    blocks: list[_Block] = []
    run: list[tuple[Line, list[_Cell]]] = []

    def close() -> None:
        rows = [i for i, (ln, cs) in enumerate(run) if len(cs) >= 2 and _n_numeric(cs) >= 1]
        if len(rows) >= 2 and sum(_n_numeric(run[i][1]) for i in rows) >= 4:
            last = rows[-1]
            # trailing lines: keep text rows with several cells, drop notes below the grid
            while last + 1 < len(run) and len(run[last + 1][1]) >= 2:
                last += 1
            first = 0
            while first < rows[0] and len(run[first][1]) == 1 and len(run[first][0].words) >= 4:
                first += 1  # the tail of a paragraph above the table
            blocks.append(_Block([ln for ln, _ in run[first:last + 1]], x_lo, x_hi))
        run.clear()

    for ln in lines:
        cells = _cells(ln, vrules)
        if _CAPTION.match(ln.text) or _OTHER_CAPTION.match(ln.text) or _is_prose(ln, cells, width):
            close()
            continue
        if run and (run[-1][0].y - ln.y) > 2.6 * max(ln.size, run[-1][0].size):
            close()
        elif (run and len(cells) >= 3 and _n_numeric(cells) == 0 and sum(_texty(c.text) for c in cells) >= 3
              and _n_numeric(run[-1][1]) >= 2
              and sum(1 for _, cs in run if len(cs) >= 2 and _n_numeric(cs) >= 1) >= 2):
            close()  # a header row under a grid of numbers: the next table starts here
        run.append((ln, cells))
    close()
    return blocks


def _side_by_side_merge(left: list[_Block], right: list[_Block], vrules: list[float]) -> tuple[list[_Block], list[_Block]]:
    """A table across both columns was split at the gutter: its halves share their rows' y.

    Two separate tables side by side each have a text label column; the right half of a
    split table holds numbers only, so only then are the halves joined."""
    merged: list[_Block] = []
    used_l, used_r = set(), set()
    for i, a in enumerate(left):
        for j, b in enumerate(right):
            if j in used_r:
                continue
            ya = {round(ln.y) for ln in a.lines}
            yb = {round(ln.y) for ln in b.lines}
            common = len(ya & yb)
            if common < 0.6 * min(len(ya), len(yb)):
                continue
            body_b = [_cells(ln, vrules) for ln in b.lines]
            first = [cs[0] for cs in body_b if len(cs) >= 2]
            texty = sum(1 for c in first if parse_number(c.text)[0] is None and re.search(r"[A-Za-z]{2}", c.text))
            if first and texty * 2 > len(first):
                continue  # the right half has its own row labels: a second table
            ys = sorted(ya | yb, reverse=True)
            lines = []
            for y in ys:
                words = [w for blk in (a, b) for ln in blk.lines if round(ln.y) == y for w in ln.words]
                size = max(ln.size for blk in (a, b) for ln in blk.lines if round(ln.y) == y)
                lines.append(Line(float(y), size, sorted(words, key=lambda w: w.x0)))
            merged.append(_Block(lines, a.x_lo, b.x_hi))
            used_l.add(i)
            used_r.add(j)
            break
    rest = [a for i, a in enumerate(left) if i not in used_l] + [b for j, b in enumerate(right) if j not in used_r]
    return merged, rest


def _page_tables(page_no: int, lines: list[Line], rules: list[Rule], page_x0: float, page_w: float
                 ) -> tuple[list[tuple[_Caption | None, Table]], list[_Caption]]:
    """(caption or None, table) for every grid found on a page, and the captions left without one."""
    vr = [(r.x0 + r.x1) / 2 for r in rules if (r.x1 - r.x0) < 2 and (r.y1 - r.y0) > 5]
    mid = _gutter(lines, page_x0, page_w)
    if mid is not None:
        segs = _split_gutter(lines, mid)
        full = [ln for ln in segs if ln.x0 < mid - 1 and ln.x1 > mid + 1]
        left = [ln for ln in segs if ln.x1 <= mid + 1]
        right = [ln for ln in segs if ln.x0 >= mid - 1]
        bl = _blocks(left, page_x0, mid, vr)
        br = _blocks(right, mid, page_x0 + page_w, vr)
        merged, rest = _side_by_side_merge(bl, br, vr)
        blocks = _dedupe(_blocks(full, page_x0, page_x0 + page_w, vr) + merged + rest)
        caps_lines = segs
    else:
        blocks = _blocks(lines, page_x0, page_x0 + page_w, vr)
        caps_lines = lines
    blocks = [part for b in blocks for part in _split_side_by_side(b, vr)]
    caps = _captions(caps_lines)
    # each caption goes to the nearest block it overlaps horizontally (above or below it)
    pairs = []
    for ci, c in enumerate(caps):
        for bi, b in enumerate(blocks):
            if min(c.x1, b.x1) - max(c.x0, b.x0) <= 0:
                continue
            if c.y_bottom >= b.top - 2:          # caption above the table
                d = c.y_bottom - b.top
            elif c.y_top <= b.bottom + b.lines[-1].size + 2:   # caption below
                d = b.bottom - c.y_top
            else:
                continue
            if d <= 120:
                pairs.append((d, ci, bi))
    cap_of = _match_captions(pairs)
    taken = set(cap_of.values())
    out: list[tuple[_Caption | None, Table]] = []
    for bi, b in sorted(enumerate(blocks), key=lambda p: (round(-p[1].top / 20), p[1].x0)):
        c = caps[cap_of[bi]] if bi in cap_of else None
        if c is not None and not c.table:
            continue  # numbers in a figure (axis ticks, plotted labels)
        t = _build(c.number if c else "", c.text if c else "", page_no, b.lines, rules, b.x_lo, b.x_hi)
        if t.numeric_cells():
            out.append((c, t))
    left_over = [c for i, c in enumerate(caps) if c.table and i not in taken]
    return out, left_over


def _split_side_by_side(block: _Block, vrules: list[float]) -> list[_Block]:
    """Two tables printed beside each other read as one grid: split it at a wide empty
    vertical channel when the part right of it starts with its own text label column."""
    words = sorted((w for ln in block.lines for w in ln.words), key=lambda w: w.x0)
    if len(words) < 8:
        return [block]
    gaps, reach = [], words[0].x1
    for w in words[1:]:
        if w.x0 > reach:
            gaps.append((reach, w.x0))
        reach = max(reach, w.x1)
    if not gaps:
        return [block]
    for a, b in gaps:
        # wide against the block's other channels (their lower median: with two gaps the upper
        # one is this gap itself) and against the type size
        others = sorted(d - c for c, d in gaps if (c, d) != (a, b))
        typical = others[(len(others) - 1) // 2] if others else 0.0
        if b - a < max(1.5 * typical, 1.5 * block.lines[0].size):
            continue
        x = (a + b) / 2
        left = [Line(ln.y, ln.size, [w for w in ln.words if w.x1 <= x]) for ln in block.lines]
        right = [Line(ln.y, ln.size, [w for w in ln.words if w.x0 >= x]) for ln in block.lines]
        left = [ln for ln in left if ln.words]
        right = [ln for ln in right if ln.words]
        rcells = [_cells(ln, vrules) for ln in right]
        lcells = [_cells(ln, vrules) for ln in left]
        firsts = [cs[0].text for cs in rcells if len(cs) >= 2]
        if (len(firsts) >= 2 and sum(_texty(t) for t in firsts) * 2 > len(firsts)
                and sum(_n_numeric(cs) for cs in lcells) >= 2 and sum(_n_numeric(cs) for cs in rcells) >= 2):
            return [_Block(left, block.x_lo, x)] + _split_side_by_side(_Block(right, x, block.x_hi), vrules)
    return [block]


def _dedupe(blocks: list[_Block]) -> list[_Block]:
    """Drop a block whose lines all lie inside a larger block's extent."""
    keep = []
    for b in sorted(blocks, key=lambda b: -len(b.lines)):
        if any(k.bottom - 1 <= b.bottom and b.top <= k.top + 1 and b.x0 >= k.x0 - 1 and b.x1 <= k.x1 + 1
               for k in keep):
            continue
        keep.append(b)
    return keep


def parse_pdf_tables(pdf_path: str) -> list[Table]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    from ...errors import PdfError

    try:
        reader = PdfReader(pdf_path)
        pages = list(reader.pages)
    except (OSError, PyPdfError, ValueError) as e:
        raise PdfError(f"cannot read the PDF: {e}", hint="check the file is a complete, unencrypted PDF",
                       where=str(pdf_path)) from None
    tr = PdfTableReader(reader)
    for page_index, page in enumerate(pages):
        tr.read_page(page_index, page)
    return tr.tables()


class PdfTableReader:
    """The tables of an open PDF, read page by page.

    Built on an open pypdf reader so that one pass over a document can read each page's
    text too (`page_text`), with every content stream parsed once for both."""

    def __init__(self, reader) -> None:
        self.doc = _Doc(reader)
        self._found: dict[str, Table] = {}
        self._uncaptioned: list[Table] = []

    def read_page(self, page_index: int, page) -> None:
        """Find the tables of one page (0-based `page_index`), in page order."""
        try:
            runs = _runs_layout(page, self.doc)
        except Exception:  # noqa: BLE001 - pypdf internals differ between versions: fall back
            runs = _runs_fixed_width(page)
        try:
            rules = _rules(page, self.doc)
        except Exception:  # noqa: BLE001 - no rules only costs the multirow/header hints
            rules = []
        lines = _lines(_words(runs))
        if not lines:
            return
        found = self._found
        page_w = float(page.mediabox.width)
        page_x0 = float(page.mediabox.left)
        tables, left_over = _page_tables(page_index + 1, lines, rules, page_x0, page_w)
        for cap, t in tables:
            if cap is None:
                t.captioned = False
                self._uncaptioned.append(t)
            elif t.number not in found or found[t.number].image_only:
                found[t.number] = t
        for cap in left_over:
            if cap.number in found and not found[cap.number].image_only:
                continue
            t = _caption_walk(cap.number, cap.text, page_index + 1, lines, rules, page_x0, page_w)
            if cap.number not in found or not t.image_only:
                found[cap.number] = t

    def page_text(self, page) -> str:
        """The page's plain text (pypdf's `extract_text()`), from the streams parsed for its tables."""
        return self.doc.page_text(page)

    def tables(self) -> list[Table]:
        """Captioned tables by number, then the uncaptioned ones numbered U1, U2... in page order."""
        for k, t in enumerate(self._uncaptioned, 1):
            t.number = f"U{k}"
        return list(self._found.values()) + self._uncaptioned
