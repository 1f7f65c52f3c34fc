"""Build the static results site: `site/index.html` and `site/papers/<id>/index.html`.

Layout of what is written (everything relative, so the folder opens from disk and can be
moved or zipped as a whole):

    site/.repro-site                  marker: this folder is ours to rewrite
    site/index.html                   every paper, grouped by how its claims fared
    site/_index/<id>.json             the paper's index row, so `only=[id]` rebuilds the
                                      index without judging every other paper again
    site/papers/<id>/index.html       the paper's page
    site/papers/<id>/plots/*.svg      plots (+ .sha256 sidecars: redrawn only on change)
    site/papers/<id>/runs/<config>/seed-<n>/{run.log,config.yaml}.txt
    site/papers/<id>@<set>/...        a config set's page (results/<id>@<set>/, the runs of
                                      papers/<id>/configs-<set>/), linked from the paper's
                                      page and its own row in the index

A page is keyed by its results folder's name (`<id>` or `<id>@<set>`): the same key names its
folder under site/papers/ and its cached row under site/_index/.

Run logs and resolved configs are *copied* into the site rather than linked to ../results:
`--results` and `--out` may point anywhere, and a site that links outside itself breaks as
soon as it is moved or published. They get a `.txt` suffix so a browser shows them instead
of offering a download. A copy is redone only when the source's size or mtime changed.
"""

from __future__ import annotations

import json
import math
import os
import re
import hashlib
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..atomic import atomic_write_json
from ..errors import ReproError
from ..paper import CONFIG_SET_NAME, config_dir_name, find_papers
from ..results import paper_results_dir, results_name, split_results_name
from .markdown import render_markdown, safe_url
from .plots import Drawer, PlotTask, file_key, write_generated

MARKER = ".repro-site"
SITE_FORMAT = 1
MAX_LOG_BYTES = 2_000_000  # a huge log is cut to its tail: the end is where the error is
GROUPS = (
    ("did-not-hold", "Some claims did not hold", "At least one claim was not reproduced or was contradicted."),
    ("inconclusive", "Inconclusive", "No claim failed, but some could not be decided from the seeds run."),
    ("held", "Claims held", "Every claim that was run was reproduced or supported."),
    ("not-run", "Not run yet", "No claim has finished runs to judge it."),
    ("error", "Could not be read", "The paper folder or its claims have a problem; see the page."),
)
VERDICT_CLASS = {
    "reproduced": "ok", "supported": "ok", "not reproduced": "bad", "contradicted": "bad",
    "inconclusive": "warn", "not run": "none",
}


# bench/verdict_calibration.py, recorded in bench/README.md ("Verdict calibration").
VERDICT_CALIBRATION = [
    ("wrong successes, every cell away from the boundary (fixed 3-10 seeds, and sequential)", "≤ 0.012", "≤ 0.05"),
    ("wrong successes at the boundary (true gap = tolerance; true effect 0), pooled", "0.017-0.044 (values 0.042, comparisons 0.039 fixed)", "≤ 0.05"),
    ("wrong successes when both configs sit at the metric's bound", "0", "≤ 0.05"),
    ("wrong failures (not reproduced / contradicted when the claim holds), every cell", "≤ 0.010", "—"),
    ("power at the seeds the report plans (value / comparison claims)", "≥ 0.800 / ≥ 0.802", "≥ 0.8"),
]


class SiteError(ReproError):
    """The site cannot be written where asked."""


@dataclass
class PaperPage:
    """One paper's rendered page and what it needs on disk."""

    pid: str
    row: dict[str, Any]
    context: dict[str, Any]
    plots: list[PlotTask] = field(default_factory=list)
    copies: list[tuple[Path, Path]] = field(default_factory=list)  # (source, destination)


