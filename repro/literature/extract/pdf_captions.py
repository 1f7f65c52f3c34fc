"""Table captions on a page: where each is, its text, and which grid it belongs to.

Captions of two tables side by side share a line and are cut apart; every caption of a page is
placed together (most captions placed, then the least distance); a caption with no grid beside
it is read from the lines next to it, in its own column, before its table is called image-only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .pdf_grid import _build, _prose
from .pdf_page import Line, Rule, _gutter, _split_gutter, _two_column
from .tables import Table


_CAPTION = re.compile(r"^(?:Table|TABLE|Tab\.)\s*([0-9]+|[IVXL]+|[A-Z]\.?[0-9]+)\s*[:.|]")
_OTHER_CAPTION = re.compile(r"^(?:Figure|Fig\.|FIGURE|Algorithm|Listing)\s*\S+\s*[:.|]")


def _table_lines(lines: list[Line], start: int, step: int, x_lo: float, x_hi: float,
                 vrules: list[float]) -> list[Line]:
    """Lines of the table next to a caption, walking down (step=1) or up (step=-1)."""
    width = x_hi - x_lo
    out: list[Line] = []
    prev_y = lines[start].y
    i = start + step
    while 0 <= i < len(lines):
        ln = lines[i]
        words = [w for w in ln.words if w.x0 >= x_lo - 2 and w.x1 <= x_hi + 2]
        i += step
        if not words:
            continue
        ln = Line(ln.y, ln.size, words)
        gap = abs(prev_y - ln.y)
        if gap > (4.5 if not out else 2.6) * ln.size:
            break
        if _CAPTION.match(ln.text) or _OTHER_CAPTION.match(ln.text) or _prose(ln, width, vrules):
            break
        out.append(ln)
        prev_y = ln.y
    if step < 0:
        out.reverse()
    return out


def _caption_text(lines: list[Line], i: int) -> tuple[str, int]:
    """Caption text (continuation lines included) and the index of its last line."""
    text = lines[i].text
    j = i
    while j + 1 < len(lines):
        k = j + 1
        # lines of the other column (a page split at its gutter) are skipped: they lie a
        # column gap to the right of the caption, or end before it starts
        while k < len(lines) and (lines[k].x0 > lines[j].x1 + 1.2 * lines[j].size
                                  or lines[k].x1 < lines[i].x0 - 1.2 * lines[i].size):
            k += 1
        if k >= len(lines):
            break
        nxt = lines[k]
        if abs(lines[j].y - nxt.y) > 1.6 * nxt.size or abs(nxt.x0 - lines[i].x0) > 5:
            break
        if any(nxt.words[m + 1].x0 - nxt.words[m].x1 > 0.55 * nxt.size for m in range(len(nxt.words) - 1)):
            break  # a gap like a column gap: that is the table, not the caption
        text += " " + nxt.text
        j = k
    return re.sub(r"\s+", " ", re.sub(r"-\s+(?=[a-z])", "-", text)).strip(), j


@dataclass
class _Caption:
    number: str
    text: str
    y_top: float
    y_bottom: float
    x0: float
    x1: float
    table: bool


_CAPTION_WORD = re.compile(r"^(?:Table|TABLE|Tab\.|Figure|Fig\.|FIGURE)$")


def _split_captions(lines: list[Line]) -> list[Line]:
    """Captions of two tables printed side by side share a line: cut it before each one."""
    out = []
    for ln in lines:
        cut = [0] + [k for k in range(1, len(ln.words))
                     if _CAPTION_WORD.match(ln.words[k].text)
                     and ln.words[k].x0 - ln.words[k - 1].x1 > 1.5 * ln.size] + [len(ln.words)]
        if len(cut) == 2:
            out.append(ln)
            continue
        out.extend(Line(ln.y, ln.size, ln.words[a:b]) for a, b in zip(cut, cut[1:]))
    return out


def _captions(lines: list[Line]) -> list[_Caption]:
    out = []
    lines = _split_captions(lines)
    for i, ln in enumerate(lines):
        m = _CAPTION.match(ln.text)
        other = _OTHER_CAPTION.match(ln.text)
        if not (m or other):
            continue
        text, last = _caption_text(lines, i)
        own = [k for k in range(i, last + 1) if k == i or abs(lines[k].x0 - ln.x0) <= 5]
        out.append(_Caption(m.group(1).rstrip(".") if m else "", text, ln.y + ln.size, lines[last].y,
                            ln.x0, max(lines[k].x1 for k in own), bool(m)))
    return out


def _match_captions(pairs: list[tuple[float, int, int]]) -> dict[int, int]:
    """block -> caption: as many captions placed as can be, then the least total distance.

    Nearest-first alone gives a caption below one table to the next table down when its
    last line is a little closer to that one; every caption of the page is weighed together."""
    by_cap: dict[int, list[tuple[float, int]]] = {}
    for d, ci, bi in pairs:
        by_cap.setdefault(ci, []).append((d, bi))
    caps = sorted(by_cap)
    if sum(len(v) + 1 for v in by_cap.values()) > 40 or len(caps) > 8:  # a crowded page: nearest first
        out: dict[int, int] = {}
        for d, ci, bi in sorted(pairs):
            if ci not in out.values() and bi not in out:
                out[bi] = ci
        return out
    best: tuple[tuple[int, float], dict[int, int]] = ((0, 0.0), {})

    def search(k: int, used: dict[int, int], n: int, total: float) -> None:
        nonlocal best
        if k == len(caps):
            if (-n, total) < (-best[0][0], best[0][1]) or not best[1] and n:
                best = ((n, total), dict(used))
            return
        ci = caps[k]
        for d, bi in sorted(by_cap[ci]):
            if bi not in used:
                used[bi] = ci
                search(k + 1, used, n + 1, total + d)
                del used[bi]
        search(k + 1, used, n, total)

    search(0, {}, 0, 0.0)
    return best[1]


def _caption_walk(number: str, caption: str, page_no: int, lines: list[Line], rules: list[Rule],
                  page_x0: float, page_w: float) -> Table:
    """A caption no grid was found beside: read the lines next to it (a text-only table)."""
    gutter = _gutter(lines, page_x0, page_w)
    cap_line = next((ln for ln in lines if _CAPTION.match(ln.text)
                     and _CAPTION.match(ln.text).group(1).rstrip(".") == number), None)
    if cap_line is not None and gutter is not None and cap_line.x0 < gutter - 1 and cap_line.x1 > gutter + 1:
        gutter = None  # a caption across both columns: a full-width table
    if gutter is not None:  # read each column on its own, as the grid finder does
        lines = _split_gutter(lines, gutter)
    i = next((k for k, ln in enumerate(lines) if _CAPTION.match(ln.text)
              and _CAPTION.match(ln.text).group(1).rstrip(".") == number), None)
    if i is None:
        return Table(number, caption, page_no, [], [], "pdf", image_only=True)
    ln = lines[i]
    mid = gutter if gutter is not None else page_x0 + page_w / 2
    two_column = gutter is not None or _two_column(lines, mid)
    if not two_column:
        x_lo, x_hi = page_x0, page_x0 + page_w
    elif ln.x1 <= mid + 10:
        x_lo, x_hi = page_x0, mid
    elif ln.x0 >= mid - 10:
        x_lo, x_hi = mid, page_x0 + page_w
    else:
        x_lo, x_hi = page_x0, page_x0 + page_w
    _, last = _caption_text(lines, i)
    vr = [(r.x0 + r.x1) / 2 for r in rules if (r.x1 - r.x0) < 2 and (r.y1 - r.y0) > 5]
    table = None
    for cand in (_table_lines(lines, last, 1, x_lo, x_hi, vr), _table_lines(lines, i, -1, x_lo, x_hi, vr)):
        if not cand:
            continue
        t = _build(number, caption, page_no, cand, rules, x_lo, x_hi)
        if t.numeric_cells() and (table is None or len(t.numeric_cells()) > len(table.numeric_cells())):
            table = t
    return table or Table(number, caption, page_no, [], [], "pdf", image_only=True)
