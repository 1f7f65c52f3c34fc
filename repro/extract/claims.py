"""Candidate claims (claims.yaml entries) and ablation configs from extracted tables.

Every numeric result cell becomes a `kind: value` claim with `status: candidate`.
A table whose rows vary settings against a base row (like Table 3 of 1706.03762) is an
ablation table: each non-base row becomes a config under configs/ablations/ and its
claims point at that config; its setting columns are settings, not claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .tables import Cell, Table

_BASE_LABELS = {"base", "baseline", "default", "full", "full model", "ours", "reference"}
_ABLATION_WORDS = re.compile(r"\b(ablation|variation|varied|varying|effect of|impact of|sensitivity)", re.I)
_NOT_SETTING = re.compile(r"param|flops|cost|time|speed|memory|#", re.I)


def slug(text: str, sep: str = "-") -> str:
    s = text.lower().replace("×", "x").replace("·", "")
    s = re.sub(r"[^a-z0-9.]+", sep, s).replace(".", sep)
    return re.sub(re.escape(sep) + "+", sep, s).strip(sep)


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", text.lower()).replace(".", "-")


@dataclass
class _RowPlan:
    label: str
    config: str | None        # ablation name, "baseline" for the base row, or None
    settings: dict            # column -> value for varied settings
    description: str


def _is_ablation(table: Table) -> tuple[bool, set[int]]:
    """(is it an ablation table, indices of its setting columns)."""
    if len(table.rows) < 3 or not table.columns:
        return False, set()
    labels = [lab.strip().lower() for lab, _ in table.rows]
    has_base = any(lab in _BASE_LABELS for lab in labels)
    n = len(table.rows)
    filled = [sum(1 for _, cells in table.rows if k < len(cells) and cells[k] is not None) for k in range(len(table.columns))]
    sparse = {k for k, f in enumerate(filled) if f < 0.8 * n}
    if not (has_base and sparse) and not (_ABLATION_WORDS.search(table.caption) and sparse and has_base):
        return False, set()
    settings = {k for k in sparse if not _NOT_SETTING.search(table.columns[k])}
    return bool(settings), settings


def _value(cell: Cell):
    if cell.value is None:
        return cell.text
    return int(cell.value) if float(cell.value).is_integer() and "." not in cell.text else cell.value


def _plan(table: Table) -> tuple[list[_RowPlan], set[int]]:
    ablation, setting_cols = _is_ablation(table)
    plans: list[_RowPlan] = []
    counts: dict[str, int] = {}
    for lab, _ in table.rows:
        counts[lab] = counts.get(lab, 0) + 1
    used: set[str] = set()
    for lab, cells in table.rows:
        if not ablation:
            plans.append(_RowPlan(lab, None, {}, lab))
            continue
        if lab.strip().lower() in _BASE_LABELS:
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
        desc = lab + (": " + ", ".join(f"{c}={v}" for c, v in settings.items()) if settings else "")
        plans.append(_RowPlan(lab, name, settings, desc))
    return plans, setting_cols


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
        plans, setting_cols = _plan(table)
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
    return claims, ablations


def _tolerance(value: float, spread: float | None, text: str) -> dict:
    from ..claims import propose_tolerance

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
