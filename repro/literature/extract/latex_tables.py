"""Tables from LaTeX source: `\\begin{table}` + `tabular` with multirow/multicolumn.

Each cell is made plain text by latex_text.py; the grid's header rows, label columns and
spreads follow the rules of the PDF path. `place_on_pages` gives each table its page from
the PDF's text when both were given.

A little over 400 lines, kept whole: one grammar (tabular rows and cells, their spans and
rules, header and label detection) whose parts only make sense together; the LaTeX-to-text
part is already apart (latex_text.py).
"""

from __future__ import annotations

import re
import unicodedata

from .latex_text import (_args, _skip_ws, bibliography, collect_macros, expand_macros, latex_to_text, read_group,
                         render_citations, strip_comments)
from .numbers import parse_number
from .tables import Cell, Table, clean_label, drop_empty_columns


_RULES = re.compile(
    r"\\(?:(?:hline|toprule|midrule|bottomrule)(?:\s*\[[^\]]*\])?|hhline\s*\{[^}]*\}|specialrule\s*\{[^}]*\}\s*\{[^}]*\}\s*\{[^}]*\}"
    r"|cmidrule\s*(?:\([^)]*\))?\s*\{[^}]*\}|cline\s*\{[^}]*\}|addlinespace(?:\s*\[[^\]]*\])?"
    r"|hdashline(?:\s*\[[^\]]*\])?|Xhline\s*\{[^}]*\}|noalign\s*\{[^}]*\}"
    r"|arrayrulecolor\s*(?:\[[^\]]*\])?\s*\{[^}]*\}|rowcolors?\s*(?:\[[^\]]*\])?(?:\s*\{[^}]*\})+)"
)


_PARTIAL_RULE = re.compile(r"\\(?:cmidrule|cline)")


