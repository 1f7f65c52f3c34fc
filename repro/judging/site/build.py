"""Build the static results site: `site/index.html` and `site/papers/<id>/index.html`.

Layout of what is written (everything relative, so the folder opens from disk and can be
moved or zipped as a whole):

    site/.repro-site                  marker: this folder is ours to rewrite
    site/index.html                   one line per page, sorted by the share of judged claims held
    site/data.json                    every verdict of every page, for scripts
    site/_index/<key>.json            the page's index row (with its verdicts), so `only=[id]`
                                      rebuilds the index without judging every other paper again
    site/_index/<key>.inputs          digest of the page's inputs (repro.judging.site.freshness)
    site/papers/<key>/index.html      the paper's page
    site/papers/<key>/verdicts.csv    its verdicts; report.md.txt: the full report, linked
    site/papers/<key>/plots/*.svg     one chart per judged claim (+ .sha256 sidecars: redrawn only on change)
    site/papers/<key>/runs/<config>/seed-<n>/{run.log,config.yaml,summary.json,metrics.jsonl}.txt

<key> is `<id>`, or `<id>@<set>` for a config set's page (results/<id>@<set>/, the runs of
papers/<id>/configs-<set>/), linked from the paper's page and with its own row in the index.

A page is keyed by its results folder's name (`<id>` or `<id>@<set>`): the same key names its
folder under site/papers/ and its cached row under site/_index/.

Run files are *copied* into the site rather than linked to ../results:
`--results` and `--out` may point anywhere, and a site that links outside itself breaks as
soon as it is moved or published. They get a `.txt` suffix so a browser shows them instead
of offering a download. A copy is redone only when the source's size or mtime changed.

This module plans and writes the pages; the folder's upkeep is folder.py, the page's tables
tables.py, its claims views.py, its charts plotplan.py (planned) and plots.py (drawn).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import ReproError
from ...numfmt import fmt, pval, signed
from ...paper import CONFIG_SET_NAME, config_dir_name, config_sets, find_papers
from ...results import paper_results_dir, results_name, split_results_name
from . import views
from .folder import (SITE_FORMAT, SiteError, cached_row_path, claim_folder, copy_run_file, load_row, prune,
                     write_if_changed)
from .markdown import render_markdown, url_segment
from .plotplan import plan_plots
from .plots import Drawer, PlotTask
from .runlog import copy_log
from .tables import (ablations_view, configs_view, index_group, meta_view, read_meta, run_git, safe_seeds, table_view,
                     text_or_none, verdict_record, verdicts_csv)

DATA_KEYS = ("id", "paper_id", "config_set", "title", "arxiv_id", "proxy", "tally", "counts", "n_runs",
             "n_failed", "last_run", "error", "verdicts")
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


@dataclass
class PaperPage:
    """One paper's rendered page and what it needs on disk."""

    pid: str
    row: dict[str, Any]
    context: dict[str, Any]
    plots: list[PlotTask] = field(default_factory=list)
    copies: list[tuple[Path, Path]] = field(default_factory=list)  # (source, destination)
    logs: list[tuple[Path, Path]] = field(default_factory=list)    # run logs, copied without banners
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    report: str | None = None


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
    claim_folder(site_dir)
    found = {p.name: p for p in find_papers(papers_dir)}
    keys = _page_keys(found, results_root)  # page key -> (paper id, config set or None)
    if only:
        unknown = [i for i in only if i not in keys]
        if unknown:
            nor = " (nor a results/<id>@<set>/ folder)" if any("@" in i for i in unknown) else ""
            raise SiteError(f"no paper folder for {', '.join(unknown)} under {papers_dir}{nor}", where=str(papers_dir),
                            hint="give paper ids as they appear under papers/ (e.g. 1611.03530), or <id>@<set> "
                                 "for a config set with results")
        wanted: set[str] = set()
        for i in only:
            pid, config_set = keys[i]
            wanted.add(pid)  # the paper's page links to its sets' pages
            wanted |= {i} if config_set else {k for k, (p, _) in keys.items() if p == pid}
        # Pages never rendered before (or whose cached row is unreadable) are built too,
        # so the index never links to nothing.
        targets = [k for k in keys if k in wanted or load_row(site_dir, k) is None
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
                copy_run_file(src, dst, results_root)
            for src, dst in page.logs:
                copy_log(src, dst)
            html[key] = paper_tpl.render(**page.context)
            pages.append(page)
    finally:
        drawer.finish()
    # Pages are written once their plots exist: a page never shows up before its images.
    for p in pages:
        folder = site_dir / "papers" / p.pid
        write_if_changed(folder / "index.html", html[p.pid])
        write_if_changed(folder / "verdicts.csv", verdicts_csv(p.verdicts))
        if p.report is not None:
            write_if_changed(folder / "report.md.txt", p.report)
        write_if_changed(cached_row_path(site_dir, p.pid), json.dumps(p.row, sort_keys=True, default=str))

    rows = {p.pid: p.row for p in pages}
    for key in keys:
        if key not in rows:
            rows[key] = load_row(site_dir, key) or {}
    if not only:
        prune(site_dir, set(keys))
    # How verdicts are made and how often they are wrong (bench/verdict_calibration.py's figures).
    write_if_changed(site_dir / "verdicts.html", env.get_template("site/verdicts.html.j2").render(
        calibration=VERDICT_CALIBRATION))
    index = site_dir / "index.html"
    write_if_changed(index, env.get_template("site/index.html.j2").render(
        **_index_context(rows, papers_dir, results_root, n_papers=len(found))))
    # Every verdict of every page, for scripts (the pages' rows are cached, so this is cheap).
    write_if_changed(site_dir / "data.json", json.dumps(
        {"format": SITE_FORMAT, "pages": [{k: rows[key].get(k) for k in DATA_KEYS} for key in sorted(rows)]},
        indent=1, sort_keys=True, default=str, ensure_ascii=False) + "\n")
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


# -- templates ---------------------------------------------------------------------------------
def _jinja():
    from ...templating import jinja_env

    env = jinja_env(html=True)  # autoescape on: every value from a paper or user is escaped
    env.filters.update(num=fmt, pval=pval, signed=signed, url=url_segment, hours=_hours, pct=_pct)
    env.globals.update(verdict_class=VERDICT_CLASS, severity=views.SEVERITY)
    return env


def _pct(x: Any) -> str:
    return "—" if x is None else f"{x * 100:.0f}%"


def _hours(h: float | None) -> str:
    if h is None:
        return "—"
    if h < 1 / 60:
        return f"{h * 3600:.0f} s"
    if h < 1:
        return f"{h * 60:.1f} min"
    return f"{h:.2f} h"


# -- one paper --------------------------------------------------------------------------------


def _paper_page(root: Path, results_root: Path, site_dir: Path, *, config_set: str | None = None,
                sets: list[str] | tuple[str, ...] = ()) -> PaperPage:
    """One page: the paper's default config set, or (config_set) one of its other sets.

    sets: the paper's config sets that have pages, linked from the default page.
    """
    from ...paper import load_paper
    from ...results import load_results

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
    meta = paper.meta if paper is not None else read_meta(root)
    view = meta_view(pid, meta)
    proxy = text_or_none(((meta.get("reproduction") or {}) if isinstance(meta.get("reproduction"), dict) else {}).get("proxy"))
    proxy = proxy.rstrip(". ") if proxy else proxy  # the page ends the sentence itself

    page = PaperPage(pid=key, row={}, context={})
    runs, run_links = _runs_view(results, results_root, pid, out_dir, page)
    metrics = [m.name for m in paper.metrics] if paper is not None and error is None else []
    metric_specs = ((meta.get("reproduction") or {}).get("metrics")
                    if isinstance(meta.get("reproduction"), dict) else None)
    rng_of = views.metric_ranges(metric_specs, judgement.table if judgement else {})
    unit_of = views.metric_units(metric_specs)
    claims = [views.claim_view(i, v, proxy=bool(proxy), pdf_url=view["pdf_url"], rng_of=rng_of, unit_of=unit_of)
              for i, v in enumerate(judgement.verdicts, 1)] if judgement else []
    judged = sorted((c for c in claims if c["verdict"] != "not run" and not c["sanity"]),
                    key=lambda c: (c["severity"], c["n"]))
    sanity = [c for c in claims if c["sanity"] and c["verdict"] != "not run"]
    tally = views.tally(claims)
    counts = dict(judgement.counts) if judgement else {}
    hours = sum(judgement.device_hours.values()) if judgement else sum(
        (r["device_hours"] or 0.0) for r in runs)
    last_run = judgement.last_run if judgement else None
    configs = configs_view(results, paper.baseline_config if paper is not None else None)
    labels = {c["name"]: c["name"] for c in configs}
    # What a config changes, in words, beside its name wherever a chart names it.
    changes = {c["name"]: ("baseline" if c["is_baseline"] else "; ".join(c["changes"][:2])
                           + ("; …" if len(c["changes"]) > 2 else "")) for c in configs}
    if judgement is not None:
        plan_plots(page.plots, out_dir, judgement, results, judged + sanity, rng_of, labels, changes)

    report_md = paper_results_dir(results_root, pid, config_set) / "report.md"
    sections: dict[str, str] = {}
    report_text = None
    if report_md.is_file():
        try:
            report_text = report_md.read_text(encoding="utf-8")
            sections = views.report_sections(report_text)
        except (OSError, UnicodeDecodeError):
            report_text = None
    lifted = {k: render_markdown(v, heading_offset=2) for k, v in sections.items()}
    page.report = report_text

    from ..report import environments

    envs = environments(results_root, pid, config_set)
    dirty = any((e.get("env") or {}).get("git") and (e["env"]["git"] or {}).get("dirty") for e in envs)
    group = index_group(counts, error)
    set_view = {
        "name": config_set, "dir": config_dir_name(config_set),
        "what": "the GPU-scale set" if config_set == "gpu" else None,
    } if config_set else None
    page.verdicts = [verdict_record(key, c) for c in claims]
    page.row = {
        "id": key, "paper_id": pid, "config_set": config_set,
        "href": f"papers/{url_segment(key)}/index.html", "title": view["title"],
        "authors": view["authors_short"], "arxiv_url": view["arxiv_url"], "arxiv_id": view["arxiv_id"],
        "counts": counts, "n_claims": sum(counts.values()), "proxy": proxy, "device_hours": hours,
        "last_run": last_run, "group": group, "n_runs": len(runs), "tally": tally,
        "headline": views.headline(tally),
        "n_failed": sum(r["status"] not in ("finished", "running", "missing") for r in runs),
        "error": str(error) if error else None, "verdicts": page.verdicts,
    }
    seeds = safe_seeds(paper)
    page.context = {
        "pid": pid, "key": key, "m": view, "proxy": proxy, "error": error, "claims": claims,
        "judged": judged, "sanity": sanity, "not_run": views.not_run_groups(claims), "tally": tally,
        "headline": views.headline(tally), "counts": counts,
        "table": table_view(judgement, metrics, rng_of, unit_of) if judgement else None,
        "metrics": metrics, "ablations": ablations_view(judgement) if judgement else [],
        "baseline": paper.baseline_config if paper is not None else None, "configs": configs,
        "runs": runs, "run_links": run_links,
        "failures": [r for r in runs if r["status"] not in ("finished", "running")],
        "environments": envs, "dirty": dirty, "discussion": lifted.get("Discussion"),
        "review": lifted.get("Review"), "has_report": report_text is not None, "device_hours": hours,
        "per_config_hours": dict(judgement.device_hours) if judgement else {},
        "last_run": last_run, "row": page.row, "seeds": seeds,
        "n_seeds": len(seeds),
        "command": f"repro run papers/{pid}" + (f" --config-set {config_set}" if config_set else ""),
        "config_set": set_view,
        "default_href": f"../{url_segment(pid)}/index.html",
        "set_pages": [] if config_set else [
            {"name": s, "dir": config_dir_name(s), "href": f"../{url_segment(results_name(pid, s))}/index.html"}
            for s in sets],
        # Sets in the paper folder with no results anywhere: said, with the command, not left out.
        "unrun_sets": [] if config_set else [
            {"name": s, "dir": config_dir_name(s), "command": f"repro run papers/{pid} --config-set {s}"}
            for s in config_sets(root) if s not in sets],
    }
    return page


def _runs_view(results, results_root: Path, pid: str, out_dir: Path, page: PaperPage):
    runs = []
    for config, recs in results.runs.items():
        for r in sorted(recs, key=lambda r: r.seed):
            s = r.summary or {}
            rel = f"runs/{url_segment(config)}/seed-{r.seed}"
            dst = out_dir / "runs" / config / f"seed-{r.seed}"
            links = {}
            for name in ("config.yaml", "summary.json", "metrics.jsonl"):
                src = r.path / name
                if src.is_file():
                    page.copies.append((src, dst / f"{name}.txt"))
                    links[name] = f"{rel}/{name}.txt"
            if (r.path / "run.log").is_file():
                page.logs.append((r.path / "run.log", dst / "run.log.txt"))
                links["run.log"] = f"{rel}/run.log.txt"
            final = s.get("final") if isinstance(s.get("final"), dict) else {}
            dh = s.get("device_hours")
            runs.append({
                "config": config, "seed": r.seed, "status": r.status,
                "error": text_or_none(s.get("error")) or r.problem,
                "final": {k: fmt(v) for k, v in final.items()},
                "wall": s.get("wall_time_s") if isinstance(s.get("wall_time_s"), (int, float)) else None,
                "device": text_or_none(s.get("device")), "git": run_git(r.path),
                "device_hours": float(dh) if isinstance(dh, (int, float)) and math.isfinite(dh) else None,
                "ended": text_or_none(s.get("ended_at")), "links": links,
            })
    return runs, {(r["config"], r["seed"]): r["links"] for r in runs}


# -- the index --------------------------------------------------------------------------------
def _index_context(rows: dict[str, dict[str, Any]], papers_dir: Path, results_root: Path,
                   n_papers: int | None = None) -> dict[str, Any]:
    """One line per page, sorted by the share of judged claims that held (most held first)."""
    lines = []
    totals = {"judged": 0, "held": 0, "failed": 0, "inconclusive": 0, "candidate": 0, "not_run": 0}
    for r in rows.values():
        t = r.get("tally") or {}
        judged = t.get("judged") or 0
        bar = [(name, t.get(name) or 0, 100 * (t.get(name) or 0) / judged if judged else 0)
               for name in ("held", "failed", "inconclusive")]
        lines.append(dict(r, tally=t, bar=bar, share=t.get("share_held")))
        if not r.get("config_set"):  # the same claims judged again on another config set: counted once
            for k in totals:
                totals[k] += t.get(k) or 0
    lines.sort(key=lambda r: (r["error"] is None, r["share"] if r["share"] is not None else -1, r["id"]),
               reverse=True)
    return {
        "lines": lines, "n_papers": len(rows) if n_papers is None else n_papers, "totals": totals,
        "device_hours": sum(r.get("device_hours") or 0.0 for r in rows.values()),
    }
