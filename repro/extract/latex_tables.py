"""Tables from LaTeX source: `\\begin{table}` + `tabular` with multirow/multicolumn.

Cells are turned into plain text with the same conventions the PDF extractor
produces (`d_model`, `1.0·10^20`, `88.1 ± 0.4`), so both feed one claims builder.
"""

from __future__ import annotations

import re
import unicodedata

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
    "%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}",
}
# Commands whose (last) argument is dropped entirely.
_DROP_ARG = {
    "cite", "citep", "citet", "citealp", "citeauthor", "citeyear", "ref", "label", "footnote",
    "vspace", "hspace", "phantom", "hphantom", "vphantom", "color", "cellcolor", "rowcolor",
    "footnotemark", "footnotetext", "includegraphics", "setlength", "arraystretch",
    "arrayrulecolor", "todo", "eqref", "autoref", "cref", "Cref", "url", "hypersetup",
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
    "num", "tablenum", "thead", "textup", "scshape", "bfseries_", "mathsf", "mathnormal",
}
# Format commands that may take an [option] before their content.
_FORMAT_OPT = {"shortstack", "makecell", "makebox", "mbox", "num", "textcolor"}
# Commands whose first N arguments are sizes/options, followed by the content.
_SKIP_ARGS = {"resizebox": 2, "scalebox": 1, "adjustbox": 1, "parbox": 1, "raisebox": 1, "rotatebox": 1,
              "fontsize": 2}
