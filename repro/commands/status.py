"""`repro status papers/<id>`: queued, running, finished and failed runs, from either executor.

Reads the results folder, the `repro run` lock (a local sweep in progress) and, for runs sent
to SLURM, results/<id>/.slurm/jobs.json plus `squeue`. Never imports torch.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click

from .common import config_set_option, paper_argument, results_option, results_root_for, split_names


def _local_sweep_alive(paper_results: Path) -> bool:
    from ..lock import _read, _stale

    info = _read(paper_results / ".lock")
    return bool(info) and not _stale(info)


def run_states(paper_dir: Path, results: str | None = None, only: list[str] | None = None,
               config_set: str | None = None) -> list[dict[str, Any]]:
    """One row per planned run: name, state, where, detail (error, log or scheduler file)."""
    from ..executors.slurm import job_state, read_jobs, squeue_states
    from ..paper import load_paper
    from ..planner import CACHED, plan
    from ..results import RunStatus, read_summary, usable_results_dir

    p = load_paper(paper_dir, config_set)
    results_root = results_root_for(p.root, results)
    paper_results = usable_results_dir(results_root, p.id, p.config_set)
    planned = plan(p, results_root, only=only)
    jobs = read_jobs(paper_results)
    on_slurm = {r.spec.name: jobs[r.spec.name] for r in planned
                if r.spec.name in jobs and jobs[r.spec.name].get("cache_key") == r.spec.cache_key}
    squeue = squeue_states([v["job_id"] for v in on_slurm.values()]) if on_slurm else {}
    local_alive = _local_sweep_alive(paper_results)
    rows = []
    for r in planned:
        name, rdir = r.spec.name, Path(r.spec.run_dir)
        summary, problem = read_summary(rdir)
        status = (summary or {}).get("status")
        slurm = on_slurm.get(name)
        sstate = job_state((squeue or {}).get(slurm["job_id"])) if slurm else None
        where = f"slurm {slurm['job_id']}" if slurm else ("local" if summary else "")
        detail = ""
        if r.action == CACHED:
            state = RunStatus.FINISHED
        elif sstate is not None:
            state = sstate  # queued or running on the cluster
        elif status == RunStatus.RUNNING:
            state = RunStatus.RUNNING if local_alive or (slurm and squeue is None) else "interrupted"
            detail = "resumes from its checkpoint on the next `repro run`" if state == "interrupted" else ""
        elif problem:
            state, detail = RunStatus.CORRUPT, problem
        elif status in (RunStatus.FAILED, RunStatus.DIVERGED, RunStatus.TIMEOUT):
            state = status
            detail = str((summary or {}).get("error") or "")
            detail += f"; log: {rdir / 'run.log'}"
            if slurm:
                detail += f"; scheduler stderr: {slurm.get('stderr')}"
        elif status == RunStatus.FINISHED:
            state, detail = "outdated", "finished with another config or code: reruns"
        elif slurm and squeue is None:
            state, detail = "submitted", "squeue unavailable here"
        elif local_alive:
            state = "queued"
        else:
            state = "not run"
        rows.append({"run": name, "state": state, "where": where, "detail": detail})
    return rows


@click.command("status")
@paper_argument
@click.option("--only", multiple=True, metavar="CONFIG", help="Show only these configs.")
@config_set_option
@results_option
def status(paper: Path, only, config_set, results) -> int:
    """Show every run of PAPER: queued, running, finished, failed (local or SLURM).

    \b
    Examples:
      repro status papers/1611.03530
      repro status papers/1207.0580 --config-set gpu
    """
    rows = run_states(paper, results, split_names(only), config_set)
    width = max((len(r["run"]) for r in rows), default=3)
    for r in rows:
        line = f"  {r['run']:<{width}}  {r['state']:11s} {r['where']:<16s} {r['detail']}".rstrip()
        click.echo(line)
    counts = Counter(r["state"] for r in rows)
    order = ["queued", "running", "finished", "failed", "diverged", "timeout", "interrupted", "submitted",
             "outdated", "corrupt", "not run"]
    click.echo(", ".join(f"{counts[k]} {k}" for k in order if counts[k]) + f" ({len(rows)} runs)")
    return 0
