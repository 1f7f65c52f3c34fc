"""The paper page's tables, as plain dicts: its metadata, the config x metric table, ablations,
what each config changes, and the verdict records scripts read (data.json, verdicts.csv).
The claims themselves are views.py's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ...atomic import read_json_dict
from ...errors import ReproError
from ...numfmt import fmt, interval as fmt_interval, pval, signed
from . import views
from .markdown import safe_url


def text_or_none(x: Any) -> str | None:
    if x is None:
        return None
    s = str(x).strip()
    return s or None


def meta_view(pid: str, meta: dict[str, Any]) -> dict[str, Any]:
    authors = meta.get("authors") or []
    if not isinstance(authors, list):
        authors = [authors]
    authors = [str(a.get("name", a)) if isinstance(a, dict) else str(a) for a in authors]
    version = text_or_none(meta.get("version")) or ""
    if not re.fullmatch(r"v\d+", version):
        version = ""
    links = []
    raw_links = meta.get("links") or {}
    if isinstance(raw_links, dict):
        for kind in ("code", "data", "project"):
            vals = raw_links.get(kind) or []
            for u in vals if isinstance(vals, list) else [vals]:
                links.append({"kind": kind, "text": str(u), "url": safe_url(str(u))})
    # arXiv ids are folder names: old-style ids use '_' for '/' (hep-th_9901001).
    arxiv_id = pid.replace("_", "/")
    is_arxiv = bool(re.fullmatch(r"(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})", arxiv_id))
    abstract = text_or_none(meta.get("abstract"))
    return {
        "title": text_or_none(meta.get("title")) or pid,
        "authors": authors,
        "authors_short": ", ".join(authors[:6]) + (" et al." if len(authors) > 6 else ""),
        "abstract": [p.strip() for p in re.split(r"\n\s*\n", abstract)] if abstract else [],
        "arxiv_url": f"https://arxiv.org/abs/{arxiv_id}{version}" if is_arxiv else None,
        # "where" links go to the page of the PDF the claims were read from: the pinned version.
        "pdf_url": f"https://arxiv.org/pdf/{arxiv_id}{version}" if is_arxiv else None,
        "arxiv_id": arxiv_id + version,
        "published": text_or_none(meta.get("published")),
        "categories": [str(c) for c in (meta.get("categories") or []) if c] if isinstance(meta.get("categories"), list) else [],
        "links": links,
    }


def read_meta(paper_root: Path) -> dict[str, Any]:
    from ...yamlio import load_mapping

    try:
        return load_mapping(paper_root / "paper.yaml")
    except ReproError:
        return {}


def verdict_record(key: str, c: dict[str, Any]) -> dict[str, Any]:
    """One claim's verdict for data.json and verdicts.csv (scripts read these)."""
    return {"page": key, "claim": c["id"], "kind": c["kind"], "status": c["status"], "sanity": c["sanity"],
            "metric": c["metric"], "configs": c["configs"], "verdict": c["verdict"], "claimed": c["claimed"],
            "reproduced": "; ".join(c["reproduced"]), "evidence": c["evidence"], "n": c["context"],
            "where": c["where"], "reason": c["reason"]}


def verdicts_csv(records: list[dict[str, Any]]) -> str:
    import csv
    import io

    cols = ["claim", "kind", "status", "sanity", "metric", "configs", "verdict", "claimed", "reproduced",
            "evidence", "n", "where", "reason"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in records:
        w.writerow([" ".join(r[c]) if isinstance(r[c], list) else r[c] for c in cols])
    return buf.getvalue()


def configs_view(results, baseline: str | None) -> list[dict[str, Any]]:
    """Each config with what it changes from the baseline (read from its runs' resolved config)."""
    from ...yamlio import load_yaml

    resolved: dict[str, Any] = {}
    for config, recs in results.runs.items():
        for r in sorted(recs, key=lambda r: r.seed):
            try:
                resolved[config] = load_yaml(r.path / "config.yaml")
                break
            except (ReproError, OSError):
                continue
        else:
            resolved[config] = {}
    return views.config_changes(resolved, baseline)


def safe_seeds(paper) -> list[int]:
    if paper is None:
        return []
    try:
        return list(paper.seeds)
    except ReproError:
        return []


def index_group(counts: dict[str, int], error: ReproError | None) -> str:
    if error is not None:
        return "error"
    if counts.get("not reproduced") or counts.get("contradicted"):
        return "did-not-hold"
    if counts.get("inconclusive"):
        return "inconclusive"
    if counts.get("reproduced") or counts.get("supported"):
        return "held"
    return "not-run"


def run_git(run_dir: Path) -> dict[str, Any] | None:
    """The commit a run was made from (env.json), short, with its dirty flag."""
    env = read_json_dict(run_dir / "env.json")
    g = env.get("git") if env is not None else None
    if not isinstance(g, dict) or not g.get("commit"):
        return None
    return {"commit": str(g["commit"])[:10], "full": str(g["commit"]), "dirty": bool(g.get("dirty"))}


def _d(d, rng=(None, None), unit=(1.0, "")) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"n": d.n, "mean": d.mean, "std": d.std, "ci_low": d.ci_low, "ci_high": d.ci_high,
            "n_failed": d.n_failed, "text": views.describe_text(d, rng=rng, unit=unit),
            "short": views.describe_text(d, ci=False, unit=unit)}


def table_view(j, metrics: list[str], rng_of, unit_of) -> list[dict[str, Any]]:
    return [{"config": cfg, "cells": [_d(row.get(m), rng_of(m), unit_of(m)) for m in metrics]}
            for cfg, row in j.table.items()]


def ablations_view(j) -> list[dict[str, Any]]:
    out = []
    for a in j.ablations:
        sig = a.p_adjusted is not None and a.p_adjusted < 0.05
        stats = {"a": a.stats, "b": a.baseline}
        out.append({
            "config": a.config, "metric": a.metric, "stats": _d(a.stats), "baseline": _d(a.baseline),
            "diff": a.diff, "diff_text": (signed(a.diff) + (" " + fmt_interval(*a.diff_ci) if getattr(a, "diff_ci", None) else ""))
            if a.diff is not None else "—",
            "p_adjusted": a.p_adjusted, "p_text": pval(a.p_adjusted),
            "d_text": fmt(a.effect_size, 2) if views._d_meaningful(stats, a.effect_size) else "—",
            "significant": sig, "better": getattr(a, "better", None), "note": getattr(a, "note", None),
        })
    return out
