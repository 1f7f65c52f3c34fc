"""Tables from LaTeX source: `\\begin{table}` + `tabular` with multirow/multicolumn.

Cells are turned into plain text with the same conventions the PDF extractor
produces (`d_model`, `1.0·10^20`, `88.1 ± 0.4`), so both feed one claims builder.
"""

from __future__ import annotations

import re

from .tables import Cell, Table, clean_label, drop_empty_columns
from .numbers import parse_number

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
    "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "ϕ", "varphi": "φ", "chi": "χ",
    "psi": "ψ", "omega": "ω", "Delta": "Δ", "Gamma": "Γ", "Lambda": "Λ", "Sigma": "Σ",
    "Omega": "Ω", "Phi": "Φ", "Theta": "Θ",
}
_SYMBOLS = {
    "cdot": "·", "times": "×", "pm": "±", "mp": "∓", "dagger": "†", "ddagger": "‡",
    "star": "*", "ast": "*", "approx": "≈", "sim": "~", "leq": "≤", "le": "≤", "geq": "≥",
    "ge": "≥", "rightarrow": "→", "to": "→", "uparrow": "↑", "downarrow": "↓", "infty": "∞",
    "checkmark": "✓", "S": "§", "P": "¶", "ldots": "...", "dots": "...", "cdots": "...",
    "%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "", "}": "",
}
# Commands whose (last) argument is dropped entirely.
_DROP_ARG = {
    "cite", "citep", "citet", "citealp", "citeauthor", "citeyear", "ref", "label", "footnote",
    "vspace", "hspace", "phantom", "hphantom", "vphantom", "color", "cellcolor", "rowcolor",
    "footnotemark", "footnotetext", "includegraphics", "setlength", "arraystretch",
}
_BOLD = {"textbf", "mathbf", "bm", "boldsymbol", "mathbfit"}
# Commands that only format: drop the name, keep what follows (their argument, if any).
_FORMAT = {
    "text", "textrm", "mathrm", "emph", "textit", "mathit", "texttt", "mathtt", "textsc", "textsf",
    "mathsf", "mathcal", "mathbb", "operatorname", "underline", "uline", "mbox", "makebox", "makecell",
    "shortstack", "hat", "bar", "tilde", "vec", "widehat", "overline", "ensuremath", "textnormal",
    "small", "footnotesize", "scriptsize", "tiny", "large", "Large", "LARGE", "normalsize", "huge",
    "centering", "raggedright", "raggedleft", "noindent", "it", "rm", "sc", "tt", "em", "sf", "itshape",
    "arraybackslash", "relax", "displaystyle", "textstyle", "scriptstyle", "unboldmath", "left",
    "right", "big", "Big", "bigg", "Bigg", "strut", "smallskip", "medskip", "bigskip", "xspace",
    "protect", "nolinebreak", "mathop", "limits", "nolimits", "upshape", "mdseries", "normalfont",
}
# Commands whose first N arguments are sizes/options, followed by the content.
_SKIP_ARGS = {"resizebox": 2, "scalebox": 1, "adjustbox": 1, "parbox": 1, "raisebox": 1}
_RULES = re.compile(
    r"\\(?:hline|toprule|midrule|bottomrule|specialrule\s*\{[^}]*\}\s*\{[^}]*\}\s*\{[^}]*\}"
    r"|cmidrule\s*(?:\([^)]*\))?\s*\{[^}]*\}|cline\s*\{[^}]*\}|addlinespace(?:\s*\[[^\]]*\])?"
    r"|hdashline|Xhline\s*\{[^}]*\}|noalign\s*\{[^}]*\})"
)
_PARTIAL_RULE = re.compile(r"\\(?:cmidrule|cline)")


def read_group(s: str, i: int, open_: str = "{", close: str = "}") -> tuple[str, int]:
    """Content of the balanced group starting at s[i] == open_, and the index after it."""
    depth = 0
    j = i
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return s[i + 1:j], j + 1
        j += 1
    return s[i + 1:], len(s)


def _skip_ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\n":
        i += 1
    return i


def _args(s: str, i: int, n: int, optional: bool = True) -> tuple[list[str], int]:
    """Read n mandatory {..} arguments (skipping [..] optional ones) from s[i:]."""
    out = []
    while len(out) < n:
        i = _skip_ws(s, i)
        if optional and i < len(s) and s[i] == "[":
            _, i = read_group(s, i, "[", "]")
            continue
        if i < len(s) and s[i] == "{":
            g, i = read_group(s, i)
            out.append(g)
        elif i < len(s):
            out.append(s[i])  # \multirow2*x style single-token arguments
            i += 1
        else:
            out.append("")
    return out, i


