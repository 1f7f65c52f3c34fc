"""A long-lived worker process: imports torch and lightning once, then takes run after run.

Started by the local executor with its own task queue and a shared event queue. The parent
decides placement (CUDA_VISIBLE_DEVICES is set in the environment before this process
starts, so CUDA only ever sees the worker's devices).
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
from typing import Any


def worker_main(worker_id: int, env: dict[str, str], threads: int, conn) -> None:
    """`conn` is this worker's own pipe: specs come in, events go out (worker_messages.py; a
    killed worker breaks only its own pipe, never a queue shared with the others)."""
    import multiprocessing

    from .interrupts import die_with_parent, handle_stop_signals, ignore_stop_signals_now

    code = 0
    try:
        # SIGTERM/SIGHUP/SIGINT stop the run resumable; so does the parent dying (even by -9).
        handle_stop_signals()
        parent = multiprocessing.parent_process()
        die_with_parent(parent.pid if parent is not None else None)
        _serve(worker_id, env, threads, conn)
    except KeyboardInterrupt:  # stopped on purpose between runs (or while starting): nothing to record
        pass
    except BaseException:  # noqa: BLE001 - a bug here: show it; the parent sees the worker die
        traceback.print_exc()
        code = 1
    finally:
        # Every result is already on disk (atomically): skip the interpreter's teardown of torch
        # and lightning (a second or more), during which a late stop signal would only add noise.
        ignore_stop_signals_now()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _serve(worker_id: int, env: dict[str, str], threads: int, conn) -> None:
    from .interrupts import deliberate, stop
    from ..results import RunStatus, summary_of
    from .worker_messages import STOP, Event, Kind

    os.environ.update(env)
    # Lightning's "GPU available but not used" and similar notices go to each run's log.
    os.environ.setdefault("PYTHONWARNINGS", "ignore::UserWarning")
    # torch and Lightning leave ~400k objects that live as long as the worker. No cyclic
    # collection while importing them (each full one rescans them all: 0.6 s of CPU in a 3.3 s
    # start-up on a 2-core CPU), and none of them scanned again by later collections.
    gc.disable()
    try:
        import torch

        torch.set_num_threads(max(1, threads))
        from . import training
    except Exception:  # noqa: BLE001 - report import failures instead of dying silently
        traceback.print_exc()  # the whole story on the user's terminal, above the error
        conn.send(Event(Kind.WORKER_ERROR, worker_id, {"error": traceback.format_exc().strip().splitlines()[-1]}))
        return
    finally:
        gc.freeze()
        gc.enable()
    conn.send(Event(Kind.READY, worker_id, {"pid": os.getpid()}))

    def emit(kind: Kind, **fields: Any) -> None:
        try:
            conn.send(Event(kind, worker_id, fields))
        except OSError:  # broken pipe: the parent is gone; stop the run, resumable, not failed
            stop()

    while True:
        try:
            spec = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):  # the parent went away, or told us to stop
            return
        if spec is STOP:
            return  # worker_main exits without the interpreter's teardown
        try:
            emit(Kind.STARTED, run=spec.name)
            summary = training.execute(spec, emit)
        except BaseException as e:  # noqa: BLE001 - writing the summary itself failed (disk full, ...)
            if deliberate(e):
                return  # stopped on purpose: the run stays `running` with its checkpoint, resumable
            summary = {**summary_of(spec), "status": RunStatus.FAILED,
                       "error": traceback.format_exc(limit=3).strip().splitlines()[-1]}
        try:
            conn.send(Event(Kind.DONE, worker_id, {"run": spec.name, "summary": summary}))
        except OSError:
            return
