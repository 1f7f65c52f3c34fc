"""One `repro run` per paper at a time: a lock file in results/<id>/.

The lock holds the owner's pid and host. A lock whose process is gone (killed with -9, the
machine rebooted) is stale and is cleared by the next run.
"""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .clock import utc_now
from .errors import LockError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError):
        return {}  # torn or garbage: treated as stale below
    return data if isinstance(data, dict) else {}


def _stale(info: dict) -> bool:
    if not info or "pid" not in info:
        return True
    try:
        pid = int(info["pid"])
    except (TypeError, ValueError):
        return True  # garbage written over the lock: nobody can own it
    if pid <= 0:
        return True  # os.kill(0 or -n) would signal a process group, not one process
    return info.get("host") == socket.gethostname() and not _alive(pid)


@contextmanager
def paper_lock(folder: Path, *, wait: bool = False, poll_s: float = 1.0) -> Iterator[Path]:
    """Hold `folder/.lock` for the duration; refuse (or wait) if another run holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".lock"
    me = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": utc_now()})
    while True:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            info = _read(path)
            if info is None:
                continue  # released between our open and read
            if _stale(info):
                # Rename first so two runs clearing the same stale lock cannot both win.
                try:
                    os.replace(path, path.with_name(f".lock.stale.{os.getpid()}"))
                    os.unlink(path.with_name(f".lock.stale.{os.getpid()}"))
                except FileNotFoundError:
                    pass
                continue
            if wait:
                time.sleep(poll_s)
                continue
            raise LockError(
                f"another `repro run` (pid {info.get('pid')} on {info.get('host')}, since "
                f"{info.get('since')}) is running on this paper",
                hint="wait for it to finish, or pass --wait to queue behind it",
                where=str(path),
            ) from None
        with os.fdopen(fd, "w") as fh:
            fh.write(me)
            fh.flush()
            os.fsync(fh.fileno())
        break
    try:
        yield path
    finally:
        info = _read(path)
        if info and info.get("pid") == os.getpid():
            path.unlink(missing_ok=True)
