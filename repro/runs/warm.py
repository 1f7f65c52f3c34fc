"""Warm start: a process that has imported torch and Lightning forks the workers of `repro run`.

A run worker spends ~2.5 s of a 2-core CPU importing torch and Lightning before its first run;
a short sweep, or the rerun after an interruption, pays that again every time. `repro run
--keep-warm` starts a *zygote*: a background process that imports them once, then forks a
worker for each `repro run` that asks, and exits after IDLE_S seconds without a request.

Why fork fresh workers instead of keeping the workers themselves: a forked worker is as clean
as a spawned one. The zygote has imported torch, Lightning and repro's run modules and never a
paper's code, so an edited model.py, a helper module it imports or a global it set cannot leak
from one sweep into the next; within a sweep a worker is reused exactly as before.

Why it is keyed: a worker must behave as a freshly spawned one would. The key covers the Python
executable, the working directory, sys.path and the mtime of its site-packages (installing or
upgrading a package touches it), the size and mtime of every repro module, and the environment. Anything else means another zygote; the stale one idles out.

Safety: the socket lives in a folder only this user can open (0700). A forked worker stops its
run, resumable, as soon as the `repro run` that asked for it dies, even by SIGKILL (it watches
that process with a pidfd, as spawned workers use PR_SET_PDEATHSIG), and dies with the zygote.
The zygote refuses to serve if importing left a second Python thread or an initialised CUDA
context, the two things a fork must not copy. Linux only (fork, pidfd); elsewhere workers are spawned.

    python -m repro.runs.warm stop     # stop every zygote of this user now
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

IDLE_S = 600.0  # a zygote exits after this long without a request (and no live worker)
CONNECT_TIMEOUT_S = 120.0  # a zygote just started is importing torch: give it time
_VOLATILE_ENV = {"_", "OLDPWD", "PWD", "SHLVL", "COLUMNS", "LINES"}


def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "pidfd_open") and hasattr(os, "fork")


def folder() -> Path:
    """This user's private folder of zygote sockets: $XDG_RUNTIME_DIR's, or /tmp's when that is
    unset or too long (an AF_UNIX path holds at most 107 bytes)."""
    name = f"repro-warm-{os.getuid()}"
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    if len(os.path.join(base, name)) + 40 > 107:
        base = "/tmp"
    return Path(base) / name


def _private_folder() -> Path:
    d = folder()
    d.mkdir(mode=0o700, exist_ok=True)
    st = d.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise PermissionError(f"{d} must belong to you with mode 0700 (it is {oct(st.st_mode & 0o777)})")
    return d


def key() -> str:
    """What a worker's behaviour depends on besides its run spec (see the module docstring)."""
    h = hashlib.sha256()
    repro_root = Path(__file__).resolve().parents[1]
    mods = sorted(repro_root.rglob("*.py"))
    paths = [p for p in sys.path if p]
    env = {k: v for k, v in os.environ.items() if k not in _VOLATILE_ENV}
    parts: list[Any] = [sys.executable, sys.version, os.getcwd(), paths, sorted(env.items())]
    for p in paths:  # where torch and Lightning live: installing or upgrading a package touches it
        if os.path.basename(p) in ("site-packages", "dist-packages"):
            with contextlib.suppress(OSError):
                parts.append(os.stat(p).st_mtime_ns)
    for m in mods:
        st = m.stat()
        parts.append((str(m), st.st_size, st.st_mtime_ns))
    h.update(json.dumps(parts).encode())
    return h.hexdigest()[:16]


def socket_path(k: str) -> Path:
    return folder() / f"{k}.sock"