def _split_top(s: str, sep: str) -> list[str]:
    """Split s on sep at brace depth 0 (sep '\\\\' for rows, '&' for cells)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            if sep == "\\\\" and depth == 0 and s.startswith("\\\\", i):
                parts.append(s[start:i])
                i += 2
                j = _skip_ws(s, i)
                if j < len(s) and s[j] == "[":  # \\[2pt]
                    _, j = read_group(s, j, "[", "]")
                    i = j
                start = i
                continue
            if sep == "\\\\" and depth == 0 and s.startswith("\\tabularnewline", i):
                parts.append(s[start:i])
                i += len("\\tabularnewline")
                start = i
                continue
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(s[start:i])
            start = i + 1
        i += 1
    parts.append(s[start:])
    return parts


def _count_spec_columns(spec: str) -> int:
    spec = re.sub(r"[@!<>]\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}", "", spec)
    spec = re.sub(r"\*\{(\d+)\}\{([^{}]*)\}", lambda m: m.group(2) * int(m.group(1)), spec)
    spec = re.sub(r"\{[^{}]*\}", "", spec)  # p{3cm}, S[..]
    spec = re.sub(r"\[[^\]]*\]", "", spec)
    return len(re.findall(r"[lcrpmbXSL]", spec))


_GridCell = tuple[str, bool, int, int]  # text, bold, colspan, rowspan


def _parse_cell(raw: str) -> _GridCell:
    raw = raw.strip()
    colspan = rowspan = 1
    m = re.match(r"\\multicolumn\s*\{(\d+)\}", raw)
    if m:
        colspan = int(m.group(1))
    inner = raw
    mr = re.search(r"\\multirow\s*(?:\[[^\]]*\])?\s*\{(-?\d+)\}", raw)
    if mr:
        n = int(mr.group(1))
        rowspan = n if n < -1 else max(1, n)  # \multirow{-3}: the text sits in the span's last row
    text, bold = latex_to_text(inner)
    return spread_as_pm(text), bold, colspan, rowspan


_NUM_TXT = r"[-+−]?\d[\d,]*(?:\.\d+)?|[-+−]?\.\d+"


# "76.2_2.9" (std as a subscript), "88.1^±0.4", "88.1^(0.4)", "88.1_±0.4": the spread forms of
# LaTeX cells, rewritten as the "88.1 ± 0.4" that numbers.parse_number reads.
_SUB_SPREAD = re.compile(rf"^(?P<v>{_NUM_TXT})\s*(?:_\s*[(\[]?\s*(?:±\s*)?|\^\s*[(\[]?\s*±\s*)(?P<sp>{_NUM_TXT})\s*[)\]]?(?P<rest>\S*)$")


def spread_as_pm(text: str) -> str:
    """`76.2_2.9`, `88.1^±0.4` -> `76.2 ± 2.9`; any other text unchanged."""
    m = _SUB_SPREAD.match(text.strip())
    if not m:
        return text
    return f"{m.group('v')} ± {m.group('sp')}{m.group('rest')}"


def parse_tabular(body: str, spec: str) -> tuple[list[list[_GridCell | None]], list[bool]]:
    """Grid of cells (None = covered by a multicolumn) and, per row, whether a full rule precedes it."""
    rows: list[list[_GridCell | None]] = []
    rule_before: list[bool] = []
    pending_rule = False
    for seg in _split_top(body, "\\\\"):
        full = [m.group(0) for m in _RULES.finditer(seg) if not _PARTIAL_RULE.match(m.group(0))]
        content = _RULES.sub("", seg)
        if full:
            pending_rule = True
        if not content.strip() or not latex_to_text(content)[0] and "&" not in content:
            continue
        grid_row: list[_GridCell | None] = []
        for raw in _split_top(content, "&"):
            cell = _parse_cell(raw)
            grid_row.append(cell)
            grid_row.extend([None] * (cell[2] - 1))
        rows.append(grid_row)
        rule_before.append(pending_rule)
        pending_rule = False
    ncols = max([_count_spec_columns(spec)] + [len(r) for r in rows]) if rows else 0
    for r in rows:
        r.extend([("", False, 1, 1)] * (ncols - len(r)))
    return rows, rule_before


def _header_count(rows: list[list[_GridCell | None]], rule_before: list[bool]) -> int:
    def numeric(r: list[_GridCell | None]) -> bool:
        return any(c is not None and parse_number(c[0])[0] is not None for c in r[1:])

    first_numeric = next((i for i, r in enumerate(rows) if numeric(r)), len(rows))
    # A full rule after the first few rows is the header/body line (works for numeric headers too).
    for i in range(1, min(len(rows), 5)):
        if rule_before[i]:
            return i if i <= max(first_numeric, 1) or first_numeric == 0 else first_numeric
    return first_numeric


_DASHES = {"-", "--", "---", "–", "—", "n/a", "N/A", "NA", "×", "✗"}


def _numeric(cell: _GridCell | None) -> bool:
    return cell is not None and parse_number(cell[0])[0] is not None


def _text(cell: _GridCell | None) -> bool:
    return cell is not None and bool(cell[0]) and cell[0] not in _DASHES and not _numeric(cell)


def _index_column(rows: list[list[_GridCell | None]], c: int) -> bool:
    """A "Row"/"#" column numbering the rows 1, 2, 3, ...: an index, not a result."""
    vals = [parse_number(r[c][0])[0] if r[c] is not None else None for r in rows]
    return len(vals) >= 3 and vals == [float(i) for i in range(1, len(vals) + 1)]


def grid_to_table(rows: list[list[_GridCell | None]], rule_before: list[bool], number: str,
                  caption: str) -> Table:
    n_head = _header_count(rows, rule_before)
    # A header row after the first rule ("Training data & P & R & F1") is header too.
    while n_head < len(rows) and not any(_numeric(c) for c in rows[n_head][1:]) \
            and any(_text(c) for c in rows[n_head][1:]):
        n_head += 1
    head, body = rows[:n_head], [list(r) for r in rows[n_head:]]
    for i, r in enumerate(body):  # \multirow{-n}: fill the rows above, as a plain multirow would
        for c, cell in enumerate(r):
            if cell is not None and cell[3] < 0:
                for k in range(max(0, i + cell[3] + 1), i):
                    if body[k][c] is not None and not body[k][c][0]:
                        body[k][c] = (cell[0], cell[1], 1, 1)
                r[c] = (cell[0], cell[1], cell[2], 1)
    ncols = len(rows[0]) if rows else 0
    data_rows = [r for r in body if any(_numeric(c) for c in r[1:])]
    # Label columns: the first, and every next one that holds only text ("Retrieval | Model").
    n_label = 1
    while n_label < ncols - 1 and data_rows and not any(_numeric(r[n_label]) for r in data_rows) \
            and any(_text(r[n_label]) for r in data_rows):
        n_label += 1
    skip = {c for c in range(n_label, ncols) if c == n_label and _index_column(data_rows, c)}

    def owner(r: list[_GridCell | None], c: int) -> int:
        while c > 0 and r[c] is None:
            c -= 1
        return c

    # A column that starts no cell in any row is the tail of a \multicolumn span: not a column.
    data_cols = [c for c in range(n_label, ncols) if c not in skip
                 and any(r[c] is not None and r[c][0] for r in rows)]
    # Column headers: every header level above a column, joined with " / " ("Dev / F1").
    names: list[str] = []
    for c in data_cols:
        parts: list[str] = []
        for r in head:
            o = owner(r, c)
            cell = r[o]
            if cell is None or not cell[0] or o + cell[2] <= c:
                continue
            if o < n_label and o != c:  # a label column's header spanning into the data
                continue
            if not parts or parts[-1] != cell[0]:
                parts.append(cell[0])
        names.append(clean_label(" / ".join(parts)))
    header_texts = {cell[0] for r in head for cell in r if cell is not None and cell[0]}
    # Multirow labels (and other text) fill the rows they span; numbers are not repeated.
    # Label columns left of the last one are carried down when empty (a sparse first column).
    table_rows: list[tuple[str, list[Cell | None]]] = []
    carry: dict[int, tuple[str, bool, int]] = {}
    last_label: dict[int, str] = {}
    for r in body:
        texts: list[tuple[str, bool] | None] = []
        for c, cell in enumerate(r):
            if cell is None:
                texts.append(None)
                continue
            text, bold, _, rowspan = cell
            if not text and c in carry and carry[c][2] > 0:
                t, b, left = carry[c]
                carry[c] = (t, b, left - 1)
                texts.append((t, b))
                continue
            if rowspan > 1 and parse_number(text)[0] is None:
                carry[c] = (text, bold, rowspan - 1)
            elif text:
                carry.pop(c, None)
            texts.append((text, bold) if text else None)
        texts_here = [c[0] for c in r[n_label:] if _text(c)]
        if texts_here and not any(_numeric(c) for c in r[n_label:]) \
                and 2 * sum(t in header_texts for t in texts_here) >= len(texts_here):
            continue  # a repeated header row inside the body ("Sentence encoder & P & R & F1")
        parts = []
        for c in range(n_label):
            t = texts[c][0] if texts[c] else ""
            if not t and c < n_label - 1:
                t = last_label.get(c, "")
            elif t:
                last_label[c] = t
                for later in range(c + 1, n_label):  # a new group resets what it covered
                    last_label.pop(later, None)
            if t:
                parts.append(clean_label(t))
        label = " / ".join(p for p in parts if p)
        cells = [Cell.from_text(*texts[c]) if texts[c] else None for c in data_cols]
        if not label and not any(cells):
            continue
        table_rows.append((label, cells))
    return drop_empty_columns(Table(number=number, caption=caption, page=None, columns=names,
                                    rows=table_rows, source="latex"))


def merge_tables(parts: list[Table]) -> Table:
    """Stacked subtables of one float as one table: side by side when they share their rows
    (each holds other columns of the same runs), one under the other otherwise."""
    out = parts[0]
    for t in parts[1:]:
        keys_out = _row_keys(out)
        keys_t = _row_keys(t)
        if sorted(keys_out) == sorted(keys_t) and not set(t.columns) & set(out.columns):
            index = {k: i for i, k in enumerate(keys_t)}
            rows = []
            for k, (lab, cells) in zip(keys_out, out.rows):
                rows.append((lab, cells + t.rows[index[k]][1]))
            out = Table(out.number, out.caption, out.page, out.columns + t.columns, rows, out.source)
            continue
        cols = list(out.columns) + [c for c in t.columns if c not in out.columns]
        pos = {c: cols.index(c) for c in cols}
        rows = [(lab, cells + [None] * (len(cols) - len(cells))) for lab, cells in out.rows]
        for lab, cells in t.rows:
            row: list[Cell | None] = [None] * len(cols)
            for col, cell in zip(t.columns, cells):
                row[pos[col]] = cell
            rows.append((lab, row))
        out = Table(out.number, out.caption, out.page, cols, rows, out.source)
    return out


def _row_keys(t: Table) -> list[tuple[str, int]]:
    seen: dict[str, int] = {}
    keys = []
    for lab, _ in t.rows:
        seen[lab] = seen.get(lab, 0) + 1
        keys.append((lab, seen[lab]))
    return keys


_ENV_RE = re.compile(r"\\begin\{(table\*?|sidewaystable\*?|wraptable|longtable)\}")


def _longtable_body(body: str) -> str:
    """A longtable's rows once: its first head and its body, without the repeated head and feet."""
    marks = list(re.finditer(r"\\end(firsthead|head|foot|lastfoot)\b", body))
    if not marks:
        return body
    first = next((m for m in marks if m.group(1) == "firsthead"), None) or marks[0]
    head = body[:first.start()]
    return head + "\\\\" + body[marks[-1].end():]


