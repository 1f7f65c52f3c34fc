"""Progress of a sweep: runs done / running / queued, and the epoch of each running one.

On a terminal a live table (rich); in a log or CI, one line per finished run.
"""

from __future__ import annotations

import sys
import time
from typing import Iterable

from .executors.base import Job, JobState


class SweepProgress:
    def __init__(self, jobs: list[Job], *, live: bool | None = None) -> None:
        self.jobs = jobs
        self.t0 = time.monotonic()
        self.live = sys.stdout.isatty() if live is None else live
        self._reported: set[str] = set()
        self._live = None

    def __enter__(self) -> "SweepProgress":
        if self.live:
            from rich.live import Live

            self._live = Live(self._render(), refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(*exc)

    def counts(self) -> tuple[int, int, int]:
        done = sum(j.done for j in self.jobs)
        running = sum(j.state == JobState.RUNNING for j in self.jobs)
        return done, running, len(self.jobs) - done - running

    def headline(self) -> str:
        done, running, queued = self.counts()
        failed = sum(j.done and j.state != JobState.FINISHED for j in self.jobs)
        extra = f", {failed} failed" if failed else ""
        return f"{done}/{len(self.jobs)} done, {running} running, {queued} queued{extra}  [{time.monotonic() - self.t0:.0f} s]"

    def _render(self):
        from rich.table import Table

        t = Table(title=self.headline(), title_justify="left", show_edge=False, pad_edge=False)
        t.add_column("run")
        t.add_column("where")
        t.add_column("epoch", justify="right")
        for j in self.jobs:
            if j.state == JobState.RUNNING:
                ep = f"{j.epoch}/{j.max_epochs}" if j.epoch else "starting"
                t.add_row(j.name, j.where, ep)
        return t

    def update(self, changed: Iterable[Job]) -> None:
        changed = list(changed)
        if self._live is not None:
            self._live.update(self._render())
            for j in changed:
                if j.done and j.name not in self._reported and j.state != JobState.FINISHED:
                    self._reported.add(j.name)
                    self._live.console.print(f"[red]{j.state}[/red] {j.name}: {(j.summary or {}).get('error')}")
            return
        for j in changed:
            if j.done and j.name not in self._reported:
                self._reported.add(j.name)
                s = j.summary or {}
                wall = s.get("wall_time_s")
                took = f" in {wall:.1f} s" if isinstance(wall, (int, float)) else ""
                err = f": {s.get('error')}" if j.state != JobState.FINISHED else ""
                print(f"[{self.headline()}] {j.state} {j.name}{took}{err}", flush=True)
