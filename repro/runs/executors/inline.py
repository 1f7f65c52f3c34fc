"""The inline executor: every run in this process, one after the other, output on the terminal.

For debugging a paper's code (after submitit's `DebugExecutor`): `breakpoint()` in model.py
stops in this terminal, and a traceback shows up where the user is looking. The results
folder is the same as a local run's; run.log keeps repro's own lines only, since the run's
output went to the terminal.
"""

from __future__ import annotations

from collections import deque

from .base import Executor, Job, JobState
from .placement import gpus_needed


class InlineExecutor(Executor):
    def __init__(self) -> None:
        self._queue: deque[Job] = deque()

    def describe(self) -> str:
        return "inline: one run at a time in this process (output on the terminal)"

    def _enqueue(self, job: Job) -> None:
        self._queue.append(job)

    def poll(self, timeout: float) -> list[Job]:
        """Run the next queued run to its end (`timeout` does not apply: it blocks)."""
        if not self._queue:
            return []
        job = self._queue.popleft()
        need = gpus_needed(job.spec.values, False)
        if need > 1:  # a DDP run starts one process per device: not something to step through here
            return [self.ended(job, state=JobState.FAILED, note_in_log=False,
                               error=f"needs {need} processes (trainer.devices); --executor inline runs one")]
        from .. import training  # torch and lightning: only once a run starts

        self.started(job, "this process")
        return [self.ended(job, training.execute(job.spec, capture_output=False))]

    def shutdown(self) -> None:
        self._queue.clear()
