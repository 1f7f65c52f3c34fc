"""Tables rebuilt from a PDF's text positions (no LaTeX source).

Text runs with coordinates come from pypdf's layout-mode machinery (every string of a
TJ array with its x, y, size and font), so that `10` followed by a raised `20` becomes
`10^20` instead of the glued `1020` of plain extraction, and bold fonts mark best cells. The text
position is advanced past every shown string (pypdf leaves it where a TJ-final string began).
Columns are found from the body cells alone: cells of one column overlap each other
(left, centre or right aligned), a cell overlapping two cells that do not overlap each
other spans columns. Empty cells and footnote marks therefore cannot shift a column.
Horizontal rules split header from body and delimit \\multirow groups.

Tables are found by layout, not by caption: on each page (split at the gutter of a two-column
page, found from word positions), runs of non-prose lines holding >= 2 rows of numbers are
candidate tables; halves of a table across both columns are joined, two tables side by side
are split at an empty channel before a text label column. Each "Table N" caption (above or
below) goes to the nearest grid it overlaps; grids without one are numbered U1, U2... in page
order (`captioned=False`); a caption with no grid beside it falls back to reading the lines next
to it, and only then is the table called image-only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .numbers import parse_number, plain_text
from .tables import Cell, Table, clean_label

_BOLD_FONT = re.compile(r"(bold|medi|semibold|demi|heavy|black|cmbx|cmmib|cmbsy|bx\d|-bd|,b$)", re.I)
_CAPTION = re.compile(r"^(?:Table|TABLE|Tab\.)\s*([0-9]+|[IVXL]+|[A-Z]\.?[0-9]+)\s*[:.|]")
_OTHER_CAPTION = re.compile(r"^(?:Figure|Fig\.|FIGURE|Algorithm|Listing)\s*\S+\s*[:.|]")


@dataclass
class Run:
    x0: float
    x1: float
    y: float
    size: float
    text: str
    bold: bool


@dataclass
class Word:
    x0: float
    x1: float
    y: float
    size: float
    text: str
    bold_chars: int = 0
    chars: int = 0

    @property
    def bold(self) -> bool:
        return self.chars > 0 and self.bold_chars * 2 > self.chars


@dataclass
class Line:
    y: float
    size: float
    words: list[Word] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x0(self) -> float:
        return min(w.x0 for w in self.words)

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)


@dataclass
class Rule:
    x0: float
    x1: float
    y0: float
    y1: float

    @property
    def horizontal(self) -> bool:
        return abs(self.y1 - self.y0) < 2 and (self.x1 - self.x0) > 10


# ---------------------------------------------------------------- page reading


def _font_class():
    try:
        from pypdf.generic._font import Font
    except ImportError:  # older pypdf
        from pypdf._text_extraction._layout_mode._font import Font
    return Font


# Operators that can change what the layout pass records after a form is shown; a form
# without any of them (a plot's paths, an image wrapper) is skipped by it.
_TEXT_STATE_OPS = frozenset((b"BT", b"Do", b"Tf", b"Tc", b"Tz", b"Tw", b"TL", b"Ts"))


def _font_resources(res):
    """A resource dictionary's /Font dictionary, as pypdf's layout mode reads it."""
    try:
        from pypdf._page import _get_font_resources
    except ImportError:  # another pypdf: the same rule, written out
        from pypdf.generic import DictionaryObject

        fonts = res.get("/Font")
        fonts = fonts.get_object() if fonts is not None else None
        return fonts if isinstance(fonts, DictionaryObject) else DictionaryObject()
    return _get_font_resources(res)


class _Doc:
    """One PDF's content streams parsed once and its fonts read once, for every page and pass.

    A Form XObject (a plot, a logo, a stamped page) is shown by `Do` on many pages and often
    many times on one; parsing it and reading its fonts again at every `Do`, in the text pass
    and in the rules pass, was most of the time spent on a PDF."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self._ops: dict[int, tuple[object, list, bool]] = {}    # id(stream) -> (stream, ops, inert)
        self._fonts: dict[int, tuple[object, object]] = {}      # id(font dict) -> (dict, Font)
        self._res_fonts: dict[int, tuple[object, dict]] = {}    # id(resources) -> (res, fonts)

    def _parsed(self, stream) -> tuple[object, object, bool]:
        from pypdf.generic import ContentStream

        stream = stream.get_object()
        hit = self._ops.get(id(stream))
        if hit is None:
            parsed = ContentStream(stream, self.reader, "bytes")
            depth, balanced = 0, True
            for _, op in parsed.operations:
                if op == b"q":
                    depth += 1
                elif op == b"Q":
                    depth -= 1
                    balanced = balanced and depth >= 0
            inert = balanced and depth == 0 and not any(op in _TEXT_STATE_OPS for _, op in parsed.operations)
            hit = self._ops[id(stream)] = (stream, parsed, inert)  # the stream kept: its id stays its own
            self._ops[id(parsed)] = hit
        return hit

    def operations(self, stream) -> list:
        """The parsed operators of a page's /Contents or of a Form XObject."""
        return self._parsed(stream)[1].operations

    def inert(self, form) -> bool:
        """A form that shows no text and leaves the text state as it found it."""
        return self._parsed(form)[2]

    def page_text(self, page) -> str:
        """pypdf's plain `extract_text()` of a page, reading the streams already parsed here.

        pypdf reuses a /Contents or a form that is already a parsed ContentStream, so the
        page's own streams and the forms the layout pass read are handed to it as such
        (the form's dictionary copied onto its parsed stream): the text is pypdf's, the
        parsing is done once."""
        from pypdf.generic import NameObject

        contents = page.get("/Contents")
        own = self._ops.pop(id(contents.get_object()), None) if contents is not None else None
        if own is not None:  # read once, by this call: the page's parsed stream is let go after it
            self._ops.pop(id(own[1]), None)
            page[NameObject("/Contents")] = own[1]
        self._lend_forms(page.get("/Resources"), 0)
        try:
            return page.extract_text() or ""
        finally:
            if own is not None:
                page[NameObject("/Contents")] = contents

    def _lend_forms(self, resources, depth: int) -> None:
        try:
            xobjects = resources.get_object()["/XObject"].get_object()
            names = list(xobjects.keys())
        except (AttributeError, KeyError, TypeError):
            return
        for name in names:
            try:
                form = xobjects[name].get_object()
            except (AttributeError, KeyError, TypeError):
                continue
            hit = self._ops.get(id(form))
            if hit is None or hit[1] is form:
                continue  # not read by the layout pass, or already lent
            parsed = hit[1]
            for key, value in form.items():
                if key not in ("/Filter", "/DecodeParms", "/Length"):
                    parsed[key] = value
            xobjects[name] = parsed
            if depth < 5:
                self._lend_forms(parsed.get("/Resources"), depth + 1)

    def font(self, obj):
        hit = self._fonts.get(id(obj))
        if hit is None:
            hit = self._fonts[id(obj)] = (obj, _font_class().from_font_resource(obj))
        return hit[1]

    def fonts_of(self, resources) -> dict:
        """Layout-mode fonts of a resource dictionary (a Form XObject's own /Resources)."""
        from pypdf.generic import DictionaryObject

        try:
            res = resources.get_object()
        except AttributeError:
            return {}
        hit = self._res_fonts.get(id(res))
        if hit is not None:
            return hit[1]
        fonts = {}
        try:
            font_dict = res.get("/Font")
            for name, obj in (font_dict.get_object().items() if font_dict is not None else []):
                obj = obj.get_object()
                if isinstance(obj, DictionaryObject):
                    fonts[name] = self.font(obj)
        except (AttributeError, KeyError, TypeError, ValueError):
            pass
        self._res_fonts[id(res)] = (res, fonts)
        return fonts

    def page_fonts(self, page) -> dict:
        """pypdf's `page._layout_mode_fonts()` with each font read once per document."""
        from pypdf.generic import DictionaryObject, NullObject

        obj, fonts, visited = page, {}, set()
        while id(obj) not in visited:
            visited.add(id(obj))
            res = obj.get("/Resources", DictionaryObject()).get_object()
            if not isinstance(res, DictionaryObject):
                res = DictionaryObject()
            font_res = _font_resources(res)
            if page.pdf is not None and font_res:
                for name in font_res:
                    font_object = font_res[name].get_object()
                    if isinstance(font_object, DictionaryObject):
                        fonts[name] = self.font(font_object)
            parent = obj.get("/Parent", NullObject()).get_object()
            if not isinstance(parent, DictionaryObject):
                break
            obj = parent
        return fonts


