"""Candidate claims (claims.yaml entries) and ablation configs from extracted tables.

Every numeric result cell becomes a `kind: value` claim with `status: candidate`.
An ablation table is recognised by its shape: a reference row (base, full model, default,
ours, the "with X" of a "without X", a run repeated in each block) and rows that remove, add
or change one thing ("w/o X", "− X", "+ Y", "No X", "X-only", one changed value), or setting
columns filled in only where a row differs (1706.03762's Table 3). Each non-reference row
becomes a config under configs/ablations/ (its value claims point at it), and per metric
column a `kind: comparison` claim against the reference row in the direction the numbers show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...names import slug
from .tables import Cell, Table

_BASE_LABELS = {"base", "baseline", "default", "full", "full model", "ours", "reference"}
_NOT_SETTING = re.compile(r"param|flops|cost|time|speed|memory|#", re.I)

# Shape of an ablation table: a reference row and rows that remove, add or change one thing.
_REFERENCE = re.compile(r"\b(?:full(?: model| method| system)?|default|ours|our (?:model|method|system)|"
                        r"proposed|reference|complete)\b|\(ours\)", re.I)
_REMOVE = re.compile(r"^\s*(?:(?:w/o|without|no|minus|remove)\b|[-−–](?=\s*\S))\s*(?P<x>\S.*)$", re.I)
_ADD = re.compile(r"^\s*(?:\+|w/(?!o)|(?:with|plus|add)\b)\s*(?P<x>\S.*)$", re.I)
_ONLY = re.compile(r"^\s*(?:only\s+(?P<a>\S.*)|(?P<b>\S.*?)[-\s]only)\s*$", re.I)
_STRONG_CUE = re.compile(r"\bablat", re.I)
_WEAK_CUE = re.compile(r"\bdifferent\s+(?!(?:methods?|models?|baselines?|approaches|systems|datasets?|from|than|to|in|for|on|at|with|across)\b)\w+"
                       r"|\b(?:effect|impact|influence|contribution)s? of\b|\bvarying\b|\bvariants?\b|"
                       r"\bvariations?\b|\bsensitivity\b|\bcomponents?\b", re.I)
_LOWER_BETTER = re.compile(r"↓|\b(?:loss|error|err|ppl|perplexity|mse|mae|rmse|wer|cer|fid|time|latency)\b", re.I)


def change_of(label: str) -> tuple[str, str] | None:
    """("remove" | "add" | "only", what) for a row label such as "w/o X", "− X", "+ Y", "X-only"."""
    for kind, rx in (("remove", _REMOVE), ("add", _ADD)):
        m = rx.match(label)
        if m and re.search(r"[^\W\d_]", m.group("x")):
            return kind, m.group("x").strip()
    m = _ONLY.match(label)
    if m:
        return "only", (m.group("a") or m.group("b")).strip()
    return None


def _numbers(cells: list[Cell | None]) -> tuple[float | None, ...]:
    return tuple(c.value if c is not None else None for c in cells)


def _one_factor_pairs(labels: list[str]) -> int:
    """Pairs of rows whose labels differ in one part only (a number, or one of " / " parts)."""
    shapes = [re.sub(r"\d+(?:\.\d+)?", "#", lab) for lab in labels]
    parts = [lab.split(" / ") for lab in labels]
    n = 0
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            if labels[i] != labels[j] and shapes[i] == shapes[j] and "#" in shapes[i]:
                n += 1
            elif len(parts[i]) == len(parts[j]) > 1 and sum(a != b for a, b in zip(parts[i], parts[j])) == 1:
                n += 1
    return n


def _first_metric(table: Table, skip: set[int]) -> int | None:
    return next((k for k in range(len(table.columns)) if k not in skip
                 and any(k < len(c) and c[k] is not None and c[k].value is not None for _, c in table.rows)), None)


def _reference_row(table: Table, changes: list, skip: set[int]) -> int:
    """The row the others are compared with: named so (full model, default, ours), the "with X"
    of a "without X", a run repeated in several blocks, the row before cumulative "+" rows,
    the plain row among "w/o" rows, else the best row on the first metric."""
    labels = [lab for lab, _ in table.rows]
    for i, lab in enumerate(labels):
        if lab.strip().lower() in _BASE_LABELS:
            return i
    for i, lab in enumerate(labels):
        if _REFERENCE.search(lab):
            return i
    removed = {x.lower() for ch in changes if ch and ch[0] == "remove" for x in [ch[1]]}
    for i, ch in enumerate(changes):
        if ch and ch[0] == "add" and ch[1].lower() in removed:
            return i
    seen: dict[tuple, int] = {}
    for i, (_, cells) in enumerate(table.rows):
        nums = _numbers(cells)
        if sum(v is not None for v in nums) >= 2:
            if nums in seen:
                return seen[nums]
            seen[nums] = i
    first_add = next((i for i, ch in enumerate(changes) if ch and ch[0] == "add"), None)
    if first_add and changes[first_add - 1] is None:
        return first_add - 1
    if any(ch and ch[0] == "remove" for ch in changes):
        plain = [i for i, ch in enumerate(changes) if ch is None]
        if plain:
            return plain[0]
    k = _first_metric(table, skip)
    if k is None:
        return 0
    lower = bool(_LOWER_BETTER.search(table.columns[k]))
    scored = [(c[k].value, i) for i, (_, c) in enumerate(table.rows)
              if k < len(c) and c[k] is not None and c[k].value is not None]
    return (min(scored) if lower else max(scored))[1] if scored else 0


def _is_ablation(table: Table) -> tuple[bool, set[int], int | None]:
    """(is it an ablation table, indices of its setting columns, index of its reference row)."""
    if len(table.rows) < 2 or not table.columns:
        return False, set(), None
    labels = [lab.strip().lower() for lab, _ in table.rows]
    has_base = any(lab in _BASE_LABELS for lab in labels)
    n = len(table.rows)
    filled = [sum(1 for _, cells in table.rows if k < len(cells) and cells[k] is not None) for k in range(len(table.columns))]
    sparse = {k for k, f in enumerate(filled) if f < 0.8 * n}
    if n >= 3 and has_base and sparse:  # rows that set some of the columns (1706.03762's Table 3 shape)
        settings = {k for k in sparse if not _NOT_SETTING.search(table.columns[k])}
        if settings:
            return True, settings, next(i for i, lab in enumerate(labels) if lab in _BASE_LABELS)
    names = [lab for lab, _ in table.rows]
    changes = [change_of(lab) for lab in names]
    n_changes = sum(ch is not None for ch in changes)
    runs = [x for x in (_numbers(c) for _, c in table.rows) if sum(v is not None for v in x) >= 2]
    repeated = len(set(runs)) < len(runs)  # the reference run printed again in each block
    named_ref = any(_REFERENCE.search(lab) for lab in names)
    pairs = _one_factor_pairs(names)
    # "default" names a setting, so a default row and rows that change one value are a sweep
    sweep = any(re.search(r"\bdefault\b", lab, re.I) for lab in names) and pairs >= 1
    shape = n_changes >= 2 or (n_changes >= 1 and named_ref) or sweep
    strong = bool(_STRONG_CUE.search(table.caption))
    weak = bool(_WEAK_CUE.search(table.caption)) and (named_ref or repeated or n_changes > 0 or pairs >= max(1, n // 3))
    if not (shape or strong or weak):
        return False, set(), None
    return True, set(), _reference_row(table, changes, set())


_SETTING = re.compile(r"^\s*(?P<k>[^\W\d][\w\s.-]{0,30}?)\s*(?:=|:)\s*(?P<v>[-+]?\d*\.?\d+(?:e[-+]?\d+)?)\s*$", re.I)


def _describe(label: str, reference: str | None) -> dict:
    m = _SETTING.match(label)
    if m:  # "dropout = 0.3", "h: 4": the setting itself, a key the scaffold's model may take
        v = float(m.group("v"))
        return {m.group("k").strip(): int(v) if v.is_integer() and "." not in m.group("v") else v}
    ch = change_of(label)
    if ch is None:
        return {"changes": f"{reference} -> {label}" if reference else label}
    kind, what = ch
    return {{"remove": "removes", "add": "adds", "only": "keeps only"}[kind]: what}


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", text.lower()).replace(".", "-")


@dataclass
class _RowPlan:
    label: str
    config: str | None        # ablation name, "baseline" for the reference row, or None
    settings: dict            # column -> value for varied settings (or the change a row makes)
    description: str


def _value(cell: Cell):
    if cell.value is None:
        return cell.text
    return int(cell.value) if float(cell.value).is_integer() and "." not in cell.text else cell.value


def _plan(table: Table) -> tuple[list[_RowPlan], set[int], int | None]:
    ablation, setting_cols, ref = _is_ablation(table)
    plans: list[_RowPlan] = []
    counts: dict[str, int] = {}
    for lab, _ in table.rows:
        counts[lab] = counts.get(lab, 0) + 1
    used: set[str] = set()
    for i, (lab, cells) in enumerate(table.rows):
        if not ablation:
            plans.append(_RowPlan(lab, None, {}, lab))
            continue
        if i == ref:
            plans.append(_RowPlan(lab, "baseline", {}, lab))
            continue
        settings = {table.columns[k]: _value(cells[k]) for k in sorted(setting_cols)
                    if k < len(cells) and cells[k] is not None}
        parts = [slug(lab)]
        for col, val in settings.items():
            if isinstance(val, str) and not re.search(r"\d", val):
                parts.append(slug(val))
            elif counts[lab] > 1:
                parts.append(_compact(col) + _compact(str(val)))
        name = "-".join(p for p in parts if p)[:60].strip("-") or "row"
        base, k = name, 2
        while name in used or name in ("baseline", "method"):
            name, k = f"{base}-{k}", k + 1
        used.add(name)
        if not settings:
            settings = _describe(lab, table.rows[ref][0] if ref is not None else None)
        desc = lab + (": " + ", ".join(f"{c}={v}" for c, v in settings.items()) if settings else "")
        plans.append(_RowPlan(lab, name, settings, desc))
    return plans, setting_cols, ref


def _claims_and_ablations(tables: list[Table], pages: dict[str, int | None]) -> tuple[list[dict], dict[str, dict]]:
    claims: list[dict] = []
    ablations: dict[str, dict] = {}
    ids: set[str] = set()
    for table in tables:
        page = pages.get(table.number, table.page)
        source = {"table": table.number, "figure": None, "page": page, "row": None, "column": None,
                  "caption": table.caption}
        if table.image_only:
            cid = _unique(f"table{table.number}-image", ids)
            claims.append({"id": cid, "text": f"Table {table.number} has no cell text (drawn as an image)",
                           "source": source, "kind": "value", "config": None, "metric": None,
                           "value": None, "spread": None, "status": "candidate",
                           "note": "table drawn as an image: enter its values by hand"})
            continue
        plans, setting_cols, ref = _plan(table)
        ref_cells = table.rows[ref][1] if ref is not None else []
        for plan, (label, cells) in zip(plans, table.rows):
            if plan.config and plan.config != "baseline":
                ablations.setdefault(plan.config, {"description": plan.description,
                                                   "paper_settings": plan.settings, "claims": []})
            for k, (column, cell) in enumerate(zip(table.columns, cells)):
                if cell is None or cell.value is None or k in setting_cols:
                    continue
                row_part = plan.config if plan.config and plan.config != "baseline" else slug(label) or "row"
                cid = _unique(f"table{slug(table.number)}-{row_part}-{slug(column) or 'col'}", ids)
                claims.append({
                    "id": cid,
                    "text": f"Table {table.number}, {label}: {column} = {cell.text}",
                    "source": {**source, "row": label, "column": column},
                    "kind": "value",
                    "config": plan.config,
                    "metric": slug(column, "_") or "value",
                    "value": cell.value,
                    "spread": cell.spread,
                    # every value claim gets a tolerance, from the printed precision and the paper's ±
                    **_tolerance(cell.value, cell.spread, cell.text),
                    "best": cell.bold,
                    "status": "candidate",
                    "note": None,
                })
                if plan.config and plan.config != "baseline":
                    ablations[plan.config]["claims"].append(cid)
                    comp = _comparison(table, source, plan, ref, k, column, cell, ref_cells, ids)
                    if comp:
                        claims.append(comp)
    return claims, ablations


def _comparison(table: Table, source: dict, plan: _RowPlan, ref: int | None, k: int, column: str,
                cell: Cell, ref_cells: list[Cell | None], ids: set[str]) -> dict | None:
    """`reference row > row` (or <) on one metric column, in the direction the paper's numbers show."""
    if ref is None or k >= len(ref_cells) or ref_cells[k] is None or ref_cells[k].value is None:
        return None
    rv, v = ref_cells[k].value, cell.value
    if rv == v:
        return None
    ref_label = table.rows[ref][0]
    sign = ">" if rv > v else "<"
    cid = _unique(f"table{slug(table.number)}-baseline-vs-{plan.config}-{slug(column) or 'col'}", ids)
    return {
        "id": cid,
        "text": f"Table {table.number}: {ref_label} {sign} {plan.label} on {column} "
                f"({ref_cells[k].text} vs {cell.text})",
        "source": {**source, "row": plan.label, "column": column},
        "kind": "comparison",
        "metric": slug(column, "_") or "value",
        "a": "baseline",
        "b": plan.config,
        "relation": "greater" if rv > v else "less",
        "margin": None,
        "status": "candidate",
        "note": None,
    }
def _tolerance(value: float, spread: float | None, text: str) -> dict:
    from ...claims import propose_tolerance

    tol, how = propose_tolerance(value, spread, text)
    return {"tolerance": {"abs": tol}, "tolerance_from": how}


def _unique(base: str, ids: set[str]) -> str:
    base = re.sub(r"-+", "-", base).strip("-")[:80]
    cid, k = base, 2
    while cid in ids:
        cid, k = f"{base}-{k}", k + 1
    ids.add(cid)
    return cid


def claims_from_tables(tables: list[Table], pdf_tables: list[Table] | None = None) -> list[dict]:
    """claims.yaml entries; values from `tables`, page numbers from the PDF's tables of the same number."""
    pages = {t.number: t.page for t in (pdf_tables or []) if t.page is not None}
    return _claims_and_ablations(tables, pages)[0]


def ablation_configs(tables: list[Table]) -> dict[str, dict]:
    """Ablation name -> {description, paper_settings, claims} for each ablation row."""
    return _claims_and_ablations(tables, {})[1]
