"""results/<id>/report.md: the paper, its claims judged, ablations, environment, compute, review.

The template is `templates/report.md.j2`; a paper may override parts of it with
`papers/<id>/report.md.j2`, which starts with `{% extends "report.md.j2" %}` and fills blocks
(`discussion` above all; also `intro`, `claims`, `ablations`, `environment`, `compute`,
`review`, ...). The paper's own file is loaded under the name `paper/report.md.j2` so that
its `extends "report.md.j2"` reaches the shipped base and not itself.

Every number comes from the judgement (i.e. from results on disk); the template only lays
them out. Template helpers: filters `num` (4 significant digits), `pval`, `cell` (safe inside
a markdown table cell), `desc` (mean ± std [CI] (n)), `pct`; `v(claim_id)` returns a
ClaimVerdict and `stat(config, metric)` a Describe, for per-paper discussion text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from . import numfmt
from .atomic import atomic_write_text, read_json_dict
from .errors import ReproError
from .results import paper_results_dir
from .stats import Describe
from .verdicts import ClaimVerdict, PaperJudgement

PAPER_TEMPLATE = "paper/report.md.j2"
BASE_TEMPLATE = "report.md.j2"
# env.json keys that differ per run without making the environment different
_PER_RUN_ENV_KEYS = ("seed", "command", "cache_key", "cwd", "hostname")

_ENV_KEYS = ("git", "python", "platform", "packages", "torch_cuda", "cuda_available", "gpu",
             "gpu_count", "torch_threads")


class ReportTemplateError(ReproError):
    """A report template (usually papers/<id>/report.md.j2) does not parse or render."""


# -- formatting ----------------------------------------------------------------------------
# Numbers are written by repro/numfmt.py, as on the site; these names are the templates' filters.
# The report is markdown, read as plain text as often as rendered: an ASCII minus sign.
def num(x: Any, digits: int = 4) -> str:
    return numfmt.fmt(x, digits).replace("−", "-")


def signed(x: Any) -> str:
    return numfmt.signed(x, 4).replace("−", "-")


pval = numfmt.pval
p_is = numfmt.p_rel  # '= 0.004' or '< 0.001', to follow 'p '


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:+.1f}%"


def cell(x: Any) -> str:
    """Text safe inside a markdown table cell: no pipes, no line breaks."""
    s = "" if x is None else str(x)
    return re.sub(r"\s*\n\s*", " ", s).replace("|", "\\|").strip()


def desc(d: Describe | None, *, ci: bool = True) -> str:
    if d is None or d.n == 0:
        return "no finished run" + (f" ({d.n_failed} failed)" if d and d.n_failed else "")
    s = num(d.mean)
    if d.std is not None:
        s += f" ± {num(d.std)}"
    if ci and d.ci_low is not None:
        s += f" [{num(d.ci_low)}, {num(d.ci_high)}]"
    s += f" (n={d.n}" + (f", {d.n_failed} failed" if d.n_failed else "") + ")"
    return s


def source_text(src: dict | None) -> str:
    if not src:
        return ""
    parts = []
    for key, label in (("table", "Table"), ("figure", "Fig."), ("section", "§"), ("equation", "Eq."),
                       ("page", "p."), ("row", "row"), ("column", "col.")):
        val = src.get(key)
        if val not in (None, ""):
            parts.append(f"{label} {val}" if label != "§" else f"§{val}")
    return ", ".join(parts)


def claimed_text(v: ClaimVerdict) -> str:
    c = v.claim
    if v.kind == "value":
        if v.claimed is None:
            return "—"
        s = num(v.claimed) + (f" ± {num(v.claimed_spread)}" if v.claimed_spread is not None else "")
        tol = c.get("tolerance")
        if tol:
            (k, t), = tol.items()
            s += f" (tol. ±{num(t)})" if k == "abs" else f" (tol. ±{num(t * 100)}%)"
        return s
    if v.kind == "comparison":
        rel = c.get("relation_claimed") or c.get("relation")
        sym = {"greater": ">", "less": "<", "better": "better than", "worse": "worse than"}.get(rel)
        if rel == "within":
            return f"|{c['a']} − {c['b']}| ≤ {num(c.get('margin'))}"
        return f"{c.get('a') or '?'} {sym or rel} {c.get('b') or '?'}"
    d = c.get("direction_claimed") or c.get("direction")
    sym = {"decreasing": " > ", "increasing": " < "}.get(d, f" ({d}) ")
    return sym.join(x or "?" for x in c.get("configs") or [])


def reproduced_text(v: ClaimVerdict) -> str:
    if not v.stats:
        return "—"
    if v.kind == "value":
        return desc(next(iter(v.stats.values())))
    return "; ".join(f"{k}: {desc(d, ci=False)}" for k, d in v.stats.items())


def tolerance_text(v: ClaimVerdict) -> str:
    """'±0.02 (claims.yaml)' or '±0.005 (no tolerance: proposed from precision ...)'."""
    if v.tolerance is None:
        return "—"
    return f"±{num(v.tolerance)}" + (f" ({v.tolerance_from})" if v.tolerance_from else "")


def planning_text(v: ClaimVerdict) -> str:
    """Seeds that would decide (value claims), or the power of a comparison."""
    if v.kind == "value":
        if v.verdict != "inconclusive" or v.gap_abs is None:
            return ""
        return (f"~{v.seeds_to_decide} seeds would decide" if v.seeds_to_decide
                else "no number of seeds would decide")
    parts = []
    if v.mde is not None:
        parts.append(f"detectable at 80% power: ≥{num(abs(v.mde), 3)}")
    rel = v.claim.get("relation") if v.kind == "comparison" else (
        "greater" if v.claim.get("direction") == "decreasing" else "less")
    against = v.planned_effect is not None and v.planned_from == "observed" and (
        (v.planned_effect < 0) if rel == "greater" else (v.planned_effect > 0))
    if against:
        parts.append(f"the observed effect {num(v.planned_effect, 3)} goes against the claim")
    elif v.planned_effect is not None:
        what = "claimed" if v.planned_from == "claim" else "observed"
        parts.append(f"{what} effect {num(v.planned_effect, 3)} needs "
                     + (f"{v.seeds_needed} seeds" if v.seeds_needed else "more than 1000 seeds"))
    return ", ".join(parts)


def verdict_text(v: ClaimVerdict) -> str:
    """The verdict, with what keeps it from counting ('supported, cannot fail')."""
    s = v.verdict
    if v.flags and v.verdict in ("reproduced", "supported"):
        s += " (cannot fail: not counted)"
    elif v.flags:
        s += " (flagged)"
    if v.rounds is not None:
        s += f", round {v.rounds}"
    return s


def evidence_text(v: ClaimVerdict) -> str:
    if v.verdict == "not run":
        return cell(v.claim.get("note")) or "no run"
    if v.kind == "value":
        parts = []
        if v.gap_abs is not None:
            parts.append(f"gap {signed(v.gap_abs)}" + (f" ({pct(v.gap_rel)})" if v.gap_rel is not None else ""))
        if v.interval is not None:
            parts.append(f"{100 * (1 - 2 * v.alpha):.3g}% interval of the gap [{num(v.interval[0])}, "
                         f"{num(v.interval[1])}] vs tol. ±{num(v.tolerance)}")
        elif v.tolerance is not None:
            parts.append(f"tol. ±{num(v.tolerance)}")
        plan = planning_text(v)
        if plan:
            parts.append(plan)
        parts.extend(v.flags)
        return ", ".join(parts)
    parts = []
    if v.diff is not None:
        parts.append(f"diff {signed(v.diff)}" + (f" [{num(v.diff_ci[0])}, {num(v.diff_ci[1])}]" if v.diff_ci else ""))
    if v.effect_size is not None:
        parts.append(f"d = {num(v.effect_size, 3)}")
    if v.p_value is not None:
        parts.append(f"p {p_is(v.p_value)}, Holm p {p_is(v.p_adjusted)}")
    if v.kind == "ordering" and v.pairs:
        parts.append(f"{sum(p['verdict'] == 'supported' for p in v.pairs)}/{len(v.pairs)} pairs hold")
    plan = planning_text(v)
    if plan:
        parts.append(plan)
    parts.extend(v.flags)
    return ", ".join(parts) or "n < 2"


def demote_headings(markdown: str, by: int = 2) -> str:
    """Shift ATX headings down so an included file nests under the report's sections."""
    out, fence = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        m = None if fence else re.match(r"^(#{1,6})(\s)", line)
        out.append("#" * min(6, len(m.group(1)) + by) + line[len(m.group(1)):] if m else line)
    return "\n".join(out)


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

    from .templating import jinja_env

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
        "evidence": evidence_text(v), "source": source_text(v.claim.get("source")),
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
        from .errors import ReproError

        raise ReproError(
            f"the report template asks for stat({config!r}, {metric!r}), which the results do not have",
            hint="configs are the paper's config names; metrics are those listed in paper.yaml "
                 "reproduction.metrics",
        ) from None
