"""The executor interface (after submitit's `Executor.submit(...) -> Job`)."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..planner import RunSpec


class JobState:
    QUEUED, RUNNING = "queued", "running"
    FINISHED, FAILED, DIVERGED, TIMEOUT = "finished", "failed", "diverged", "timeout"
    DONE = (FINISHED, FAILED, DIVERGED, TIMEOUT)


@dataclass
class Job:
    spec: RunSpec
    state: str = JobState.QUEUED
    epoch: int | None = None
    max_epochs: int | None = None
    summary: dict[str, Any] | None = None
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

    def result(self) -> dict[str, Any] | None:
        return self.summary


class Executor(abc.ABC):
    """Runs RunSpecs somewhere; `poll` drives progress and returns jobs that changed."""

    @abc.abstractmethod
    def submit(self, spec: RunSpec) -> Job: ...

    @abc.abstractmethod
    def poll(self, timeout: float) -> list[Job]: ...

    @abc.abstractmethod
    def shutdown(self) -> None: ...

    def describe(self) -> str:
        return type(self).__name__