def _form_xobject(resources, name):
    """The Form XObject `name` of `resources`, or None (images and missing names too)."""
    try:
        xobj = resources.get_object()["/XObject"].get_object()[name].get_object()
    except (AttributeError, KeyError, TypeError):
        return None
    return xobj if xobj.get("/Subtype") == "/Form" else None


def _runs_layout(page, doc: _Doc) -> list[Run]:
    """Per-string text runs through pypdf's (private) layout-mode text state machine.

    Form XObjects are read too (with their /Matrix): some publishers' stamped PDFs hold the
    whole page in one, which pypdf's layout mode skips."""
    from pypdf._text_extraction._layout_mode._fixed_width_page import recurse_to_target_op
    from pypdf._text_extraction._layout_mode._text_state_manager import TextStateManager

    try:
        from pypdf._text_extraction._layout_mode._fixed_width_page import set_font_operation
    except ImportError:  # older pypdf: Tf handled inline
        set_font_operation = None
    contents = page.get("/Contents")
    if contents is None:
        return []
    state = _advancing_state(TextStateManager)()
    tjs: list = []

    def walk(ops, fonts: dict, resources, depth: int) -> None:
        for operands, op in ops:
            if op == b"BT":
                _, t = recurse_to_target_op(ops, state, b"ET", fonts, True)
                tjs.extend(t)
            elif op == b"q":
                state.add_q()
            elif op == b"Q":
                if state.q_depth:
                    state.remove_q()
            elif op == b"cm" and len(operands) >= 6:
                state.add_cm(*(float(v) for v in operands[-6:]))
            elif op == b"Do" and depth < 5 and operands:
                form = _form_xobject(resources, operands[0])
                if form is None or doc.inert(form):
                    continue
                state.add_q()
                matrix = form.get("/Matrix")
                if matrix is not None and len(matrix) == 6:
                    state.add_cm(*(float(v) for v in matrix))
                res = form.get("/Resources") or resources
                walk(iter(doc.operations(form)), {**fonts, **doc.fonts_of(res)}, res, depth + 1)
                if state.q_depth:
                    state.remove_q()
            elif op == b"Tf":
                if set_font_operation is not None:
                    set_font_operation(state, fonts, operands)
                else:
                    state.set_font(fonts[operands[0]], operands[1])
            else:
                state.set_state_param(op, operands)

    walk(iter(doc.operations(contents)), doc.page_fonts(page), page.get("/Resources"), 0)
    runs = []
    for t in tjs:
        text = plain_text(t.text.replace("\n", " "))
        if not text.strip():
            continue
        bold = bool(_BOLD_FONT.search(str(getattr(t.font, "name", "")).split("+")[-1]))
        runs.extend(_split_run(Run(t.tx, t.displaced_tx, t.ty, abs(t.font_height) or 10.0, text, bold),
                               getattr(t, "word_tx", None)))
    return runs