_RULES = re.compile(
    r"\\(?:(?:hline|toprule|midrule|bottomrule)(?:\s*\[[^\]]*\])?|hhline\s*\{[^}]*\}|specialrule\s*\{[^}]*\}\s*\{[^}]*\}\s*\{[^}]*\}"
    r"|cmidrule\s*(?:\([^)]*\))?\s*\{[^}]*\}|cline\s*\{[^}]*\}|addlinespace(?:\s*\[[^\]]*\])?"
    r"|hdashline(?:\s*\[[^\]]*\])?|Xhline\s*\{[^}]*\}|noalign\s*\{[^}]*\}"
    r"|arrayrulecolor\s*(?:\[[^\]]*\])?\s*\{[^}]*\}|rowcolors?\s*(?:\[[^\]]*\])?(?:\s*\{[^}]*\})+)"
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


_Macro = tuple[int, "str | None", str]  # number of arguments, default of an optional first one, body


def collect_macros(tex: str) -> dict[str, _Macro]:
    """\\newcommand / \\def macros, so `\\dmodel` becomes `d_{\\text{model}}` and
    `\\std{0.4}` (`\\newcommand{\\std}[1]{$\\pm$#1}`) becomes `$\\pm$0.4`."""
    macros: dict[str, _Macro] = {}
    for m in re.finditer(r"\\(?:re|provide)?newcommand\*?\s*\{?\\([A-Za-z]+)\}?\s*(?:\[(\d)\])?\s*", tex):
        i = m.end()
        default = None
        if m.group(2) and i < len(tex) and tex[i] == "[":
            default, i = read_group(tex, i, "[", "]")
            i = _skip_ws(tex, i)
        if i < len(tex) and tex[i] == "{":
            macros[m.group(1)] = (int(m.group(2) or 0), default, read_group(tex, i)[0])
    for m in re.finditer(r"\\def\s*\\([A-Za-z]+)\s*((?:#\d)*)\s*\{", tex):
        macros[m.group(1)] = (len(m.group(2)) // 2, None, read_group(tex, m.end() - 1)[0])
    return macros


def expand_macros(s: str, macros: dict[str, _Macro]) -> str:
    if not macros:
        return s
    rx = re.compile(r"\\(" + "|".join(sorted(map(re.escape, macros), key=len, reverse=True)) + r")(?![A-Za-z])")

    def once(text: str) -> str:
        out, pos = [], 0
        for m in rx.finditer(text):
            if m.start() < pos:
                continue  # inside the arguments of the macro just expanded
            nargs, default, body = macros[m.group(1)]
            i, args = m.end(), []
            if nargs and default is not None:
                j = _skip_ws(text, i)
                if j < len(text) and text[j] == "[":
                    opt, i = read_group(text, j, "[", "]")
                    args.append(opt)
                else:
                    args.append(default)
            if len(args) < nargs:
                more, i = _args(text, i, nargs - len(args), optional=False)
                args += more
            for k, a in enumerate(args, start=1):
                body = body.replace(f"#{k}", a)
            out.append(text[pos:m.start()] + body)
            pos = i
        out.append(text[pos:])
        return "".join(out)

    for _ in range(5):  # macros may use macros; bounded so a recursive one cannot hang us
        new = once(s)
        if new == s or len(new) > 4 * len(s) + 10_000:
            break
        s = new
    return s


_CITE_CMD = re.compile(r"\\(cite|citet|citep|citealp|citealt|citeauthor|citeyear|parencite|textcite)\*?\s*"
                       r"(?:\[[^\]]*\]\s*){0,2}\{([^{}]*)\}")


def bibliography(tex: str) -> dict[str, tuple[str, str, int]]:
    """`\\bibitem`s of a (.bbl) bibliography: key -> (short author text, year, number).

    natbib writes `\\bibitem[Jiang et~al.(2019)Jiang, Huang, ...]{key}`; a numeric style
    writes `\\bibitem{key}` and is cited by its position.
    """
    out: dict[str, tuple[str, str, int]] = {}
    for n, m in enumerate(re.finditer(r"\\bibitem\s*", tex), start=1):
        i = m.end()
        short = year = ""
        if i < len(tex) and tex[i] == "[":
            opt, i = read_group(tex, i, "[", "]")
            om = re.match(r"\s*\{?(.*?)\}?\s*\((\d{4}[a-z]?)\)", opt, re.S)
            if om:
                short, year = latex_to_text(om.group(1))[0], om.group(2)
        i = _skip_ws(tex, i)
        if i < len(tex) and tex[i] == "{":
            key, _ = read_group(tex, i)
            out[key.strip()] = (short, year, n)
    return out


def render_citations(s: str, bib: dict[str, tuple[str, str, int]]) -> str:
    """Citations as the reader sees them: `\\citet{k}` -> `Jiang et al. (2019)`, numeric `[4]`.

    Without a bibliography the command is left for latex_to_text, which drops it.
    """
    if not bib:
        return s

    def one(m: re.Match) -> str:
        keys = [k.strip() for k in m.group(2).split(",") if k.strip()]
        items = [bib[k] for k in keys if k in bib]
        if not items or len(items) < len(keys):
            return m.group(0)
        cmd = m.group(1)
        if not all(short and year for short, year, _ in items):  # numeric style
            return "[" + ", ".join(str(n) for _, _, n in items) + "]"
        if cmd == "citeauthor":
            return ", ".join(a for a, _, _ in items)
        if cmd == "citeyear":
            return ", ".join(y for _, y, _ in items)
        if cmd in ("citep", "parencite"):
            return "(" + "; ".join(f"{a}, {y}" for a, y, _ in items) + ")"
        if cmd in ("citealp",):
            return "; ".join(f"{a}, {y}" for a, y, _ in items)
        return ", ".join(f"{a} ({y})" for a, y, _ in items)

    return _CITE_CMD.sub(one, s)


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
            elif name in ("textsuperscript", "textsubscript"):  # as `^{..}` / `_{..}` in math
                args, i = _args(s, i, 1)
                t, _ = latex_to_text(args[0])
                out.append(("^" if name == "textsuperscript" else "_") + t.strip())
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
            elif name in _FORMAT:
                j = _skip_ws(s, i)
                if name in _FORMAT_OPT and j < len(s) and s[j] == "[":  # \shortstack[c]{..}
                    _, i = read_group(s, j, "[", "]")
            elif m.group(1):
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
    text = re.sub(r"(?<=\d) (?=[kKMBG]$)", "", text)  # siunitx-style "1400\,k" -> "1400k"
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


_NOT_PROSE = ("verbatim", "lstlisting", "minted", "algorithm", "algorithmic", "algorithm2e", "table",
              "table*", "figure", "figure*", "thebibliography", "tikzpicture", "wraptable", "sidewaystable")
_HEADING = re.compile(r"\\(?:part|chapter|section|subsection|subsubsection|paragraph|subparagraph)\*?\s*(?:\[[^\]]*\])?\s*\{")


def latex_plain_text(tex: str) -> str:
    """The prose of a LaTeX document as plain text (paragraphs kept), for the sentence-level
    readers: macros expanded, math as text (`5·10^-2`), listings, floats and the bibliography left out."""
    tex = strip_comments(tex)
    macros = collect_macros(tex)
    begin = tex.find("\\begin{document}")
    end = tex.rfind("\\end{document}")
    body = tex[begin + len("\\begin{document}") if begin >= 0 else 0:end if end > begin else len(tex)]
    for env in _NOT_PROSE:
        body = re.sub(r"\\begin\{" + re.escape(env) + r"\}.*?\\end\{" + re.escape(env) + r"\}", "\n\n", body, flags=re.S)
    body = expand_macros(body, macros)
    out: list[str] = []
    pos = 0
    for m in _HEADING.finditer(body):  # a heading ends the sentence before it
        title, after = read_group(body, m.end() - 1)
        out.append(body[pos:m.start()])
        out.append("\n\n" + title + ".\n\n")
        pos = after
    out.append(body[pos:])
    body = "".join(out).replace("\\item", "\n\n")
    paras = [latex_to_text(p)[0] for p in re.split(r"\n\s*\n", body)]
    return "\n\n".join(p for p in paras if p)