_TAB_RE = re.compile(r"\\begin\{(tabular\*?|tabularx|tabulary|longtable)\}")


def _find_env_end(tex: str, name: str, start: int) -> int:
    end = tex.find("\\end{" + name + "}", start)
    return len(tex) if end < 0 else end


def parse_latex_tables(tex: str) -> list[Table]:
    """Every captioned table float, numbered in caption order; stacked subtables merged."""
    tex = strip_comments(tex)
    macros = collect_macros(tex)
    bib = bibliography(tex)
    tables: list[Table] = []
    last_end = 0
    for env in _ENV_RE.finditer(tex):
        if env.start() < last_end:
            continue  # inside the float just read
        end = last_end = _find_env_end(tex, env.group(1), env.end())
        block = render_citations(expand_macros(tex[env.end():end], macros), bib)
        cap = re.search(r"\\caption\*?\s*(?:\[[^\]]*\])?\s*\{", block)
        if not cap:
            continue  # uncaptioned floats are not numbered Tables
        cap_text, cap_end = read_group(block, cap.end() - 1)
        caption = latex_to_text(cap_text)[0]
        number = str(len(tables) + 1)
        if env.group(1) == "longtable":  # a table that is its own float: caption row and repeats out
            spec_args, body_start = _args(block, 0, 1)
            body = block[body_start:cap.start()] + block[cap_end:]
            body = _longtable_body(body)
            rows, rules = parse_tabular(body, spec_args[-1])
            table = grid_to_table(rows, rules, number, caption)
            table.image_only = not table.rows
            tables.append(table)
            continue
        for caption_, part in _captioned_parts(block):
            tables.append(_tabulars_to_table(part, str(len(tables) + 1), latex_to_text(caption_)[0]))
    return tables


