"""Stopping on purpose: SIGINT, SIGTERM and SIGHUP all mean "stop, keep what is resumable".

`repro run` and its run processes (pool workers, DDP ranks) treat the three signals alike:
each raises KeyboardInterrupt where the process is, and the signal is remembered so that a
run stopped this way is told apart from a model that raised or called sys.exit() (Lightning
turns a KeyboardInterrupt inside `fit` into `sys.exit(1)`). A run stopped on purpose keeps
`status: running` and its checkpoint, and the next `repro run` resumes it; any other exception
is recorded as `failed` with its traceback.

Run processes also ask the kernel to signal them when their parent dies (Linux
PR_SET_PDEATHSIG): a `repro run` killed with -9 takes its workers and DDP ranks with it,
instead of leaving them training and writing in folders the next run will use.
"""

from __future__ import annotations

import os
import signal
import sys

STOP_SIGNALS = tuple(s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None)
_received: int | None = None
_exiting = False  # on the way out: a late stop signal must not raise in the clean-up


def _handler(signum, frame) -> None:
    global _received
    first = _received is None
    _received = signum
    # A signal that lands on the first instruction of ignore_stop_signals_now (before its own
    # try) would escape it: a process on its way out printed a traceback. There, only record it.
    on_the_way_out = frame is not None and frame.f_code in _EXIT_CODES
    if first and not _exiting and not on_the_way_out:
        raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


def stop(signum: int = signal.SIGTERM) -> None:
    """Stop this process as a stop signal would (e.g. the parent's pipe broke: it is gone)."""
    global _received
    _received = _received or signum
    raise KeyboardInterrupt("the parent process is gone")


def handle_stop_signals() -> None:
    """SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt here (main thread only)."""
    for s in STOP_SIGNALS:
        signal.signal(s, _handler)


def ignore_stop_signals() -> None:
    """From here on (a process on its way out) stop signals change nothing."""
    global _exiting
    _exiting = True
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)


def ignore_stop_signals_now() -> None:
    """`ignore_stop_signals`, even when a stop signal lands while it runs (its handler raises
    KeyboardInterrupt): for the last lines of a process on its way out."""
    while True:
        try:
            ignore_stop_signals()
            return
        except KeyboardInterrupt:  # a signal that landed just before the line above
            continue


_EXIT_CODES = (ignore_stop_signals.__code__, ignore_stop_signals_now.__code__)


def interrupted() -> bool:
    """Whether this process was told to stop (a stop signal arrived)."""
    return _received is not None


def deliberate(exc: BaseException) -> bool:
    """A stop on purpose (Ctrl-C, SIGTERM, SIGHUP, parent gone), not the run's own failure.

    Lightning turns a SIGTERM that reaches the Trainer (a scheduler's preemption or requeue)
    into its own SIGTERMException, a SystemExit: that is a stop, not a model calling sys.exit()."""
    return interrupted() or isinstance(exc, KeyboardInterrupt) or type(exc).__name__ == "SIGTERMException"


def die_with_parent(parent_pid: int | None = None, sig: int = signal.SIGTERM) -> None:
    """Get `sig` when the parent process dies (Linux); if it is already gone, stop now.

    DDP ranks ask for SIGKILL: a rank blocked in a collective (gloo, NCCL) never returns to
    Python to handle SIGTERM, and its teardown would wait for ranks that are gone. Everything
    rank 0 writes is atomic or append-only (a torn last line is dropped), so a kill leaves the
    run as resumable as a stop does.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)  # the parent died before the request took effect
