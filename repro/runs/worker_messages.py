"""The messages between the local executor (executors/local.py) and its run workers
(worker.py), declared once.

Each worker has its own pipe. Down it go RunSpecs to run, then `STOP` (None): exit. Up it
come `Event`s, `(kind, worker id, fields)`:

    ready         {pid}              imports done; the worker takes runs
    worker_error  {error}            torch/lightning could not be imported: no run can start
    started       {run}              a run began
    progress      {run, epoch, max_epochs}   an epoch began (callbacks.Progress)
    done          {run, summary}     a run ended; its summary is also on disk

A worker that dies sends nothing: the executor sees its process gone.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, NamedTuple

STOP = None  # sent down instead of a RunSpec: the worker exits between runs


class Kind(str, Enum):
    """An event's kind; compares and prints as its plain name ("ready"), as on the wire before."""

    def __str__(self) -> str:
        return self.value

    READY = "ready"
    WORKER_ERROR = "worker_error"
    STARTED = "started"
    PROGRESS = "progress"
    DONE = "done"


class Event(NamedTuple):
    kind: Kind
    worker: int
    fields: dict[str, Any]