def strip_comments(tex: str) -> str:
    return re.sub(r"(?<!\\)%.*", "", tex)


def collect_macros(tex: str) -> dict[str, str]:
    """Argument-free \\newcommand / \\def macros, so `\\dmodel` becomes `d_{\\text{model}}`."""
    macros: dict[str, str] = {}
    for m in re.finditer(r"\\(?:re|provide)?newcommand\*?\s*\{?\\([A-Za-z]+)\}?\s*(\[\d\])?", tex):
        if m.group(2):
            continue
        i = _skip_ws(tex, m.end())
        if i < len(tex) and tex[i] == "{":
            macros[m.group(1)] = read_group(tex, i)[0]
    for m in re.finditer(r"\\def\s*\\([A-Za-z]+)\s*\{", tex):
        macros[m.group(1)] = read_group(tex, m.end() - 1)[0]
    return macros


def expand_macros(s: str, macros: dict[str, str]) -> str:
    if not macros:
        return s
    rx = re.compile(r"\\(" + "|".join(sorted(map(re.escape, macros), key=len, reverse=True)) + r")(?![A-Za-z])")
    for _ in range(5):  # macros may use macros; bounded so a recursive one cannot hang us
        new = rx.sub(lambda m: macros[m.group(1)], s)
        if new == s:
            break
        s = new
    return s


def latex_to_text(s: str) -> tuple[str, bool]:
    """Plain text of a LaTeX fragment and whether it is set in bold."""
    bold = False
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+)\*?|\\(.)", s[i:], re.S)
            if m is None:  # a lone backslash at the very end: nothing to typeset
                break
            name = m.group(1) or m.group(2)
            i += m.end()
            if name in ("\\", "newline", "linebreak", "par"):
                out.append(" ")
                i = _skip_ws(s, i)
                if i < len(s) and s[i] == "[":
                    _, i = read_group(s, i, "[", "]")
            elif name in (",", ";", ":", " ", "quad", "qquad", "enspace", "thinspace"):
                out.append(" ")
            elif name == "!":
                pass
            elif name in ("boldmath", "bf", "bfseries"):
                bold = True
            elif name in _BOLD:
                args, i = _args(s, i, 1)
                t, _ = latex_to_text(args[0])
                out.append(t)
                bold = True
            elif name in ("multicolumn",):
                args, i = _args(s, i, 3)
                t, b = latex_to_text(args[2])
                out.append(t)
                bold = bold or b
            elif name in ("multirow",):
                args, i = _args(s, i, 3)
                t, b = latex_to_text(args[2])
                out.append(t)
                bold = bold or b
            elif name == "rule":
                _, i = _args(s, i, 2)
            elif name == "textcolor":
                args, i = _args(s, i, 2)
                t, b = latex_to_text(args[1])
                out.append(t)
                bold = bold or b
            elif name in _DROP_ARG:
                j = _skip_ws(s, i)
                while j < len(s) and s[j] in "[{":
                    _, j = read_group(s, j, s[j], "]" if s[j] == "[" else "}")
                    j = _skip_ws(s, j) if j < len(s) and s[j:j + 1].isspace() and s[_skip_ws(s, j):_skip_ws(s, j) + 1] in "[{" else j
                i = j
            elif name in _GREEK:
                out.append(_GREEK[name])
            elif name in _SYMBOLS:
                out.append(_SYMBOLS[name])
            elif name in _SKIP_ARGS:
                _, i = _args(s, i, _SKIP_ARGS[name])
            elif name not in _FORMAT and m.group(1):
                # an unknown macro (e.g. \dmodel defined in a file we do not have): its name
                # is the best text we can give
                out.append(name)
        elif c == "$":
            i += 1
        elif c in "{}":
            i += 1
        elif c == "~":
            out.append(" ")
            i += 1
        elif c in "^_":
            j = _skip_ws(s, i + 1)
            if j < len(s) and s[j] == "{":
                g, j = read_group(s, j)
                t, b = latex_to_text(g)
            elif j < len(s) and s[j] == "\\":
                m = re.match(r"\\([A-Za-z]+)", s[j:])
                if m:
                    t, b = latex_to_text(m.group(0))
                    j += m.end()
                else:
                    t, b = s[j:j + 2], False
                    j += 2
            else:
                t, b = s[j:j + 1], False
                j += 1
            out.append(c + t.strip())
            i = j
        else:
            out.append(c)
            i += 1
    text = re.sub(r"\s+", " ", "".join(out)).strip()
    text = re.sub(r"(?<=[\d)])\s*([·×])\s*(?=\d)", r"\1", text)  # "1.0 · 10^20" -> "1.0·10^20"
    return text, bold


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
        rowspan = max(1, abs(int(mr.group(1))))
    text, bold = latex_to_text(inner)
    return text, bold, colspan, rowspan


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