# -- the client side: `repro run` asks for workers ------------------------------------------------
class ForkedProcess:
    """A worker forked by the zygote, with the parts of multiprocessing.Process the executor uses.
    It is not our child: liveness comes from a pidfd, the exit code from the zygote that reaped it."""

    def __init__(self, pid: int, sock: Path) -> None:
        self.pid, self._sock = pid, sock
        try:
            self._fd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:
            self._fd = None  # already gone
        self._exitcode: int | None = None

    def is_alive(self) -> bool:
        return self._fd is not None and not select.select([self._fd], [], [], 0)[0]

    def join(self, timeout: float | None = None) -> None:
        if self._fd is not None:
            select.select([self._fd], [], [], timeout)

    def _signal(self, sig: int) -> None:
        if self._fd is not None:
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self._fd, sig)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    @property
    def exitcode(self) -> int | None:
        """Like Process.exitcode: None while alive; the zygote's record once it is gone."""
        if self.is_alive():
            return None
        if self._exitcode is None:
            with contextlib.suppress(OSError, EOFError, ValueError):
                conn = _request(self._sock, {"op": "exitcode", "pid": self.pid})
                if conn.poll(5.0):
                    self._exitcode = conn.recv()
                conn.close()
        return self._exitcode

    def __del__(self) -> None:  # the executor forgets a worker by dropping it: so goes its pidfd
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _request(path: Path, req: dict, fds: tuple[int, ...] = (), timeout: float = 5.0):
    """Send one request (a JSON line, with open files passed along) and return the connection."""
    from multiprocessing.connection import Connection

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(str(path))
        socket.send_fds(s, [json.dumps(req).encode() + b"\n"], list(fds))
    except OSError:
        s.close()
        raise
    s.settimeout(None)
    return Connection(s.detach())


def _read_request(s: socket.socket) -> tuple[dict, list[int]]:
    s.settimeout(5.0)
    data, fds, _, _ = socket.recv_fds(s, 1 << 16, 4)
    while data and not data.endswith(b"\n"):
        more = s.recv(1 << 16)
        if not more:
            break
        data += more
    s.settimeout(None)
    return (json.loads(data) if data else {}), fds


class WarmStart:
    """Forks run workers from this machine's zygote for the current key; starts one if asked."""

    def __init__(self, start: bool, idle_s: float = IDLE_S) -> None:
        self.path = socket_path(key())
        self.start, self.idle_s = start, idle_s
        self.server_pid: int | None = None

    def available(self) -> bool:
        """A zygote answers at this key (started now if `start` and none did)."""
        if not supported() or not (self.start or folder().is_dir()):
            return False  # nothing to find, and no folder made for a run that did not ask
        try:
            _private_folder()  # never talk to a socket someone else could have put there
        except OSError:
            return False
        if self.path.exists():
            try:
                _request(self.path, {"op": "ping"}).close()
                return True
            except OSError:
                with contextlib.suppress(OSError):
                    self.path.unlink()  # left by a zygote that was killed
        if not self.start:
            return False
        log = self.path.with_suffix(".log")  # removed by the zygote when it ends cleanly
        with open(log, "ab") as out:
            # With this process's sys.path: the zygote imports the very repro (and torch) this one would.
            boot = f"import sys; sys.path[:] = {sys.path!r}; from repro.runs.warm import main; main()"
            proc = subprocess.Popen([sys.executable, "-c", boot, "serve", str(self.path), str(self.idle_s)],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
        self.server_pid = proc.pid
        deadline = time.monotonic() + 10.0  # it binds before importing anything heavy
        while time.monotonic() < deadline and proc.poll() is None:
            if self.path.exists():
                return True
            time.sleep(0.01)
        return False

    def fork_worker(self, worker_id: int, env: dict[str, str], threads: int):
        """(connection, ForkedProcess) of a new worker, or None (then spawn one as usual)."""
        # The worker writes where a spawned one would: this process's stdout and stderr, passed along.
        req = {"op": "fork", "worker_id": worker_id, "env": env, "threads": threads, "client": os.getpid(),
               "sys_path": sys.path, "cwd": os.getcwd()}
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            conn = _request(self.path, req, fds=(sys.stdout.fileno(), sys.stderr.fileno()))
            if not conn.poll(CONNECT_TIMEOUT_S):
                conn.close()
                return None
            hello = conn.recv()
        except (OSError, EOFError):
            return None
        if not (isinstance(hello, tuple) and hello[:1] == ("forked",)):
            conn.close()
            return None
        return conn, ForkedProcess(hello[1], self.path)


# -- the zygote -----------------------------------------------------------------------------------
def _refuse_reason() -> str | None:
    """Why forking this process would be unsafe, if it would."""
    import threading

    # Python threads only: the native pools torch and OpenBLAS start on import are re-made after a
    # fork by their own atfork handlers (the state torch's DataLoader forks its workers from).
    if threading.active_count() > 1:
        return f"importing torch and Lightning left {threading.active_count()} Python threads; a fork copies only one"
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        return "importing torch and Lightning initialised CUDA; a forked worker could not use it"
    return None


def _watch_client(client_pid: int) -> None:
    """In a forked worker: stop (SIGTERM, handled as a resumable stop) when `repro run` dies."""
    import threading

    try:
        fd = os.pidfd_open(client_pid)
    except ProcessLookupError:
        os.kill(os.getpid(), signal.SIGTERM)
        return

    def wait() -> None:
        select.select([fd], [], [])
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=wait, daemon=True, name="repro-client-watch").start()


