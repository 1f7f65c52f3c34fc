"""Build the static results site: `site/index.html` and `site/papers/<id>/index.html`.

Layout of what is written (everything relative, so the folder opens from disk and can be
moved or zipped as a whole):

    site/.repro-site                  marker: this folder is ours to rewrite
    site/index.html                   one line per page, sorted by the share of judged claims held
    site/data.json                    every verdict of every page, for scripts
    site/_index/<key>.json            the page's index row (with its verdicts), so `only=[id]`
                                      rebuilds the index without judging every other paper again
    site/_index/<key>.inputs          digest of the page's inputs (repro.site.freshness)
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
"""

from __future__ import annotations

import json
import math
import os
import re
import hashlib
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..atomic import atomic_write_json, read_json_dict
from ..errors import ReproError
from ..paper import CONFIG_SET_NAME, config_dir_name, find_papers
from ..results import paper_results_dir, results_name, split_results_name
from . import views
from .markdown import render_markdown, safe_url
from . import plots as plots_mod
from ..numfmt import fmt, interval as fmt_interval, pval, signed
from .plots import Drawer, PlotTask, file_key, write_generated
from .runlog import copy_log

MARKER = ".repro-site"
DATA_KEYS = ("id", "paper_id", "config_set", "title", "arxiv_id", "proxy", "tally", "counts", "n_runs",
             "n_failed", "last_run", "error", "verdicts")
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
                _copy(src, dst, results_root)
            for src, dst in page.logs:
                copy_log(src, dst)
            html[key] = paper_tpl.render(**page.context)
            pages.append(page)
    finally:
        drawer.finish()
    # Pages are written once their plots exist: a page never shows up before its images.
    for p in pages:
        folder = site_dir / "papers" / p.pid
        _write_if_changed(folder / "index.html", html[p.pid])
        _write_if_changed(folder / "verdicts.csv", _verdicts_csv(p.verdicts))
        if p.report is not None:
            _write_if_changed(folder / "report.md.txt", p.report)
        _write_if_changed(_cached_row_path(site_dir, p.pid), json.dumps(p.row, sort_keys=True, default=str))

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
    # Every verdict of every page, for scripts (the pages' rows are cached, so this is cheap).
    _write_if_changed(site_dir / "data.json", json.dumps(
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
    row = read_json_dict(_cached_row_path(site_dir, pid))
    return row if row is not None and row.get("id") == pid else None


def _prune(site_dir: Path, keep: set[str]) -> None:
    """Remove pages of papers that no longer exist (only inside our own site folder)."""
    pages = site_dir / "papers"
    if pages.is_dir():
        for d in pages.iterdir():
            if d.is_dir() and d.name not in keep:
                shutil.rmtree(d)
    rows = site_dir / "_index"
    if rows.is_dir():
        for f in [*rows.glob("*.json"), *rows.glob("*.inputs")]:
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


def _copy(src: Path, dst: Path, inside: Path) -> None:
    """Copy a run file into the site unless the copy is current (same size and mtime).

    Only a regular file that really lies inside `inside` (the results folder) is copied: a
    committed run.log that is a symlink (or sits in a linked folder) pointing at a private file
    must never be published.
    """
    try:
        real, root = src.resolve(strict=True), inside.resolve(strict=True)
        if real != root / src.absolute().relative_to(inside.absolute()):
            return  # src, or a folder on its way from the results folder, is a link
    except (OSError, RuntimeError, ValueError):
        return
    try:
        fd = os.open(src, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return  # a FIFO or device would block or never end
        try:
            dt = dst.stat()
            # The copy carries the source's mtime; a cut log is smaller than its source.
            if dt.st_mtime_ns == st.st_mtime_ns and (dt.st_size == st.st_size or st.st_size > MAX_LOG_BYTES):
                return
        except OSError:
            pass
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
    from ..templating import jinja_env

    env = jinja_env(html=True)  # autoescape on: every value from a paper or user is escaped
    env.filters.update(num=fmt, pval=pval, signed=signed, url=_url_segment, hours=_hours, pct=_pct)
    env.globals.update(verdict_class=VERDICT_CLASS, severity=views.SEVERITY)
    return env


def _pct(x: Any) -> str:
    return "—" if x is None else f"{x * 100:.0f}%"


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


def _unique_stem(name: str) -> str:
    """A file-name-safe stem for a metric or config name: not a slug (it keeps case), and the
    hash suffix keeps names apart that a slug would merge."""
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
        # "where" links go to the page of the PDF the claims were read from: the pinned version.
        "pdf_url": f"https://arxiv.org/pdf/{arxiv_id}{version}" if is_arxiv else None,
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
    configs = _configs_view(results, paper.baseline_config if paper is not None else None)
    labels = {c["name"]: c["name"] for c in configs}
    # What a config changes, in words, beside its name wherever a chart names it.
    changes = {c["name"]: ("baseline" if c["is_baseline"] else "; ".join(c["changes"][:2])
                           + ("; …" if len(c["changes"]) > 2 else "")) for c in configs}
    if judgement is not None:
        _plot_tasks(page, out_dir, judgement, results, judged + sanity, rng_of, labels, changes)

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
    group = _group(counts, error)
    set_view = {
        "name": config_set, "dir": config_dir_name(config_set),
        "what": "the GPU-scale set" if config_set == "gpu" else None,
    } if config_set else None
    page.verdicts = [_verdict_record(key, c) for c in claims]
    page.row = {
        "id": key, "paper_id": pid, "config_set": config_set,
        "href": f"papers/{_url_segment(key)}/index.html", "title": view["title"],
        "authors": view["authors_short"], "arxiv_url": view["arxiv_url"], "arxiv_id": view["arxiv_id"],
        "counts": counts, "n_claims": sum(counts.values()), "proxy": proxy, "device_hours": hours,
        "last_run": last_run, "group": group, "n_runs": len(runs), "tally": tally,
        "headline": views.headline(tally),
        "n_failed": sum(r["status"] not in ("finished", "running", "missing") for r in runs),
        "error": str(error) if error else None, "verdicts": page.verdicts,
    }
    seeds = _safe_seeds(paper)
    page.context = {
        "pid": pid, "key": key, "m": view, "proxy": proxy, "error": error, "claims": claims,
        "judged": judged, "sanity": sanity, "not_run": views.not_run_groups(claims), "tally": tally,
        "headline": views.headline(tally), "counts": counts,
        "table": _table_view(judgement, metrics, rng_of, unit_of) if judgement else None,
        "metrics": metrics, "ablations": _ablations_view(judgement) if judgement else [],
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
        "default_href": f"../{_url_segment(pid)}/index.html",
        "set_pages": [] if config_set else [
            {"name": s, "dir": config_dir_name(s), "href": f"../{_url_segment(results_name(pid, s))}/index.html"}
            for s in sets],
    }
    return page


def _verdict_record(key: str, c: dict[str, Any]) -> dict[str, Any]:
    """One claim's verdict for data.json and verdicts.csv (scripts read these)."""
    return {"page": key, "claim": c["id"], "kind": c["kind"], "status": c["status"], "sanity": c["sanity"],
            "metric": c["metric"], "configs": c["configs"], "verdict": c["verdict"], "claimed": c["claimed"],
            "reproduced": "; ".join(c["reproduced"]), "evidence": c["evidence"], "n": c["context"],
            "where": c["where"], "reason": c["reason"]}


def _verdicts_csv(records: list[dict[str, Any]]) -> str:
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


def _configs_view(results, baseline: str | None) -> list[dict[str, Any]]:
    """Each config with what it changes from the baseline (read from its runs' resolved config)."""
    from ..yamlio import load_yaml

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
                "error": _text(s.get("error")) or r.problem,
                "final": {k: fmt(v) for k, v in final.items()},
                "wall": s.get("wall_time_s") if isinstance(s.get("wall_time_s"), (int, float)) else None,
                "device": _text(s.get("device")), "git": _run_git(r.path),
                "device_hours": float(dh) if isinstance(dh, (int, float)) and math.isfinite(dh) else None,
                "ended": _text(s.get("ended_at")), "links": links,
            })
    return runs, {(r["config"], r["seed"]): r["links"] for r in runs}


def _run_git(run_dir: Path) -> dict[str, Any] | None:
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


def _table_view(j, metrics: list[str], rng_of, unit_of) -> list[dict[str, Any]]:
    return [{"config": cfg, "cells": [_d(row.get(m), rng_of(m), unit_of(m)) for m in metrics]}
            for cfg, row in j.table.items()]


def _ablations_view(j) -> list[dict[str, Any]]:
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


def _finals(points: list[dict[str, Any]], claimed: float | None, tol: float | None,
            rng: tuple[float | None, float | None]) -> dict[str, Any]:
    """Final values of a chart's configs as rows on one shared scale (HTML, drawn by CSS):
    mean with its 95% interval (clipped to the metric's range), each seed, the claim's value."""
    from ..numfmt import clip

    xs = [x for p in points for x in (p["lo"], p["hi"], p["mean"], *p["values"]) if x is not None]
    if claimed is not None:
        xs += [claimed - (tol or 0), claimed + (tol or 0)]
    xs = [clip(x, rng) for x in xs if isinstance(x, (int, float)) and math.isfinite(x)]
    if not xs:
        return {"rows": [], "lo": None, "hi": None}
    lo, hi = min(xs), max(xs)
    pad = (hi - lo) * 0.06 or abs(hi) * 0.05 or 0.05
    lo, hi = clip(lo - pad, rng), clip(hi + pad, rng)
    span = (hi - lo) or 1.0

    def pos(x: float | None) -> float | None:
        return None if x is None else round(100 * (clip(x, rng) - lo) / span, 2)

    rows = []
    for i, p in enumerate(points):
        rows.append({"label": p["label"], "note": p.get("note"), "color": i % len(plots_mod.PALETTE), "mean": pos(p["mean"]),
                     "lo": pos(p["lo"]), "hi": pos(p["hi"]), "seeds": [pos(v) for v in p["values"]],
                     "text": (fmt_interval(clip(p["lo"], rng), clip(p["hi"], rng)) if p["lo"] is not None else "")
                     if p["mean"] is not None else "no finished run",
                     "mean_text": fmt(p["mean"]) if p["mean"] is not None else "—", "n": len(p["values"])})
    return {"rows": rows, "lo": fmt(lo, 3), "hi": fmt(hi, 3), "claimed": pos(claimed),
            "band_lo": pos(claimed - tol) if claimed is not None and tol else None,
            "band_hi": pos(claimed + tol) if claimed is not None and tol else None}


def _plot_tasks(page: PaperPage, out_dir: Path, j, results, claims: list[dict[str, Any]], rng_of,
                labels: dict[str, str], changes: dict[str, str] | None = None) -> None:
    """One small multiple per judged claim: its configs' curves and final values (claims on the
    same metric and configs share one). Each claim view gets its figure under `plot`."""
    drawn: dict[str, dict[str, Any]] = {}
    for c in claims:
        usable = [x for x in c["configs"] if x in j.table]
        cfgs = usable[:plots_mod.MAX_SERIES]  # more lines than this cannot be told apart
        m = c["metric"]
        if not cfgs or not m:
            continue
        claimed = tol = None
        if c["kind"] == "value":
            v = j.verdict(c["id"])
            claimed, tol = v.claimed, getattr(v, "tolerance", None)
        name = f"claim-{_unique_stem(m + '|' + '|'.join(cfgs) + '|' + str(claimed) + '|' + str(tol))}"
        if name not in drawn:
            files, points = [], []
            for cfg in cfgs:
                fs = [str(r.path / "metrics.jsonl") for r in sorted(results.finished(cfg), key=lambda r: r.seed)]
                files.append({"name": cfg, "label": labels.get(cfg, cfg), "files": fs})
                d = j.table[cfg].get(m)
                points.append({"name": cfg, "label": labels.get(cfg, cfg), "note": (changes or {}).get(cfg),
                               "mean": d.mean if d is not None and d.n else None,
                               "lo": d.ci_low if d is not None else None, "hi": d.ci_high if d is not None else None,
                               "values": list(getattr(d, "values", []) or []) if d is not None else []})
            payload = {"metric": m, "configs": files, "points": points, "claimed": claimed, "tolerance": tol,
                       "range": list(rng_of(m))}
            key = dict(payload, configs=[[f["name"], f["label"], [file_key(Path(x)) for x in f["files"]]] for f in files])
            path = out_dir / "plots" / f"{name}.svg"
            alt = (f"Learning curves of {m} for {', '.join(cfgs)}: mean over seeds with a 95% band, against "
                   "the training steps evaluated"
                   + (f"; the claimed value {fmt(claimed)} as a dashed line" if claimed is not None else "") + ".")
            page.plots.append(PlotTask(kind="claim", path=path, payload=payload, key=key, alt=alt))
            drawn[name] = {"src": f"plots/{_url_segment(name)}.svg", "alt": alt, "series": len(cfgs),
                           "caption": f"{m}: {', '.join(cfgs)}" + (
                               f" (the first {len(cfgs)} of the claim's {len(usable)} configs)" if len(usable) > len(cfgs) else ""), "finals": _finals(points, claimed, tol, rng_of(m))}
        c["plot"] = drawn[name]


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
