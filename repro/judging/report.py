"""results/<id>/report.md: the paper, its claims judged, ablations, environment, compute, review.

The template is `templates/report.md.j2`; a paper may override parts of it with
`papers/<id>/report.md.j2`, which starts with `{% extends "report.md.j2" %}` and fills blocks
(`discussion` above all; also `intro`, `claims`, `ablations`, `environment`, `compute`,
`review`, ...). The paper's own file is loaded under the name `paper/report.md.j2` so that
its `extends "report.md.j2"` reaches the shipped base and not itself.

Every number comes from the judgement (i.e. from results on disk); the template only lays
them out. This module gathers the facts and renders; the words are repro/judging/report_text.py's.
Template helpers: filters `num` (4 significant digits), `pval`, `cell` (safe inside
a markdown table cell), `desc` (mean ± std [CI] (n)), `pct`; `v(claim_id)` returns a
ClaimVerdict and `stat(config, metric)` a Describe, for per-paper discussion text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text, read_json_dict
from ..claims import source_text
from ..errors import ReproError
# The words (numbers, cells, each verdict's texts) are report_text's; re-exported for callers.
from .report_text import (cell, claimed_text, demote_headings, desc, evidence_text, num, p_is, pct, planning_text,
                          pval, reproduced_text, signed, tolerance_text, verdict_text)
from ..results import paper_results_dir
from .verdicts import PaperJudgement

__all__ = ["ReportTemplateError", "cell", "claimed_text", "demote_headings", "desc", "environments", "evidence_text",
           "num", "p_is", "pct", "planning_text", "pval", "read_review", "render_report", "render_report_text",
           "reproduced_text", "signed", "tolerance_text", "verdict_text"]

PAPER_TEMPLATE = "paper/report.md.j2"
BASE_TEMPLATE = "report.md.j2"
# env.json keys that differ per run without making the environment different
_PER_RUN_ENV_KEYS = ("seed", "command", "cache_key", "cwd", "hostname")

_ENV_KEYS = ("git", "python", "platform", "packages", "torch_cuda", "cuda_available", "gpu",
             "gpu_count", "torch_threads")


class ReportTemplateError(ReproError):
    """A report template (usually papers/<id>/report.md.j2) does not parse or render."""




# -- facts gathered from disk --------------------------------------------------------------
def environments(results_root: Path, paper_id: str, config_set: str | None = None) -> list[dict[str, Any]]:
    """Distinct environments the runs executed in, each with the runs that used it."""
    base = paper_results_dir(results_root, paper_id, config_set)
    groups: dict[str, dict[str, Any]] = {}
    for env_file in sorted(base.glob("*/seed-*/env.json")):
        env = read_json_dict(env_file)
        if env is None:
            continue
        shared = {k: v for k, v in env.items() if k not in _PER_RUN_ENV_KEYS}
        for k in _ENV_KEYS:  # templates use StrictUndefined: every key they read exists
            shared.setdefault(k, None)
        if not isinstance(shared["git"], dict):
            shared["git"] = None
        else:
            shared["git"] = {"commit": shared["git"].get("commit"), "dirty": shared["git"].get("dirty")}
        if not isinstance(shared["packages"], dict):
            shared["packages"] = {}
        key = json.dumps(shared, sort_keys=True, default=str)
        g = groups.setdefault(key, {"env": shared, "runs": [], "commands": []})
        g["runs"].append(f"{env_file.parent.parent.name}/{env_file.parent.name}")
        cmd = env.get("command")
        if cmd and cmd not in g["commands"]:
            g["commands"].append(cmd)
    return list(groups.values())


def read_review(paper_root: Path) -> str | None:
    f = Path(paper_root) / "REVIEW.md"
    try:
        text = f.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return demote_headings(text) if text else None


def _env(paper_root: Path):
    import jinja2

    from ..templating import jinja_env

    env = jinja_env(html=False)
    # The paper's file gets its own name so that `extends "report.md.j2"` finds the base.
    env.loader = jinja2.ChoiceLoader([
        jinja2.PrefixLoader({"paper": jinja2.FileSystemLoader(str(paper_root))}),
        env.loader,
    ])
    env.filters.update(num=num, pval=pval, p_is=p_is, pct=pct, cell=cell, desc=desc, signed=signed,
                       source_text=source_text)
    return env


def render_report_text(paper, judgement: PaperJudgement, results_root: Path) -> str:
    import jinja2

    env = _env(paper.root)
    name = PAPER_TEMPLATE if (paper.root / "report.md.j2").is_file() else BASE_TEMPLATE
    all_rows = [{
        "v": v, "claimed": claimed_text(v), "reproduced": reproduced_text(v),
        "evidence": evidence_text(v), "source": source_text(v.claim.source),
        "verdict": verdict_text(v), "tolerance": tolerance_text(v), "planning": planning_text(v),
    } for v in judgement.verdicts]
    rows = [r for r in all_rows if not r["v"].sanity]
    sanity_rows = [r for r in all_rows if r["v"].sanity]
    meta = paper.meta
    version = meta.get("version") or ""
    ctx = {
        "paper": paper,
        "meta": meta,
        "title": paper.title,
        "version": version,
        "authors": meta.get("authors") or [],
        "arxiv_url": f"https://arxiv.org/abs/{paper.id.replace('_', '/')}{version}",
        "proxy": paper.proxy,
        "metrics": paper.metrics,
        "seeds": paper.seeds,
        "baseline": paper.baseline_config,
        "j": judgement,
        "judgement": judgement,
        "rows": rows,
        "sanity_rows": sanity_rows,
        "flagged_rows": [r for r in rows if r["v"].flags],
        "sequential": judgement.sequential,
        "environments": environments(results_root, paper.id, paper.config_set),
        "review": read_review(paper.root),
        "total_device_hours": sum(judgement.device_hours.values()),
        "runs_per_config": {c: len(rs) for c, rs in _runs(results_root, paper.id, paper.config_set).items()},
        "config_set": paper.config_set,
        "configs_dir": paper.configs_dir.name,
        "v": judgement.verdict,
        "stat": lambda config, metric: _table_stat(judgement, config, metric),
    }
    try:
        return env.get_template(name).render(**ctx)
    except jinja2.TemplateError as e:
        raise ReportTemplateError(
            f"report template error: {e.message or e}",
            hint="papers/<id>/report.md.j2 must start with {% extends \"report.md.j2\" %} and may "
            "use the variables listed at the top of templates/report.md.j2",
            where=_template_where(e, paper.root),
        ) from None


def _template_where(e: Exception, paper_root: Path) -> str:
    """file:line of a template error: from the exception, else from the rewritten traceback."""
    lineno = getattr(e, "lineno", None)
    name = getattr(e, "filename", None) or getattr(e, "name", None)
    if not (name and lineno):
        tb = e.__traceback__
        while tb is not None:  # Jinja rewrites frames to point into the template source
            fn = tb.tb_frame.f_code.co_filename
            if fn.endswith(".j2"):
                name, lineno = fn, tb.tb_lineno
            tb = tb.tb_next
    if name and str(name).startswith("paper/"):
        name = str(Path(paper_root) / str(name)[len("paper/"):])
    if name and lineno:
        return f"{name}:{lineno}"
    return str(name or Path(paper_root) / "report.md.j2")


def _runs(results_root: Path, paper_id: str, config_set: str | None = None) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for s in sorted(paper_results_dir(results_root, paper_id, config_set).glob("*/seed-*/summary.json")):
        out.setdefault(s.parent.parent.name, []).append(s.parent)
    return out


def render_report(paper, judgement: PaperJudgement, results_root: Path) -> Path:
    """Render the report and write results/<id>[@<set>]/report.md atomically; returns its path."""
    text = render_report_text(paper, judgement, results_root)
    out = paper_results_dir(results_root, paper.id, paper.config_set) / "report.md"
    atomic_write_text(out, text.rstrip("\n") + "\n")
    return out


def _table_stat(judgement, config: str, metric: str):
    """`stat(config, metric)` for templates: a clear error instead of a KeyError."""
    try:
        return judgement.table[config][metric]
    except KeyError:
        from ..errors import ReproError

        raise ReproError(
            f"the report template asks for stat({config!r}, {metric!r}), which the results do not have",
            hint="configs are the paper's config names; metrics are those listed in paper.yaml "
                 "reproduction.metrics",
        ) from None