# -- entry point ----------------------------------------------------------------------------
def build_site(papers_dir: str | Path, results_root: str | Path, site_dir: str | Path,
               only: list[str] | None = None, *, jobs: int | None = None) -> Path:
    """Render the site; returns the path of index.html.

    only: rebuild just these papers' pages (what `repro run` does after a sweep); the index
    is rebuilt from every paper's cached row. An id rebuilds the paper's page and its config
    sets' pages; `<id>@<set>` rebuilds that set's page and the paper's page (which links to
    it). jobs: processes for drawing plots (default: the cores available).
    """
    papers_dir, results_root, site_dir = Path(papers_dir), Path(results_root), Path(site_dir)
    _claim(site_dir)
    found = {p.name: p for p in find_papers(papers_dir)}
    keys = _page_keys(found, results_root)  # page key -> (paper id, config set or None)
    if only:
        unknown = [i for i in only if i not in keys]
        if unknown:
            raise SiteError(
                f"no paper folder for {', '.join(unknown)} under {papers_dir}"
                + (" (nor a results/<id>@<set>/ folder)" if any("@" in i for i in unknown) else ""),
                hint="give paper ids as they appear under papers/ (e.g. 1611.03530), or <id>@<set> "
                     "for a config set with results",
                where=str(papers_dir),
            )
        wanted: set[str] = set()
        for i in only:
            pid, config_set = keys[i]
            wanted.add(pid)  # the paper's page links to its sets' pages
            wanted |= {i} if config_set else {k for k, (p, _) in keys.items() if p == pid}
        # Pages never rendered before (or whose cached row is unreadable) are built too,
        # so the index never links to nothing.
        targets = [k for k in keys if k in wanted or _load_row(site_dir, k) is None
                   or not (site_dir / "papers" / k / "index.html").is_file()]
    else:
        targets = list(keys)
    sets_of: dict[str, list[str]] = {}
    for pid, config_set in keys.values():
        if config_set:
            sets_of.setdefault(pid, []).append(config_set)

    env = _jinja()
    paper_tpl = env.get_template("site/paper.html.j2")
    drawer = Drawer(jobs)
    pages: list[PaperPage] = []
    html: dict[str, str] = {}
    try:
        for key in targets:
            # Each paper's stale plots are drawn by the workers while the next paper is judged.
            pid, config_set = keys[key]
            page = _paper_page(found[pid], results_root, site_dir, config_set=config_set,
                               sets=sets_of.get(pid, []))
            drawer.submit(page.plots)
            for src, dst in page.copies:
                _copy(src, dst)
            html[key] = paper_tpl.render(**page.context)
            pages.append(page)
    finally:
        drawer.finish()
    # Pages are written once their plots exist: a page never shows up before its images.
    for p in pages:
        _write_if_changed(site_dir / "papers" / p.pid / "index.html", html[p.pid])
        write_generated(_cached_row_path(site_dir, p.pid), json.dumps(p.row, sort_keys=True, default=str).encode())

    rows = {p.pid: p.row for p in pages}
    for key in keys:
        if key not in rows:
            rows[key] = _load_row(site_dir, key) or {}
    if not only:
        _prune(site_dir, set(keys))
    # How verdicts are made and how often they are wrong (bench/verdict_calibration.py's figures).
    _write_if_changed(site_dir / "verdicts.html", env.get_template("site/verdicts.html.j2").render(
        calibration=VERDICT_CALIBRATION))
    index = site_dir / "index.html"
    _write_if_changed(index, env.get_template("site/index.html.j2").render(
        **_index_context(rows, papers_dir, results_root, n_papers=len(found))))
    return index


def _page_keys(found: dict[str, Path], results_root: Path) -> dict[str, tuple[str, str | None]]:
    """Page key -> (paper id, config set): each paper's page, then one per results/<id>@<set>/."""
    keys: dict[str, tuple[str, str | None]] = {pid: (pid, None) for pid in found}
    try:
        names = sorted(d.name for d in results_root.iterdir() if d.is_dir())
    except OSError:
        names = []
    for name in names:
        pid, config_set = split_results_name(name)
        if name not in found and config_set and pid in found and CONFIG_SET_NAME.fullmatch(config_set):
            keys[name] = (pid, config_set)
    return keys