def _advancing_state(base):
    """pypdf's layout-mode state with the text position advanced past every shown string.

    pypdf moves the position only for the numbers inside a TJ array, so a string that ends a
    TJ (or a Tj) leaves it where the string began: the next TJ, with no Td between (pdfTeX
    writes citations and links that way), is placed on top of it and every cell after it on
    the line drifts left into the previous column."""

    class Advancing(base):
        _pending = 0.0   # width of the last string already advanced past (a TJ number re-adds it)

        def text_state_params(self, value=""):
            params = super().text_state_params(value)
            if value:
                width = params.displacement_matrix()[4]
                self.add_trm([1.0, 0.0, 0.0, 1.0, width, 0.0])
                self._pending = width
            else:
                self._pending = 0.0  # a TJ array starting: its numbers move from here
            return params

        def add_trm(self, operands):
            if self._pending and len(operands) == 6:
                operands = [*operands[:4], operands[4] - self._pending, operands[5]]
                self._pending = 0.0
            return super().add_trm(operands)

        def reset_trm(self):
            self._pending = 0.0
            return super().reset_trm()

    return Advancing


def _split_run(r: Run, advance=None) -> list[Run]:
    """A run with spaces inside is split; x positions from the font's glyph widths when known
    (cells typeset in one string with wide spaces), else shared out by character count."""
    if " " not in r.text.strip():
        return [Run(r.x0, r.x1, r.y, r.size, r.text.strip(), r.bold)] if r.text.strip() else []
    n = max(len(r.text), 1)

    def x_at(k: int) -> float:
        return r.x0 + (r.x1 - r.x0) * k / n

    if advance is not None:
        try:
            total = advance(r.text)
            if total > 0:
                def x_at(k: int) -> float:  # noqa: F811 - the glyph-width version
                    return r.x0 + (r.x1 - r.x0) * advance(r.text[:k]) / total
        except Exception:  # noqa: BLE001 - a font without widths: keep the character count
            pass
    return [Run(x_at(m.start()), x_at(m.end()), r.y, r.size, m.group(0), r.bold)
            for m in re.finditer(r"\S+", r.text)]


