"""Executors: `submit(RunSpec) -> Job`, behind which local and cluster execution differ."""

from .base import Executor, Job, JobState

__all__ = ["Executor", "Job", "JobState"]