# -- the site folder --------------------------------------------------------------------------
def _claim(site_dir: Path) -> None:
    """Refuse to write into a folder that is not ours (and not empty): never clobber user files."""
    marker = site_dir / MARKER
    if site_dir.exists() and not site_dir.is_dir():
        raise SiteError(f"{site_dir} exists and is not a folder", hint="choose another --out", where=str(site_dir))
    if site_dir.is_dir() and not marker.is_file() and any(site_dir.iterdir()):
        raise SiteError(
            f"{site_dir} is not empty and was not made by `repro site`",
            hint="give --out an empty or new folder; repro never overwrites files it did not write",
            where=str(site_dir),
        )
    if not marker.is_file():
        atomic_write_json(marker, {"format": SITE_FORMAT, "generator": "repro site"})


def _cached_row_path(site_dir: Path, pid: str) -> Path:
    return site_dir / "_index" / f"{pid}.json"


def _load_row(site_dir: Path, pid: str) -> dict[str, Any] | None:
    try:
        row = json.loads(_cached_row_path(site_dir, pid).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return row if isinstance(row, dict) and row.get("id") == pid else None


def _prune(site_dir: Path, keep: set[str]) -> None:
    """Remove pages of papers that no longer exist (only inside our own site folder)."""
    pages = site_dir / "papers"
    if pages.is_dir():
        for d in pages.iterdir():
            if d.is_dir() and d.name not in keep:
                shutil.rmtree(d)
    rows = site_dir / "_index"
    if rows.is_dir():
        for f in rows.glob("*.json"):
            if f.stem not in keep:
                f.unlink()


def _write_if_changed(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    write_generated(path, data)


def _copy(src: Path, dst: Path) -> None:
    """Copy a run file into the site unless the copy is current (same size and mtime)."""
    try:
        st = src.stat()
    except OSError:
        return
    try:
        dt = dst.stat()
        # The copy carries the source's mtime; a cut log is smaller than its source.
        if dt.st_mtime_ns == st.st_mtime_ns and (dt.st_size == st.st_size or st.st_size > MAX_LOG_BYTES):
            return
    except OSError:
        pass
    with open(src, "rb") as fh:
        if st.st_size > MAX_LOG_BYTES:
            fh.seek(st.st_size - MAX_LOG_BYTES)
            data = _trunc_note(st.st_size) + fh.read(MAX_LOG_BYTES)
        else:
            data = fh.read()
    write_generated(dst, data)
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


def _trunc_note(size: int) -> bytes:
    return f"[repro site: log cut to its last {MAX_LOG_BYTES} of {size:>15} bytes]\n".encode()


# -- templates ---------------------------------------------------------------------------------
def _jinja():
    from ..report import num, pct, pval, signed
    from ..templating import jinja_env

    env = jinja_env(html=True)  # autoescape on: every value from a paper or user is escaped
    env.filters.update(num=num, pval=pval, pct=pct, signed=signed, url=_url_segment,
                       hours=_hours)
    env.globals.update(verdict_class=VERDICT_CLASS, groups=GROUPS)
    return env


def _url_segment(s: Any) -> str:
    return quote(str(s), safe="")


def _hours(h: float | None) -> str:
    if h is None:
        return "—"
    if h < 1 / 60:
        return f"{h * 3600:.0f} s"
    if h < 1:
        return f"{h * 60:.1f} min"
    return f"{h:.2f} h"


def _slug(name: str) -> str:
    """A file-name-safe stem for a metric or config name (hash suffix keeps it unique)."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:40] or "x"
    return f"{base}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


# -- one paper --------------------------------------------------------------------------------
def _text(x: Any) -> str | None:
    if x is None:
        return None
    s = str(x).strip()
    return s or None


def _meta_view(pid: str, meta: dict[str, Any]) -> dict[str, Any]:
    authors = meta.get("authors") or []
    if not isinstance(authors, list):
        authors = [authors]
    authors = [str(a.get("name", a)) if isinstance(a, dict) else str(a) for a in authors]
    version = _text(meta.get("version")) or ""
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
    abstract = _text(meta.get("abstract"))
    return {
        "title": _text(meta.get("title")) or pid,
        "authors": authors,
        "authors_short": ", ".join(authors[:6]) + (" et al." if len(authors) > 6 else ""),
        "abstract": [p.strip() for p in re.split(r"\n\s*\n", abstract)] if abstract else [],
        "arxiv_url": f"https://arxiv.org/abs/{arxiv_id}{version}" if is_arxiv else None,
        "arxiv_id": arxiv_id + version,
        "published": _text(meta.get("published")),
        "categories": [str(c) for c in (meta.get("categories") or []) if c] if isinstance(meta.get("categories"), list) else [],
        "links": links,
    }


def _read_meta(paper_root: Path) -> dict[str, Any]:
    from ..yamlio import load_mapping

    try:
        return load_mapping(paper_root / "paper.yaml")
    except ReproError:
        return {}


def _paper_page(root: Path, results_root: Path, site_dir: Path, *, config_set: str | None = None,
                sets: list[str] | tuple[str, ...] = ()) -> PaperPage:
    """One page: the paper's default config set, or (config_set) one of its other sets.

    sets: the paper's config sets that have pages, linked from the default page.
    """
    from ..paper import load_paper
    from ..results import load_results

    pid = root.name
    key = results_name(pid, config_set)
    out_dir = site_dir / "papers" / key
    error: ReproError | None = None
    paper = judgement = None
    results = load_results(results_root, pid, config_set)
    try:
        paper = load_paper(root, config_set)
        from ..verdicts import judge_paper

        judgement = judge_paper(paper, results)
    except ReproError as e:  # one broken paper must not take the whole site down
        error = e
    meta = paper.meta if paper is not None else _read_meta(root)
    view = _meta_view(pid, meta)
    proxy = _text(((meta.get("reproduction") or {}) if isinstance(meta.get("reproduction"), dict) else {}).get("proxy"))

    page = PaperPage(pid=key, row={}, context={})
    runs, run_links = _runs_view(results, results_root, pid, out_dir, page)
    metrics = [m.name for m in paper.metrics] if paper is not None and error is None else []
    claims = _claims_view(judgement) if judgement else []
    counts = dict(judgement.counts) if judgement else {}
    hours = sum(judgement.device_hours.values()) if judgement else sum(
        (r["device_hours"] or 0.0) for r in runs)
    last_run = judgement.last_run if judgement else None

    figures: list[dict[str, Any]] = []
    if judgement is not None:
        figures = _plot_tasks(page, out_dir, judgement, results, metrics, claims)

    report_md = paper_results_dir(results_root, pid, config_set) / "report.md"
    report_html = None
    if report_md.is_file():
        try:
            report_html = render_markdown(report_md.read_text(encoding="utf-8"), heading_offset=1)
        except (OSError, UnicodeDecodeError):
            report_html = None

    from ..report import environments

    envs = environments(results_root, pid, config_set)
    group = _group(counts, error)
    set_view = {
        "name": config_set, "dir": config_dir_name(config_set),
        "what": "the GPU-scale set" if config_set == "gpu" else None,
    } if config_set else None
    page.row = {
        "id": key, "paper_id": pid, "config_set": config_set,
        "href": f"papers/{_url_segment(key)}/index.html", "title": view["title"],
        "authors": view["authors_short"], "arxiv_url": view["arxiv_url"], "arxiv_id": view["arxiv_id"],
        "counts": counts, "n_claims": sum(counts.values()), "proxy": proxy, "device_hours": hours,
        "last_run": last_run, "group": group, "n_runs": len(runs),
        "n_failed": sum(r["status"] not in ("finished", "running", "missing") for r in runs),
        "error": str(error) if error else None,
    }
    page.context = {
        "pid": pid, "m": view, "proxy": proxy, "error": error, "claims": claims, "counts": counts,
        "verdict_order": [v for v in VERDICT_CLASS], "table": _table_view(judgement, metrics) if judgement else None,
        "metrics": metrics, "ablations": _ablations_view(judgement) if judgement else [],
        "baseline": paper.baseline_config if paper is not None else None,
        "figures": figures, "runs": runs, "run_links": run_links,
        "failures": [r for r in runs if r["status"] not in ("finished", "running")],
        "environments": envs, "report_html": report_html, "device_hours": hours,
        "per_config_hours": dict(judgement.device_hours) if judgement else {},
        "last_run": last_run, "row": page.row, "seeds": _safe_seeds(paper),
        "command": f"repro run papers/{pid}" + (f" --config-set {config_set}" if config_set else ""),
        "config_set": set_view,
        "default_href": f"../{_url_segment(pid)}/index.html",
        "set_pages": [] if config_set else [
            {"name": s, "dir": config_dir_name(s), "href": f"../{_url_segment(results_name(pid, s))}/index.html"}
            for s in sets],
    }
    return page


def _safe_seeds(paper) -> list[int]:
    if paper is None:
        return []
    try:
        return list(paper.seeds)
    except ReproError:
        return []


def _group(counts: dict[str, int], error: ReproError | None) -> str:
    if error is not None:
        return "error"
    if counts.get("not reproduced") or counts.get("contradicted"):
        return "did-not-hold"
    if counts.get("inconclusive"):
        return "inconclusive"
    if counts.get("reproduced") or counts.get("supported"):
        return "held"
    return "not-run"


def _runs_view(results, results_root: Path, pid: str, out_dir: Path, page: PaperPage):
    runs = []
    for config, recs in results.runs.items():
        for r in sorted(recs, key=lambda r: r.seed):
            s = r.summary or {}
            rel = f"runs/{_url_segment(config)}/seed-{r.seed}"
            links = {}
            for name in ("run.log", "config.yaml"):
                src = r.path / name
                if src.is_file():
                    page.copies.append((src, out_dir / "runs" / config / f"seed-{r.seed}" / f"{name}.txt"))
                    links[name] = f"{rel}/{name}.txt"
            final = s.get("final") if isinstance(s.get("final"), dict) else {}
            dh = s.get("device_hours")
            runs.append({
                "config": config, "seed": r.seed, "status": r.status,
                "error": _text(s.get("error")) or r.problem, "final": final,
                "wall": s.get("wall_time_s") if isinstance(s.get("wall_time_s"), (int, float)) else None,
                "device": _text(s.get("device")),
                "device_hours": float(dh) if isinstance(dh, (int, float)) and math.isfinite(dh) else None,
                "ended": _text(s.get("ended_at")), "links": links,
            })
    return runs, {(r["config"], r["seed"]): r["links"] for r in runs}


def _d(d) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"n": d.n, "mean": d.mean, "std": d.std, "ci_low": d.ci_low, "ci_high": d.ci_high,
            "n_failed": d.n_failed, "values": list(getattr(d, "values", []) or [])}


def _claims_view(j) -> list[dict[str, Any]]:
    from ..report import claimed_text, evidence_text, source_text

    out = []
    for i, v in enumerate(j.verdicts, 1):
        c = v.claim
        stats = {k: _d(d) for k, d in (v.stats or {}).items()}
        out.append({
            "n": i, "id": v.id, "text": _text(c.get("text")), "kind": v.kind, "status": getattr(v, "status", c.get("status")),
            "source": source_text(c.get("source") if isinstance(c.get("source"), dict) else None),
            "caption": _text((c.get("source") or {}).get("caption")) if isinstance(c.get("source"), dict) else None,
            "metric": v.metric, "configs": v.configs, "claimed": claimed_text(v), "claimed_value": v.claimed,
            "claimed_spread": v.claimed_spread, "stats": stats, "gap_abs": v.gap_abs, "gap_rel": v.gap_rel,
            "p_value": v.p_value, "p_adjusted": v.p_adjusted, "effect_size": v.effect_size, "diff": v.diff,
            "diff_ci": v.diff_ci, "verdict": v.verdict, "reason": v.reason, "evidence": evidence_text(v),
            "method": getattr(v, "method", None), "note": _text(c.get("note")),
        })
    return out


def _table_view(j, metrics: list[str]) -> list[dict[str, Any]]:
    return [{"config": cfg, "cells": [_d(row.get(m)) for m in metrics]} for cfg, row in j.table.items()]


def _ablations_view(j) -> list[dict[str, Any]]:
    out = []
    for a in j.ablations:
        sig = a.p_adjusted is not None and a.p_adjusted < 0.05
        out.append({
            "config": a.config, "metric": a.metric, "stats": _d(a.stats), "baseline": _d(a.baseline),
            "diff": a.diff, "diff_ci": getattr(a, "diff_ci", None), "p_value": a.p_value,
            "p_adjusted": a.p_adjusted, "effect_size": a.effect_size, "significant": sig,
            "better": getattr(a, "better", None), "note": getattr(a, "note", None),
        })
    return out


def _plot_tasks(page: PaperPage, out_dir: Path, j, results, metrics: list[str],
                claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The paper's plots: curves and bars per metric, claimed vs reproduced. Returns figure views."""
    figures: list[dict[str, Any]] = []
    configs = list(j.table)

    def add(kind: str, name: str, payload: dict[str, Any], key: Any, alt: str, caption: str) -> None:
        path = out_dir / "plots" / f"{name}.svg"
        page.plots.append(PlotTask(kind=kind, path=path, payload=payload, key=key, alt=alt))
        figures.append({"kind": kind, "src": f"plots/{_url_segment(name)}.svg", "alt": alt, "caption": caption})

    for m in metrics:
        files = [{"name": c, "files": [str(r.path / "metrics.jsonl") for r in sorted(results.finished(c), key=lambda r: r.seed)]}
                 for c in configs]
        files = [f for f in files if f["files"]]
        if files:
            key = {"metric": m, "configs": [[f["name"], [file_key(Path(x)) for x in f["files"]]] for f in files]}
            add("curves", f"curves-{_slug(m)}", {"metric": m, "configs": files}, key,
                f"Learning curves of {m} per epoch for {', '.join(f['name'] for f in files)}: "
                "mean over finished seeds, shaded band ±1 standard deviation.",
                f"Learning curves: {m}")
    for m in metrics:
        bars = []
        for c in configs:
            d = j.table[c].get(m)
            if d is not None and d.n > 0:
                bars.append({"name": c, "mean": d.mean, "ci_low": d.ci_low, "ci_high": d.ci_high,
                             "values": list(d.values)})
        if bars:
            add("bars", f"bars-{_slug(m)}", {"metric": m, "configs": bars}, None,
                f"Bar chart of final {m} per config ({', '.join(b['name'] for b in bars)}): "
                "bar = mean over seeds, error bar = 95% confidence interval, dots = individual seeds.",
                f"Final {m} by config")
    points = []
    for c in claims:
        if c["kind"] != "value" or c["claimed_value"] is None or not c["stats"]:
            continue
        d = next(iter(c["stats"].values()))
        if d is None or d["mean"] is None:
            continue
        points.append({"label": c["n"], "claimed": c["claimed_value"], "spread": c["claimed_spread"],
                       "mean": d["mean"], "ci_low": d["ci_low"], "ci_high": d["ci_high"],
                       "ok": c["verdict"] == "reproduced"})
    if points:
        add("claims", "claims", {"points": points}, None,
            f"Scatter of {len(points)} value claims: claimed value (x) against reproduced mean (y) with "
            "95% intervals; points on the dashed y = x line match the paper. Labels are claim numbers "
            "in the claims table.", "Claimed vs reproduced")
    return figures


# -- the index --------------------------------------------------------------------------------
def _index_context(rows: dict[str, dict[str, Any]], papers_dir: Path, results_root: Path,
                   n_papers: int | None = None) -> dict[str, Any]:
    grouped = []
    for key, title, blurb in GROUPS:
        members = sorted((r for r in rows.values() if r.get("group") == key),
                         key=lambda r: (r.get("last_run") or "", r["id"]), reverse=True)
        if members:
            grouped.append({"key": key, "title": title, "blurb": blurb, "rows": members})
    totals: dict[str, int] = {v: 0 for v in VERDICT_CLASS}
    for r in rows.values():
        if r.get("config_set"):
            continue  # the same claims judged again on another config set: counted once
        for k, n in (r.get("counts") or {}).items():
            totals[k] = totals.get(k, 0) + n
    return {
        "groups_view": grouped, "n_papers": len(rows) if n_papers is None else n_papers, "totals": totals,
        "verdict_order": list(VERDICT_CLASS),
        "device_hours": sum(r.get("device_hours") or 0.0 for r in rows.values()),
        "generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
