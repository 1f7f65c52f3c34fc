"""A long-lived worker process: imports torch and lightning once, then takes run after run.

Started by the local executor with its own task queue and a shared event queue. The parent
decides placement (CUDA_VISIBLE_DEVICES is set in the environment before this process
starts, so CUDA only ever sees the worker's devices).
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any


def worker_main(worker_id: int, env: dict[str, str], threads: int, conn) -> None:
    """`conn` is this worker's own pipe: specs come in, events go out (a killed worker
    breaks only its own pipe, never a queue shared with the others)."""
    os.environ.update(env)
    # Lightning's "GPU available but not used" and similar notices go to each run's log.
    os.environ.setdefault("PYTHONWARNINGS", "ignore::UserWarning")
    try:
        import torch

        torch.set_num_threads(max(1, threads))
        from . import training
    except Exception:  # noqa: BLE001 - report import failures instead of dying silently
        traceback.print_exc()  # the whole story on the user's terminal, above the error
        conn.send(("worker_error", worker_id, {"error": traceback.format_exc().strip().splitlines()[-1]}))
        return
    conn.send(("ready", worker_id, {"pid": os.getpid()}))

    def emit(kind: str, **fields: Any) -> None:
        conn.send((kind, worker_id, fields))

    while True:
        try:
            spec = conn.recv()
        except EOFError:  # the parent went away
            return
        if spec is None:
            # Every result is already on disk (atomically): skip the interpreter's teardown of
            # torch and lightning, which takes a second or more at the end of every sweep.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        conn.send(("started", worker_id, {"run": spec.name}))
        try:
            summary = training.execute(spec, emit)
        except BaseException:  # noqa: BLE001 - writing the summary itself failed (disk full, ...)
            summary = {"status": "failed", "error": traceback.format_exc(limit=3).strip().splitlines()[-1],
                       "paper": spec.paper_id, "config": spec.config, "seed": spec.seed}
        conn.send(("done", worker_id, {"run": spec.name, "summary": summary}))