_CAPTION = re.compile(r"\\caption\*?\s*(?:\[[^\]]*\])?\s*\{")


def _captioned_parts(block: str) -> list[tuple[str, str]]:
    """(caption, text) of each numbered table in one float: one, or one per minipage that has
    its own caption (tables side by side). Captions of subtables are sub-captions."""
    block = re.sub(r"\\begin\{sub(?:table|figure)\}.*?\\end\{sub(?:table|figure)\}",
                   lambda m: m.group(0).replace("\\caption", "\\subcaption"), block, flags=re.S)
    caps = list(_CAPTION.finditer(block))
    if not caps:
        return []
    if len(caps) > 1:
        parts: list[tuple[int, str, str]] = []
        used: list[tuple[int, int]] = []
        for mp in re.finditer(r"\\begin\{minipage\}", block):
            if used and mp.start() < used[-1][1]:
                continue
            end = _find_env_end(block, "minipage", mp.end())
            inner = block[mp.end():end]
            cap = _CAPTION.search(inner)
            if cap and _TAB_RE.search(inner):
                parts.append((mp.start(), read_group(inner, cap.end() - 1)[0], inner))
                used.append((mp.start(), end))
        if parts:
            outside = "".join(block[a:b] for a, b in zip([0] + [e for _, e in used], [s for s, _ in used] + [len(block)]))
            free = [c for c in caps if not any(a <= c.start() < b for a, b in used)]
            if free and _TAB_RE.search(outside):
                cap_text = read_group(block, free[0].end() - 1)[0]
                parts.append((free[0].start(), cap_text, outside))
            return [(c, t) for _, c, t in sorted(parts)]
    return [(read_group(block, caps[0].end() - 1)[0], block)]


