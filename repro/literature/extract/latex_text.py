"""LaTeX as plain text: groups and arguments, macros, citations, symbols, whole-paper prose.

Cells and prose are turned into plain text with the same conventions the PDF extractor
produces (`d_model`, `1.0·10^20`, `88.1 ± 0.4`), so both feed one claims builder; the
paper's prose (`latex_plain_text`) feeds the hyperparameter reader when there is no PDF.
"""

from __future__ import annotations

import re


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


# commands whose text is one of their arguments: name -> (how many arguments, which is the text)
_TEXT_ARG = {"multicolumn": (3, 2), "multirow": (3, 2), "textcolor": (2, 1)}

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
            elif name in _TEXT_ARG:  # one argument is the text, the others layout or colour
                n_args, k = _TEXT_ARG[name]
                args, i = _args(s, i, n_args)
                t, b = latex_to_text(args[k])
                out.append(t)
                bold = bold or b
            elif name in ("textsuperscript", "textsubscript"):  # as `^{..}` / `_{..}` in math
                args, i = _args(s, i, 1)
                t, _ = latex_to_text(args[0])
                out.append(("^" if name == "textsuperscript" else "_") + t.strip())
            elif name == "rule":
                _, i = _args(s, i, 2)
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
