"""One PDF page as positioned text: runs, words and lines, its text columns and its rules.

Text runs with coordinates come from pypdf's layout-mode machinery (every string of a
TJ array with its x, y, size and font), so that `10` followed by a raised `20` becomes
`10^20` instead of the glued `1020` of plain extraction, and bold fonts mark best cells. The text
position is advanced past every shown string (pypdf leaves it where a TJ-final string began).
Each content stream is parsed once per document (pdf_streams.py). A two-column page's gutter
is found from word positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .numbers import plain_text
from .pdf_streams import _Doc, _form_xobject


_BOLD_FONT = re.compile(r"(bold|medi|semibold|demi|heavy|black|cmbx|cmmib|cmbsy|bx\d|-bd|,b$)", re.I)


@dataclass
class _Span:
    """Text placed on the page: its left and right x, baseline y and font size."""

    x0: float
    x1: float
    y: float
    size: float
    text: str


@dataclass
class Run(_Span):
    """One shown string (a piece of a text operator's output) in one font."""

    bold: bool


@dataclass
class Word(_Span):
    """Runs joined where no gap separates them; bold if most of its characters are."""

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


def _two_column(lines: list[Line], mid: float) -> bool:
    """Most prose lines stay on one side of the middle: a two-column page."""
    prose = [ln for ln in lines if len(ln.words) >= 6]
    if len(prose) < 5:  # too little prose to tell: treat the page as one column
        return False
    crossing = sum(1 for ln in prose if ln.x0 < mid - 20 and ln.x1 > mid + 20)
    return crossing < 0.3 * len(prose)


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