def _child(conn, req: dict, fds: list[int]) -> None:
    """The forked worker: the client's stdout/stderr, path and folder, a hello, then the ordinary
    worker loop (its imports are already done)."""
    from .worker import worker_main

    for s in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)
    for target, fd in zip((1, 2), fds):
        os.dup2(fd, target)
        os.close(fd)
    sys.path[:] = list(req["sys_path"])
    os.chdir(req["cwd"])
    conn.send(("forked", os.getpid()))
    _watch_client(int(req["client"]))
    worker_main(int(req["worker_id"]), dict(req["env"]), int(req["threads"]), conn)  # ends in os._exit


def _reap(children: set[int], exits: dict[int, int]) -> None:
    """Collect the workers that ended, keeping their exit codes for the clients that ask."""
    for pid in list(children):
        with contextlib.suppress(ChildProcessError):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                exits[pid] = os.waitstatus_to_exitcode(status)


def serve(path: Path, idle_s: float) -> int:
    """The zygote's main loop: bind, import, then fork a worker per request until idle."""
    from multiprocessing.connection import Connection

    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(tmp))
    srv.listen(64)
    os.replace(tmp, path)  # appears whole: a client never meets a half-made socket
    ino = path.stat().st_ino
    stopping = False

    def on_term(signum, frame) -> None:  # noqa: ARG001
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    import gc

    gc.disable()  # as in a worker: no collections over torch's ~400k objects while importing
    import torch  # noqa: F401

    from . import training  # noqa: F401

    gc.freeze()
    gc.enable()
    why = _refuse_reason()
    children: set[int] = set()
    exits: dict[int, int] = {}
    last = time.monotonic()
    try:
        if why:
            print(f"repro warm start: not serving: {why}", flush=True)
            return 1
        print(f"repro warm start: serving {path} (pid {os.getpid()})", flush=True)
        while not stopping:
            _reap(children, exits)
            try:
                readable = select.select([srv], [], [], 1.0)[0]
            except InterruptedError:
                continue
            if not readable:
                if not children and time.monotonic() - last > idle_s:
                    break
                continue
            s, _ = srv.accept()
            last = time.monotonic()
            try:
                req, fds = _read_request(s)
            except (OSError, ValueError):
                req, fds = {}, []
            conn = Connection(s.detach())
            if req.get("op") == "stop":
                stopping = True
            elif req.get("op") == "exitcode":
                _reap(children, exits)
                with contextlib.suppress(OSError):
                    conn.send(exits.get(int(req["pid"])))
            elif req.get("op") == "fork":
                pid = os.fork()
                if pid == 0:
                    srv.close()
                    try:
                        _child(conn, req, fds)
                    finally:
                        os._exit(1)  # _child ends in os._exit; anything else is a bug
                children.add(pid)
            for fd in fds:
                os.close(fd)
            conn.close()
    finally:
        with contextlib.suppress(OSError):
            if path.stat().st_ino == ino:  # still ours, not a newer zygote's
                path.unlink()
    with contextlib.suppress(OSError):
        path.with_suffix(".log").unlink()  # a clean end: nothing in it worth keeping
    return 0


def stop_all() -> int:
    """Ask every zygote of this user to exit (its live workers stop, resumable). How many answered."""
    n = 0
    for sock in sorted(folder().glob("*.sock")) if folder().is_dir() else []:
        try:
            _request(sock, {"op": "stop"}).close()
            n += 1
        except OSError:
            with contextlib.suppress(OSError):
                sock.unlink()  # nobody listens: left by a killed zygote
    return n


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        sys.exit(serve(Path(sys.argv[2]), float(sys.argv[3])))
    if sys.argv[1:2] == ["stop"]:
        print(f"stopped {stop_all()} warm-start process(es)")
        sys.exit(0)
    sys.exit("usage: python -m repro.runs.warm stop")


if __name__ == "__main__":
    main()
