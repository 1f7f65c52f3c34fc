"""Run an untrusted-input function in a child process with time and memory limits.

Parsing a PDF from the internet can hang or allocate without bound (decompression bombs
exist), so such work runs in a fresh Python process whose address space is capped with
`resource.setrlimit(RLIMIT_AS)`; the parent kills it after `timeout_s` of wall time. The
function and its arguments must be picklable (a module-level function).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from ..errors import ReproError


class SandboxError(ReproError):
    """The sandboxed work crashed, ran out of memory or time."""


class SandboxTimeout(SandboxError):
    """The child ran past its wall-time limit and was killed."""


class SandboxMemoryError(SandboxError):
    """The child hit its address-space limit."""


def _child_main() -> None:
    """Entry point of the child: read the job from stdin, write the outcome to stdout."""
    import pickle
    import resource

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints from the task must not corrupt the answer
    sys.path[:] = pickle.load(stdin)  # the parent's path, so its functions can be unpickled
    memory_mb, cpu_s = pickle.load(stdin)
    if memory_mb:
        limit = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if cpu_s:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    try:
        func, args, kwargs = pickle.load(stdin)
        out: tuple = ("ok", func(*args, **kwargs))
    except MemoryError:
        out = ("memory", None)
    except ReproError as e:
        # Sent as plain parts: exception pickling would lose the hint and `where`.
        out = ("repro", (type(e).__module__, type(e).__qualname__, e.message, e.hint, e.where))
    except BaseException as e:  # noqa: BLE001 - everything must reach the parent as data
        out = ("error", f"{type(e).__name__}: {e}", traceback.format_exc(limit=5))
    try:
        data = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        data = pickle.dumps(("memory", None))
    except Exception as e:  # noqa: BLE001 - an unpicklable result
        data = pickle.dumps(("error", f"result could not be sent back: {e}", ""))
    stdout.write(data)
    stdout.flush()


def _rebuild(module: str, qualname: str, message: str, hint: str | None, where: str | None) -> ReproError:
    import importlib

    cls: Any = ReproError
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        if isinstance(obj, type) and issubclass(obj, ReproError):
            cls = obj
    except (ImportError, AttributeError):
        pass
    try:
        return cls(message, hint, where=where)
    except TypeError:  # a subclass with another constructor
        return ReproError(message, hint, where=where)


def run_sandboxed(func: Callable[..., Any], *args: Any, timeout_s: float = 60.0,
                  memory_mb: int | None = 2048, what: str = "the task", **kwargs: Any) -> Any:
    """`func(*args, **kwargs)` in a child process; its return value, or a SandboxError.

    A ReproError raised by `func` is re-raised here as the same class, message and hint.
    """
    import pickle

    cpu_s = int(timeout_s) + 5 if timeout_s else None
    job = b"".join(pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL)
                   for x in (list(sys.path), (memory_mb, cpu_s), (func, args, kwargs)))
    # A fresh interpreter (not fork): no inherited threads, locks or copy of our memory, and
    # no dependence on how the parent's __main__ was started (multiprocessing's spawn has that).
    # The child must find this very `repro` package, however the parent found it.
    pkg_parent = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from repro.literature.sandbox import _child_main; _child_main()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    try:
        out, err = proc.communicate(job, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise SandboxTimeout(
            f"{what} did not finish within {timeout_s:g} s and was stopped",
            hint="the input may be malformed or hostile; try another copy of the file",
        ) from None
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    if proc.returncode == -signal.SIGXCPU:
        raise SandboxTimeout(f"{what} used more than {cpu_s} s of CPU time and was stopped")
    try:
        msg = pickle.loads(out) if out else None
    except Exception:  # noqa: BLE001 - a half-written answer from a dying child
        msg = None
    if msg is None:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
        if any("MemoryError" in line for line in tail):
            msg = ("memory", None)
        else:
            raise SandboxError(
                f"{what} crashed (exit code {proc.returncode})",
                hint=("; ".join(tail) if tail else "the input may be malformed; try another copy of the file"),
            )
    kind = msg[0]
    if kind == "ok":
        return msg[1]
    if kind == "memory":
        raise SandboxMemoryError(
            f"{what} needed more than {memory_mb} MB of memory and was stopped",
            hint="the file may be a decompression bomb, or raise the memory limit",
        )
    if kind == "repro":
        raise _rebuild(*msg[1])
    raise SandboxError(f"{what} failed: {msg[1]}", hint="details:\n" + msg[2])