def grid_to_table(rows: list[list[_GridCell | None]], rule_before: list[bool], number: str,
                  caption: str) -> Table:
    n_head = _header_count(rows, rule_before)
    head, body = rows[:n_head], rows[n_head:]
    ncols = len(rows[0]) if rows else 0
    # Column headers: stacked header rows; a part that spans several columns is a group (" / ").
    names: list[str] = []
    for c in range(1, ncols):
        name, prev_group = "", False
        for r in head:
            owner = c
            while owner > 0 and r[owner] is None:
                owner -= 1
            cell = r[owner]
            if cell is None or not cell[0]:
                continue
            text, span = cell[0], cell[2]
            if owner + span <= c:
                continue
            if not name:
                name = text
            else:
                name += (" / " if prev_group else " ") + text
            prev_group = span > 1
        names.append(name)
    # Multirow labels (and other text) fill the rows they span; numbers are not repeated.
    filled: list[list[tuple[str, bool] | None]] = []
    carry: dict[int, tuple[str, bool, int]] = {}
    for r in body:
        out_row: list[tuple[str, bool] | None] = []
        for c, cell in enumerate(r):
            if cell is None:
                out_row.append(None)
                continue
            text, bold, _, rowspan = cell
            if not text and c in carry and carry[c][2] > 0:
                t, b, left = carry[c]
                carry[c] = (t, b, left - 1)
                out_row.append((t, b))
                continue
            if rowspan > 1 and parse_number(text)[0] is None:
                carry[c] = (text, bold, rowspan - 1)
            elif text:
                carry.pop(c, None)
            out_row.append((text, bold) if text else None)
        filled.append(out_row)
    table_rows: list[tuple[str, list[Cell | None]]] = []
    for i, r in enumerate(filled):
        label = clean_label(r[0][0]) if r and r[0] else ""
        cells = [Cell.from_text(x[0], x[1]) if x else None for x in r[1:]]
        if not label and not any(cells):
            continue
        table_rows.append((label, cells))
    return drop_empty_columns(Table(number=number, caption=caption, page=None, columns=names,
                                    rows=table_rows, source="latex"))


_ENV_RE = re.compile(r"\\begin\{(table\*?|sidewaystable\*?|wraptable)\}")
_TAB_RE = re.compile(r"\\begin\{(tabular\*?|tabularx|tabulary|longtable)\}")


def _find_env_end(tex: str, name: str, start: int) -> int:
    end = tex.find("\\end{" + name + "}", start)
    return len(tex) if end < 0 else end


def parse_latex_tables(tex: str) -> list[Table]:
    tex = strip_comments(tex)
    macros = collect_macros(tex)
    tables: list[Table] = []
    for env in _ENV_RE.finditer(tex):
        end = _find_env_end(tex, env.group(1), env.end())
        block = expand_macros(tex[env.end():end], macros)
        cap = re.search(r"\\caption\*?\s*(?:\[[^\]]*\])?\s*\{", block)
        if not cap:
            continue  # uncaptioned floats are not numbered Tables
        caption, _ = latex_to_text(read_group(block, cap.end() - 1)[0])
        number = str(len(tables) + 1)
        tab = _TAB_RE.search(block)
        if not tab:
            tables.append(Table(number, caption, None, [], [], "latex", image_only=True))
            continue
        name = tab.group(1)
        n_spec = 2 if name in ("tabular*", "tabularx", "tabulary") else 1
        spec_args, body_start = _args(block, tab.end(), n_spec)
        body = block[body_start:_find_env_end(block, name, body_start)]
        rows, rules = parse_tabular(body, spec_args[-1])
        table = grid_to_table(rows, rules, number, caption)
        table.image_only = not table.rows
        tables.append(table)
    return tables
