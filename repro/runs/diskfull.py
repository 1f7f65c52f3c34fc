"""A full disk during a run: recognising it behind Lightning's and torch's wrappers, saying so,
and still writing the run's final summary (after freeing what the run left half-written).
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_json


def remove_partial_checkpoints(folder: Path) -> None:
    for p in folder.glob(".*.tmp*"):
        with contextlib.suppress(OSError):
            p.unlink()


def disk_full_cause(e: BaseException | None) -> OSError | None:
    """The ENOSPC/EDQUOT error behind `e` (Lightning and torch wrap them), if any."""
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return e
        e = e.__cause__ or e.__context__
        seen += 1
    return None


def is_disk_full(e: BaseException) -> bool:
    return disk_full_cause(e) is not None


def describe_os_error(e: OSError | None) -> str:
    if e is None:
        return "OSError"
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" while writing {e.filename}" if e.filename else ""
        return f"disk full: {os.strerror(e.errno)}{where} (free space on the results disk, then rerun)"
    return f"{type(e).__name__}: {e}"


def write_summary(rdir: Path, summary: dict[str, Any]) -> None:
    """Write the final summary; on a full disk, free what this run left half-written and retry.

    If it still cannot be written the error propagates: the worker reports the run failed
    and the summary on disk still says `running`, which the next sweep redoes.
    """
    try:
        atomic_write_json(rdir / "summary.json", summary)
    except OSError as e:
        if not is_disk_full(e):
            raise
        remove_partial_checkpoints(rdir / "checkpoints")
        atomic_write_json(rdir / "summary.json", summary)