def _tabulars_to_table(block: str, number: str, caption: str) -> Table:
    """Every tabular of a float's text as one table (stacked subtables merged)."""
    parts: list[Table] = []
    pos = 0
    while (tab := _TAB_RE.search(block, pos)) is not None:
        name = tab.group(1)
        n_spec = 2 if name in ("tabular*", "tabularx", "tabulary") else 1
        spec_args, body_start = _args(block, tab.end(), n_spec)
        body_end = _find_env_end(block, name, body_start)
        rows, rules = parse_tabular(block[body_start:body_end], spec_args[-1])
        part = grid_to_table(rows, rules, number, caption)
        if part.rows:
            parts.append(part)
        pos = body_end + 1
    if not parts:
        return Table(number, caption, None, [], [], "latex", image_only=True)
    return merge_tables(parts)


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", unicodedata.normalize("NFKC", text).lower())


def place_on_pages(tables: list[Table], pages: list[str]) -> None:
    """Fill each LaTeX table's `page` from the PDF's text: the page whose text holds
    "Table N" followed by the caption's first words (either alone as a fallback)."""
    squashed = [_squash(p or "") for p in pages]
    for t in tables:
        if t.page is not None:
            continue
        cap = _squash(t.caption)
        found = None
        for n in (40, 24, 12):
            head = cap[:n]
            if len(head) < min(n, 8):
                continue
            hits = [i for i, p in enumerate(squashed) if f"table{t.number}{head}" in p]
            if not hits:
                hits = [i for i, p in enumerate(squashed) if head in p and f"table{t.number}" in p]
            if hits:
                found = hits[0]
                break
        if found is None and len(cap) >= 24:  # numbered otherwise in print ("Table A1"): the caption alone
            hits = [i for i, p in enumerate(squashed) if cap[:40] in p]
            found = hits[0] if len(hits) == 1 else None
        if found is None:  # "Table 3:" / "Table 3." as a caption start
            rx = re.compile(rf"(?:^|\n)\s*Table\s+{re.escape(t.number)}\s*[:.]", re.I)
            hits = [i for i, p in enumerate(pages) if rx.search(p or "")]
            found = hits[0] if len(hits) == 1 else None
        if found is not None:
            t.page = found + 1
