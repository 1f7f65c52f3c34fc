"""What `repro status` shows: the state of every planned run of a paper, from either executor.

Reads the results folder, the `repro run` lock (a local sweep in progress) and, for runs sent
to SLURM, results/<id>/.slurm/jobs.json plus `squeue`. Never imports torch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..paper import Paper

# The order states are counted in on the summary line.
STATES = ("queued", "running", "finished", "failed", "diverged", "timeout", "interrupted", "submitted",
          "outdated", "corrupt", "not run")


@dataclass(frozen=True)
class RunState:
    run: str          # config/seed
    state: str        # one of STATES
    where: str        # "local", "slurm <job id>" or ""
    detail: str       # the error and log, the scheduler file, or why it reruns


def run_states(paper: Paper, results_root: Path, only: list[str] | None = None) -> list[RunState]:
    """One row per planned run of `paper` (only: these configs)."""
    from .executors.slurm import job_state, read_jobs, squeue_states
    from .lock import held
    from .planner import CACHED, plan
    from ..results import RunStatus, read_summary, usable_results_dir

    paper_results = usable_results_dir(results_root, paper.id, paper.config_set)
    planned = plan(paper, results_root, only=only)
    jobs = read_jobs(paper_results)
    on_slurm = {r.spec.name: jobs[r.spec.name] for r in planned
                if r.spec.name in jobs and jobs[r.spec.name].get("cache_key") == r.spec.cache_key}
    squeue = squeue_states([v["job_id"] for v in on_slurm.values()]) if on_slurm else {}
    local_alive = held(paper_results)
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
        rows.append(RunState(name, state, where, detail))
    return rows


def summary_line(rows: list[RunState]) -> str:
    """'2 running, 4 finished (6 runs)'."""
    counts = Counter(r.state for r in rows)
    return ", ".join(f"{counts[k]} {k}" for k in STATES if counts[k]) + f" ({len(rows)} runs)"
