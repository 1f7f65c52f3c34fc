"""The executor interface (after submitit's `Executor.submit(...) -> Job`)."""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...atomic import atomic_write_json
from ...clock import utc_now
from ..planner import RunSpec
from ...results import RunStatus, Summary, read_summary, summary_of


class JobState(RunStatus):
    """A job's state: its run's status, or `queued` before it starts."""

    QUEUED = "queued"
    DONE = RunStatus.ENDED


@dataclass
class Job:
    spec: RunSpec
    state: str = JobState.QUEUED
    epoch: int | None = None
    max_epochs: int | None = None
    summary: Summary | None = None
    where: str = ""                 # "worker 1 (cpu)", "slurm job 1234_5", ...
    extra_logs: list[str] = field(default_factory=list)  # e.g. the scheduler's stderr file
    job_id: str | None = None       # the scheduler's id (SLURM), None locally
    t_start: float | None = None    # time.monotonic() when it started / ended here (benchmarks)
    t_end: float | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def log_path(self) -> Path:
        return Path(self.spec.run_dir) / "run.log"

    @property
    def done(self) -> bool:
        return self.state in JobState.DONE


class Executor(abc.ABC):
    """Runs RunSpecs somewhere; `poll` drives progress and returns jobs that changed.

    The job lifecycle is the base's (after submitit's `Executor.submit` ->
    `_internal_process_submissions`): `submit` makes the Job and hands it to the backend's
    `_enqueue`; the backend reports a start with `started` and an end with `ended`, which
    records the outcome (the run's summary, or one the run could not write) and calls the
    backend's `_release` once. So every executor reports the same states and timings.
    """

    def submit(self, spec: RunSpec) -> Job:
        job = Job(spec)
        self._enqueue(job)
        return job

    @abc.abstractmethod
    def _enqueue(self, job: Job) -> None:
        """Take a new (queued) job; `poll` starts it when there is room."""

    def _release(self, job: Job) -> None:
        """Give back what `job` held (a worker, devices); called once, when it ends."""

    @abc.abstractmethod
    def poll(self, timeout: float) -> list[Job]: ...

    @abc.abstractmethod
    def shutdown(self) -> None: ...

    def describe(self) -> str:
        return type(self).__name__

    @staticmethod
    def started(job: Job, where: str, t: float | None = None) -> None:
        """`job` began running at `where` (monotonic time `t`, default now)."""
        job.state, job.where = JobState.RUNNING, where
        job.t_start = time.monotonic() if t is None else t

    def ended(self, job: Job, summary: Summary | None = None, *, state: str | None = None,
              error: str | None = None, note_in_log: bool = True) -> Job:
        """`job` ended, with the summary its run wrote (its status is the job's state unless
        `state` says otherwise), or, without one, with `state` and `error`: an outcome the run
        could not write (a time-out, a dead process), recorded in its folder (`mark_job`).
        Returns the job, for the list of changed ones."""
        if summary is not None:
            job.summary = summary
            job.state = state or summary.get("status", JobState.FAILED)
        elif state is not None:
            mark_job(job, state, error or state, note_in_log=note_in_log)
        job.t_end = time.monotonic()
        self._release(job)
        return job


def mark_job(job: Job, status: str, error: str, *, note_in_log: bool = True) -> None:
    """Record an outcome the run could not write itself (killed at a time-out, its worker or
    scheduler job died): the summary keeps what the run had written, with the new status."""
    rdir = Path(job.spec.run_dir)
    old, _ = read_summary(rdir)
    summary: Summary = {
        **(old or {}), **summary_of(job.spec), "status": status, "error": error,
        "ended_at": utc_now(), "final": (old or {}).get("final", {}),
    }
    try:
        rdir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(rdir / "summary.json", summary)
        if note_in_log:
            with open(rdir / "run.log", "a", encoding="utf-8") as fh:
                fh.write(f"[repro] {utc_now()} {status}: {error}\n")
    except OSError:
        pass  # the job's state below still reports it; the disk may be what failed
    job.state, job.summary = status, summary