def _runs_fixed_width(page) -> list[Run]:
    """Fallback when the layout internals are unavailable: tokens of layout-mode text."""
    text = page.extract_text(extraction_mode="layout")
    runs = []
    for i, line in enumerate(text.splitlines()):
        for m in re.finditer(r"\S+", line):
            runs.append(Run(m.start() * 5.0, m.end() * 5.0, -i * 12.0, 10.0, m.group(0), False))
    return runs


def _rules(page, doc: _Doc) -> list[Rule]:
    """Horizontal and vertical strokes or thin filled rectangles (table rules), forms included."""
    contents = page.get("/Contents")
    if contents is None:
        return []
    rules: list[Rule] = []

    def mul(m: list[float], ctm: list[float]) -> list[float]:
        a, b, c, d, e, f = m
        A, B, C, D, E, F = ctm
        return [a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F]

    def walk(ops, ctm: list[float], resources, depth: int) -> None:
        stack: list[list[float]] = []
        path: list[tuple[float, float]] = []

        def tr(x: float, y: float) -> tuple[float, float]:
            a, b, c, d, e, f = ctm
            return a * x + c * y + e, b * x + d * y + f

        for operands, op in ops:
            try:
                if op == b"q":
                    stack.append(ctm[:])
                elif op == b"Q":
                    ctm = stack.pop() if stack else ctm
                elif op == b"cm" and len(operands) == 6:
                    ctm = mul([float(v) for v in operands], ctm)
                elif op == b"m":
                    path = [tr(float(operands[0]), float(operands[1]))]
                elif op == b"l" and path:
                    p0 = path[-1]
                    p1 = tr(float(operands[0]), float(operands[1]))
                    rules.append(Rule(min(p0[0], p1[0]), max(p0[0], p1[0]), min(p0[1], p1[1]), max(p0[1], p1[1])))
                    path.append(p1)
                elif op == b"re":
                    x, y, w, h = (float(v) for v in operands)
                    (x0, y0), (x1, y1) = tr(x, y), tr(x + w, y + h)
                    x0, x1, y0, y1 = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
                    if (y1 - y0) < 2 or (x1 - x0) < 2:
                        rules.append(Rule(x0, x1, y0, y1))
                elif op == b"Do" and depth < 5 and operands:
                    form = _form_xobject(resources, operands[0])
                    if form is not None:
                        m = form.get("/Matrix")
                        inner = mul([float(v) for v in m], ctm) if m is not None and len(m) == 6 else ctm[:]
                        walk(doc.operations(form), inner,
                             form.get("/Resources") or resources, depth + 1)
            except (ValueError, TypeError, IndexError):
                continue  # malformed operands: skip the operator, keep reading the page

    walk(doc.operations(contents), [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
         page.get("/Resources"), 0)
    return rules


def _words(runs: list[Run]) -> list[Word]:
    """Glue runs into words in content order; smaller raised/lowered runs become ^x / _x."""
    words: list[Word] = []
    cur: Word | None = None
    last: Run | None = None
    script = ""
    for r in runs:
        if cur is not None and last is not None:
            gap = r.x0 - last.x1
            dy = r.y - last.y
            base_size = cur.size
            adjacent = -0.3 * base_size < gap < 0.12 * base_size
            if adjacent and r.size < 0.85 * base_size and abs(r.y - cur.y) < 0.7 * base_size and abs(r.y - cur.y) > 0.3:
                kind = "^" if r.y > cur.y else "_"
                cur.text += ("" if script == kind else kind) + r.text
                script = kind
                _extend(cur, r)
                last = r
                continue
            if adjacent and abs(r.y - cur.y) < 0.3 * base_size and r.size >= 0.85 * base_size:
                cur.text += r.text
                script = ""
                _extend(cur, r)
                last = r
                continue
            _ = dy
        cur = Word(r.x0, r.x1, r.y, r.size, r.text, len(r.text) if r.bold else 0, len(r.text))
        words.append(cur)
        last = r
        script = ""
    return words


def _extend(w: Word, r: Run) -> None:
    w.x0, w.x1 = min(w.x0, r.x0), max(w.x1, r.x1)
    w.chars += len(r.text)
    w.bold_chars += len(r.text) if r.bold else 0


def _lines(words: list[Word]) -> list[Line]:
    lines: list[Line] = []
    for w in sorted(words, key=lambda w: (-w.y, w.x0)):
        if lines and abs(lines[-1].y - w.y) < 0.4 * min(lines[-1].size, w.size):
            lines[-1].words.append(w)
            lines[-1].size = max(lines[-1].size, w.size)
        else:
            lines.append(Line(w.y, w.size, [w]))
    for ln in lines:
        ln.words.sort(key=lambda w: w.x0)
    return lines


# ---------------------------------------------------------------- table building


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


def _two_column(lines: list[Line], mid: float) -> bool:
    """Most prose lines stay on one side of the middle: a two-column page."""
    prose = [ln for ln in lines if len(ln.words) >= 6]
    if len(prose) < 5:  # too little prose to tell: treat the page as one column
        return False
    crossing = sum(1 for ln in prose if ln.x0 < mid - 20 and ln.x1 > mid + 20)
    return crossing < 0.3 * len(prose)


# ---------------------------------------------------------------- finding tables by layout


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


def _split_gutter(lines: list[Line], mid: float) -> list[Line]:
    """On a two-column page, a line with words on both sides of the gutter becomes two."""
    out = []
    for ln in lines:
        crossing = any(w.x0 < mid - 1 and w.x1 > mid + 1 for w in ln.words)
        left = [w for w in ln.words if w.x1 <= mid + 1]
        right = [w for w in ln.words if w.x0 >= mid - 1]
        if crossing or not left or not right:
            out.append(ln)
        else:
            out.append(Line(ln.y, ln.size, left))
            out.append(Line(ln.y, ln.size, right))
    return out


def _n_numeric(cells: list[_Cell]) -> int:
    return sum(1 for c in cells if parse_number(c.text)[0] is not None)


def _n_words(text: str) -> int:
    """Words of prose: numbers (a row of glued cells) do not count."""
    return sum(1 for w in text.split() if re.search(r"[A-Za-z]{2}", w))


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


def _gutter(lines: list[Line], page_x0: float, page_w: float) -> float | None:
    """x of the gap between two text columns, or None on a one-column page.

    Lines of the two columns often share a baseline and are read as one line, so the page
    is judged from its words: a vertical strip near the middle that almost no word crosses
    while many lines have words on both sides of it."""
    words = [w for ln in lines for w in ln.words]
    if len(words) < 50:
        return None
    lo, hi = int(page_x0 + 0.35 * page_w), int(page_x0 + 0.65 * page_w)
    diff = [0] * (hi - lo + 2)
    for w in words:  # words crossing each integer x of the middle band, by a difference array
        a, b = max(int(w.x0 + 1) + 1, lo), min(int(w.x1 - 1), hi)
        if a <= b:
            diff[a - lo] += 1
            diff[b - lo + 1] -= 1
    best, run, cur = None, None, 0
    for i in range(hi - lo + 1):
        cur += diff[i]
        if best is None or cur < best[0]:
            best, run = (cur, lo + i, lo + i), True
        elif cur == best[0] and run and best[2] == lo + i - 1:
            best = (cur, best[1], lo + i)  # widen the run of equally empty positions
        else:
            run = run and cur == best[0] and best[2] == lo + i - 1
    crossing, a, b = best
    x = (a + b) / 2
    both = sum(1 for ln in lines if any(w.x1 <= x for w in ln.words) and any(w.x0 >= x for w in ln.words)
               and len(ln.words) >= 6)
    prose = sum(1 for ln in lines if len(ln.words) >= 6)
    if prose >= 10 and both >= 0.3 * prose and crossing <= 0.05 * both:
        return x
    return None


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

    from ..errors import PdfError

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
