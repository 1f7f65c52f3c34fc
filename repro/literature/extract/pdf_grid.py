"""One table rebuilt from its lines on the page: cells, columns, header names, row labels.

Columns are found from the body cells alone: cells of one column overlap each other
(left, centre or right aligned), a cell overlapping two cells that do not overlap each
other spans columns. Empty cells and footnote marks therefore cannot shift a column.
Horizontal rules split header from body and delimit \\multirow groups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .numbers import parse_number
from .pdf_page import Line, Rule, Word
from .tables import Cell, Table, clean_label


@dataclass
class _Cell:
    x0: float
    x1: float
    text: str
    bold: bool
    words: list = field(default_factory=list)   # the words it was glued from


def _cells(line: Line, vrules: list[float]) -> list[_Cell]:
    """Words of a line grouped into cells: a gap over ~half an em or a vertical rule splits."""
    out: list[_Cell] = []
    bold_votes: list[list[bool]] = []
    prev: Word | None = None
    for w in line.words:
        split = prev is None or (w.x0 - prev.x1) > 0.55 * line.size or any(prev.x1 <= v <= w.x0 for v in vrules)
        if split:
            out.append(_Cell(w.x0, w.x1, w.text, w.bold, [w]))
            bold_votes.append([w.bold])
        else:
            out[-1].x1 = w.x1
            out[-1].text += " " + w.text
            out[-1].words.append(w)
            bold_votes[-1].append(w.bold)
        prev = w
    for c, votes in zip(out, bold_votes):
        c.bold = all(votes)
    return out


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return min(a1, b1) - max(a0, b0)


def _prose(line: Line, width: float, vrules: list[float]) -> bool:
    cells = _cells(line, vrules)
    return len(cells) == 1 and (line.x1 - line.x0) > 0.5 * width and len(line.words) >= 6


def _columns(body: list[list[_Cell]]) -> list[tuple[float, float]]:
    """Column extents from body cells; cells spanning columns are left out."""
    flat = [(ri, c) for ri, row in enumerate(body) for c in row]
    n = len(flat)
    ov = [[False] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if flat[i][0] != flat[j][0] and _overlap(flat[i][1].x0, flat[i][1].x1, flat[j][1].x0, flat[j][1].x1) > 0:
                ov[i][j] = ov[j][i] = True
    spanning = set()
    for i in range(n):
        nb = [j for j in range(n) if ov[i][j]]
        if any(not ov[a][b] and flat[a][0] != flat[b][0] or (flat[a][0] == flat[b][0] and a != b)
               for k, a in enumerate(nb) for b in nb[k + 1:]):
            spanning.add(i)
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i in range(n):
        for j in range(i + 1, n):
            if ov[i][j] and i not in spanning and j not in spanning:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        if i not in spanning:
            groups.setdefault(find(i), []).append(i)
    cols = [(min(flat[i][1].x0 for i in g), max(flat[i][1].x1 for i in g)) for g in groups.values()]
    if not cols:  # every cell spans (a one-row table): each cell is a column
        cols = [(c.x0, c.x1) for _, c in flat]
    cols.sort()
    # columns whose extents still overlap (ragged text) are one column
    merged: list[tuple[float, float]] = []
    for c in cols:
        if merged and _overlap(merged[-1][0], merged[-1][1], c[0], c[1]) > 0:
            merged[-1] = (merged[-1][0], max(merged[-1][1], c[1]))
        else:
            merged.append(c)
    return merged


def _split_at_columns(cell: _Cell, cols: list[tuple[float, float]]) -> list[_Cell]:
    """A cell glued from words of two columns (a label whose gap to the next column is under half
    an em) is cut where a word gap falls on the gap between two columns."""
    if len(cell.words) < 2:
        return [cell]
    out: list[_Cell] = []
    start = 0
    for j in range(1, len(cell.words)):
        a, b = cell.words[j - 1], cell.words[j]
        if any(a.x1 <= cols[k + 1][0] + 1 and b.x0 >= cols[k][1] - 1 and a.x1 < cols[k + 1][0] + 1 <= b.x1
               and (a.x0 + a.x1) / 2 < cols[k][1] and (b.x0 + b.x1) / 2 > cols[k + 1][0]
               for k in range(len(cols) - 1)):
            out.append(_cell_of(cell.words[start:j]))
            start = j
    if not out:
        return [cell]
    return out + [_cell_of(cell.words[start:])]


def _split_header_at_gaps(cell: _Cell, cols: list[tuple[float, float]], data_start: int) -> list[_Cell]:
    """Header names of neighbouring data columns glued into one cell ("Baseline CoT Finetuned"
    over two columns) are cut at the word gap nearest the middle of each gap between the columns."""
    if len(cell.words) < 2:
        return [cell]
    def gap(j: int) -> float:
        return cell.words[j].x0 - cell.words[j - 1].x1

    # a cut needs a gap wider than a word space: a group name ("Time (secs)") keeps its spaces
    spaces = sorted(gap(j) for j in range(1, len(cell.words)))
    wide = max(0.35 * cell.words[0].size, 1.5 * spaces[0] if len(spaces) > 1 else 0.0)
    cuts = []
    for k in range(max(data_start - 1, 0), len(cols) - 1):
        lo, hi = cols[k][1], cols[k + 1][0]
        mid = (lo + hi) / 2
        gaps = [j for j in range(1, len(cell.words))
                if cell.words[j - 1].x1 >= lo - 1 and cell.words[j].x0 <= hi + 1 and gap(j) >= wide]
        if gaps and cell.words[0].x0 < lo and cell.words[-1].x1 > hi:
            cuts.append(min(gaps, key=lambda j: abs((cell.words[j - 1].x1 + cell.words[j].x0) / 2 - mid)))
    if not cuts:
        return [cell]
    cuts = sorted(set(cuts))
    return [_cell_of(cell.words[a:b]) for a, b in zip([0] + cuts, cuts + [len(cell.words)])]


def _cell_of(words: list) -> _Cell:
    return _Cell(words[0].x0, words[-1].x1, " ".join(w.text for w in words), all(w.bold for w in words), words)


def _col_of(cell: _Cell, cols: list[tuple[float, float]]) -> int:
    hits = [i for i, (a, b) in enumerate(cols) if _overlap(cell.x0, cell.x1, a, b) > 0]
    if hits:
        return hits[0]
    mid = (cell.x0 + cell.x1) / 2
    return min(range(len(cols)), key=lambda i: abs((cols[i][0] + cols[i][1]) / 2 - mid))


def _header_cols(cell: _Cell, cols: list[tuple[float, float]]) -> list[int]:
    hits = [i for i, (a, b) in enumerate(cols)
            if _overlap(cell.x0, cell.x1, a, b) >= min(0.25 * (b - a), 3.0)]
    return hits or [_col_of(cell, cols)]


def _header_spans(row: list[_Cell], cols: list[tuple[float, float]], data_start: int) -> list[list[int]]:
    """Columns under each cell of an upper header line.

    A group name ("Dev" over F1 and EM) is centred over its columns and often narrower than
    them: it takes the widest run of columns, not under another cell of the line, whose centre
    is its centre. A name stacked over one column ("PPL" over "(dev)") matches that column."""
    widths = sorted(b - a for a, b in cols)
    tol = 0.5 * widths[len(widths) // 2] + 2.0
    spans: list[list[int]] = []
    for ci, c in enumerate(row):
        own = _header_cols(c, cols)
        if any(k < data_start for k in own):
            spans.append(own)
            continue
        claimed = {k for cj, o in enumerate(row) if cj != ci
                   for k in range(len(cols)) if _overlap(o.x0, o.x1, cols[k][0], cols[k][1]) > 0}
        centre = (c.x0 + c.x1) / 2
        best: list[int] = []
        for a in range(data_start, len(cols)):
            for b in range(a, len(cols)):
                if b in claimed:
                    break
                if a in claimed:
                    break
                if abs((cols[a][0] + cols[b][1]) / 2 - centre) <= tol and b - a + 1 > len(best):
                    best = list(range(a, b + 1))
        spans.append(best if best and (len(best) > 1 or best == own[:1]) else own)
    return spans


def _build(number: str, caption: str, page_no: int, lines: list[Line], rules: list[Rule],
           x_lo: float, x_hi: float) -> Table:
    vrules = sorted({round((r.x0 + r.x1) / 2, 1) for r in rules
                     if (r.x1 - r.x0) < 2 and (r.y1 - r.y0) > 5
                     and lines[-1].y - 2 <= (r.y0 + r.y1) / 2 <= lines[0].y + lines[0].size})
    top, bottom = lines[0].y + lines[0].size, lines[-1].y - 0.5 * lines[-1].size
    hr = [r for r in rules if r.horizontal and r.x1 > x_lo and r.x0 < x_hi and bottom - 4 <= r.y0 <= top + 6]
    width = max((r.x1 - r.x0 for r in hr), default=0.0)
    full = sorted({round(r.y0, 1) for r in hr if r.x1 - r.x0 >= 0.7 * width}, reverse=True)
    line_cells = [_cells(ln, vrules) for ln in lines]

    def numeric(cs: list[_Cell]) -> bool:
        return any(parse_number(c.text)[0] is not None for c in cs[1:]) or (
            len(cs) == 1 and parse_number(cs[0].text)[0] is not None and cs[0].x0 > lines[0].x0 + 20)

    first_num = next((i for i, cs in enumerate(line_cells) if numeric(cs)), len(lines))
    n_head = first_num
    # a full-width rule under the first lines is the header/body line (numeric headers too)
    for y in full:
        above = sum(1 for ln in lines if ln.y > y)
        if max(1, min(first_num, 5)) <= above <= 5 and above < len(lines):  # never a text header into the body
            n_head = above
            break
    head, body = line_cells[:n_head], line_cells[n_head:]
    body_lines = lines[n_head:]
    if not any(body):
        return Table(number, caption, page_no, [], [], "pdf", image_only=True)
    cols = _columns(body)
    grid: list[list[_Cell | None]] = []
    for row in body:
        g: list[_Cell | None] = [None] * len(cols)
        if _n_numeric(row) >= 1:
            row = [part for c in row for part in _split_at_columns(c, cols)]
        for c in row:
            k = _col_of(c, cols)
            if g[k] is None:
                g[k] = _Cell(c.x0, c.x1, c.text, c.bold)
            else:
                g[k].text += " " + c.text
                g[k].x1 = c.x1
                g[k].bold = g[k].bold and c.bold
        grid.append(g)
    n_label = _label_columns(grid)
    head = [[part for c in row for part in _split_header_at_gaps(c, cols, n_label)] for row in head]
    has_label = n_label > 0
    data_start = n_label
    # header names: stacked lines; a header cell over several columns is a group (" / ")
    parts: list[list[tuple[str, bool]]] = [[] for _ in cols]
    for h, row in enumerate(head):
        spans = _header_spans(row, cols, data_start) if h < len(head) - 1 else None
        for ci, c in enumerate(row):
            ks = spans[ci] if spans is not None else _header_cols(c, cols)
            for k in ks:
                parts[k].append((c.text, len(ks) > 1))
    names = []
    for k in range(data_start, len(cols)):
        name, prev_group = "", False
        for text, group in parts[k]:
            name = text if not name else name + (" / " if prev_group else " ") + text
            prev_group = group
        names.append(name)
    # rows: a label spanning several label columns is joined with " / "; a sparse label
    # column (\multirow) is filled from its band between rules, a label-only line, or above
    bands = [sum(1 for y in full if y > ln.y) for ln in body_lines]
    label_only = [has_label and any(x is not None for x in g[:n_label]) and all(x is None for x in g[n_label:])
                  for g in grid]
    per_col: list[list[str]] = []
    for k in range(n_label):
        vals = [clean_label(g[k].text) if g[k] is not None else "" for g in grid]
        per_col.append(_fill_sparse(vals, label_only, bands, len(full) > 1, body_lines,
                                    last=(k == n_label - 1)))
    if n_label >= 2:
        data_rows = [i for i in range(len(grid)) if not label_only[i]]
        for k in range(n_label - 1):
            _join_wrapped_group_labels(per_col[k], per_col[n_label - 1], data_rows)
    out_rows: list[tuple[str, list[Cell | None]]] = []
    for i, g in enumerate(grid):
        if label_only[i]:
            continue
        parts_i: list[str] = []
        for k in range(n_label):
            if per_col[k][i] and (not parts_i or parts_i[-1] != per_col[k][i]):
                parts_i.append(per_col[k][i])
        label = " / ".join(parts_i)
        cells = [Cell.from_text(c.text, c.bold) if c is not None else None for c in g[data_start:]]
        if not label and not has_label:
            label = str(len(out_rows) + 1)
        out_rows.append((label, cells))
    return Table(number, caption, page_no, names, out_rows, "pdf", image_only=not out_rows)


_PLACEHOLDER = re.compile(r"^(?:[-–—−]+|n/?a|N/?A|×|✗|✓|-)$")


def _texty(text: str) -> bool:
    """Words, not a number and not an empty-cell mark ("-", "N/A")."""
    t = text.strip()
    if _PLACEHOLDER.match(t) or parse_number(t)[0] is not None:
        return False
    # "81.2 (±0.4" split oddly is a number; "4% (213 examples)" has words after it: a label
    return parse_number(t.split(" ")[0])[0] is None or _n_words(t) >= 1


def _label_columns(grid: list[list[_Cell | None]]) -> int:
    """Leading columns that hold row labels: up to the last mostly-text column of the left half."""
    n_cols = len(grid[0]) if grid else 0
    last = -1
    for k in range(max(1, (n_cols + 1) // 2)):
        col = [g[k].text for g in grid if g[k] is not None]
        if col and sum(_texty(t) for t in col) * 2 >= len(col):
            last = k
        elif k == 0:
            break  # a first column of numbers: no label column at all
    if last >= n_cols - 1:
        last = n_cols - 2
    return last + 1


def _fill_sparse(vals: list[str], label_only: list[bool], bands: list[int], ruled: bool,
                 lines: list[Line], last: bool) -> list[str]:
    """Fill the empty cells of one label column from the label that spans them."""
    out = vals[:]
    for i, v in enumerate(vals):
        if v or label_only[i]:
            continue
        if ruled:
            distinct = {vals[j] for j in range(len(vals)) if bands[j] == bands[i] and vals[j]}
            if len(distinct) == 1:
                out[i] = next(iter(distinct))
                continue
        near = _nearest_group_label(i, vals, label_only, lines)
        if near:
            out[i] = near
        elif not last:  # an outer label column: the label above still holds (\multirow)
            out[i] = next((out[j] for j in range(i - 1, -1, -1) if out[j]), "")
    return out


def _join_wrapped_group_labels(outer: list[str], inner: list[str], rows: list[int]) -> None:
    """An outer label printed on two lines beside the two rows it spans ("Last Letter" over
    "Concat.") reads as two labels. When the inner labels repeat with a period p (OOD: 3, OOD: 4,
    OOD: 3, OOD: 4), every p rows are one group: a group whose outer cells differ is one label
    wrapped over lines, joined with a space. Only when another group shows the shape, one outer
    label over all its rows, and no outer text recurs in two groups."""
    vals_in = [inner[i] for i in rows]
    n = len(rows)
    for p in range(2, n // 2 + 1):
        if n % p or any(vals_in[i] != vals_in[i + p] for i in range(n - p)) or len(set(vals_in[:p])) < p:
            continue
        groups = [rows[a:a + p] for a in range(0, n, p)]
        texts = [list(dict.fromkeys(outer[i] for i in g)) for g in groups]
        if any("" in t for t in texts) or not any(len(t) == 1 for t in texts) or all(len(t) == 1 for t in texts):
            return
        flat = [x for t in texts for x in t]
        if len(flat) != len(set(flat)):
            return
        for g, t in zip(groups, texts):
            for i in g:
                outer[i] = " ".join(t)
        return


def _nearest_group_label(i: int, labels: list[str], label_only: list[bool], lines: list[Line]) -> str:
    best, dist = "", float("inf")
    for step in (-1, 1):
        j = i + step
        while 0 <= j < len(labels):
            if labels[j]:
                if label_only[j] and abs(lines[j].y - lines[i].y) < dist:
                    best, dist = labels[j], abs(lines[j].y - lines[i].y)
                break
            j += step
    return best


def _n_numeric(cells: list[_Cell]) -> int:
    return sum(1 for c in cells if parse_number(c.text)[0] is not None)


def _n_words(text: str) -> int:
    """Words of prose: numbers (a row of glued cells) do not count."""
    return sum(1 for w in text.split() if re.search(r"[A-Za-z]{2}", w))
