"""One `repro run` per paper at a time: a lock file in results/<id>/.

The lock holds the owner's pid and host. Its content is written to a private temp file first
and the file is then hard-linked to `.lock` (link fails if `.lock` exists): the lock never
exists without its holder in it, so a lock is stale only when its holder is gone (killed with
-9, the machine rebooted), never because it looks empty or torn while another run writes it.

Clearing a stale lock is serialised by `fcntl.flock` on the results folder itself (released by
the kernel when its holder dies, so it can never go stale, and it leaves no file behind): two runs that both find the same
stale lock cannot both clear it, and neither can remove the lock a third run has just taken.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import stat
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..clock import utc_now
from ..errors import LockError, ResultsFolderError

try:
    import fcntl
except ImportError:  # not POSIX: clearing stale locks is not serialised there
    fcntl = None  # type: ignore[assignment]


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
        return {}  # garbage (not written by repro: ours are complete before they appear)
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


def held(folder: Path) -> bool:
    """Whether a live `repro run` holds `folder/.lock` (a lock whose holder is gone is not held)."""
    info = _read(folder / ".lock")
    return bool(info) and not _stale(info)


def _not_a_file(path: Path) -> None:
    """A `.lock` that is a folder (or a FIFO, a device) is no lock repro can hold or clear."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise ResultsFolderError(f"the run lock {path} is {kind}", where=str(path),
                                 hint=f"remove it (`rm -r '{path}'`) if no `repro run` is using this paper")


@contextmanager
def _guard(folder: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock


def _clear_if_stale(path: Path) -> None:
    """Remove `path` if, read again under the guard, it is still a stale lock."""
    with _guard(path.parent):
        info = _read(path)
        if info is not None and _stale(info):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def _create_with(path: Path, text: str) -> bool:
    with _guard(path.parent):  # stale-clearing waits until the content is in
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    return True


@contextmanager
def paper_lock(folder: Path, *, wait: bool = False, poll_s: float = 1.0) -> Iterator[Path]:
    """Hold `folder/.lock` for the duration; refuse (or wait) if another run holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".lock"
    me = {"pid": os.getpid(), "host": socket.gethostname(), "since": utc_now(), "nonce": secrets.token_hex(8)}
    tmp = folder / f".lock.tmp.{os.getpid()}.{me['nonce']}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(me))
        fh.flush()
        os.fsync(fh.fileno())
    try:
        while True:
            _not_a_file(path)
            try:
                os.link(tmp, path)  # atomic, and fails if a lock exists: content first, then visible
                break
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links: create, then write (under the guard)
                if _create_with(path, json.dumps(me)):
                    break
            info = _read(path)
            if info is None:
                continue  # released between our link and read
            if _stale(info):
                _clear_if_stale(path)
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
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    try:
        yield path
    finally:
        info = _read(path)
        if info and info.get("pid") == os.getpid() and info.get("nonce") == me["nonce"]:
            path.unlink(missing_ok=True)
