"""The local executor: a pool of long-lived worker processes on this machine.

One worker per run slot. With GPUs, a slot is one GPU (or a share of one, with
`runs_per_device`), pinned through CUDA_VISIBLE_DEVICES before the worker starts; without
GPUs, slots are CPU workers that split the cores between them.

The parent never imports torch. It hands runs to idle workers, watches for time-outs
(the worker is killed and replaced, the run marked `timeout`) and for workers that die
(the run is marked `failed`, the worker replaced; a worker that stopped its run on a signal
leaves it `running`, resumable).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait as wait_conns
from pathlib import Path
from typing import Any

from ...envinfo import nvidia_smi, usable_cpus
from ...errors import WorkerStartError
from ...results import read_summary
from ..worker_messages import STOP, Kind
from .base import Executor, Job, JobState
from .placement import DeviceBook, gpu_mem_gb, gpu_memory_gb, gpus_needed


def visible_gpus() -> list[str]:
    """GPU indices visible to this process, found without importing torch."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d for d in (x.strip() for x in env.split(",")) if d and d != "-1"]
    out = nvidia_smi("-L") or ""
    return [str(i) for i, line in enumerate(l for l in out.splitlines() if l.startswith("GPU "))]


@dataclass(frozen=True)
class Slot:
    devices: tuple[str, ...]   # () for a CPU slot
    threads: int

    @property
    def label(self) -> str:
        return f"gpu {','.join(self.devices)}" if self.devices else "cpu"

    def env(self) -> dict[str, str]:
        # An empty CUDA_VISIBLE_DEVICES hides every GPU from a CPU worker.
        return {"CUDA_VISIBLE_DEVICES": ",".join(self.devices)}


def make_slots(
    *,
    workers: int | None,
    devices: list[str] | None,
    runs_per_device: int = 1,
    cpus: int | None = None,
) -> list[Slot]:
    """Run slots: one per GPU x runs_per_device, or `workers` CPU slots sharing the cores."""
    cpus = cpus or usable_cpus()
    devices = visible_gpus() if devices is None else devices
    if devices:
        # Interleaved (0,1,0,1): a sweep smaller than the slot count still spreads over GPUs.
        slots = [Slot((d,), max(1, cpus // (len(devices) * runs_per_device))) for _ in range(runs_per_device) for d in devices]
        return slots[: workers] if workers else slots
    n = workers or cpus
    return [Slot((), max(1, cpus // n)) for _ in range(n)]


MAX_STARTUP_DEATHS = 3  # workers in a row dying before "ready": stop instead of respawning


def _timed_out(limit: float) -> str:
    return f"no result after {limit:.0f} s (resources.timeout_s); stopped"


@dataclass
class _Worker:
    wid: int
    slot: Slot
    proc: Any
    conn: Any
    ready: bool = False
    job: Job | None = None
    started: float = 0.0


@dataclass
class _Proc:
    """A multi-device (DDP) run in its own process group."""

    job: Job
    popen: subprocess.Popen
    spec_file: Path
    started: float
    slots: int  # CPU slots it holds (CPU DDP); GPU DDP holds devices in the book


@dataclass
class LocalExecutor(Executor):
    slots: list[Slot]
    default_timeout_s: float | None = None
    runs_per_device: int = 1
    memory_gb: dict[str, float] | None = None   # per GPU; None: ask nvidia-smi
    warm: Any = None  # a runs.warm.WarmStart: fork workers from its zygote instead of spawning them
    _queue: deque = field(default_factory=deque)
    _workers: list[_Worker] = field(default_factory=list)
    _procs: list[_Proc] = field(default_factory=list)
    _next_id: int = 0

    def __post_init__(self) -> None:
        self._startup_deaths = 0  # workers in a row that died before they were ready
        self._ctx = mp.get_context("spawn")  # no fork after threads; children import torch fresh
        devices = list(dict.fromkeys(d for s in self.slots for d in s.devices))
        self.gpu = bool(devices)
        mem = self.memory_gb if self.memory_gb is not None else (gpu_memory_gb() if devices else {})
        self.book = DeviceBook(devices, self.runs_per_device, {d: m for d, m in mem.items() if d in devices})
        self._held: dict[str, list[str]] = {}  # job name -> devices (for release)

    def describe(self) -> str:
        kinds = sorted({s.label for s in self.slots})
        return f"local: {len(self.slots)} worker(s) on {', '.join(kinds)}"

    # -- workers ----------------------------------------------------------------------------
    def _spawn(self, slot: Slot) -> _Worker:
        from ..worker import worker_main

        wid = self._next_id
        self._next_id += 1
        forked = self.warm.fork_worker(wid, slot.env(), slot.threads) if self.warm is not None else None
        if forked is not None:  # torch and Lightning already imported: ready in milliseconds
            conn, proc = forked
            w = _Worker(wid, slot, proc, conn)
            self._workers.append(w)
            return w
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=worker_main, args=(wid, slot.env(), slot.threads, child), daemon=True)
        proc.start()
        child.close()
        w = _Worker(wid, slot, proc, parent)
        self._workers.append(w)
        return w

    def _replace(self, w: _Worker) -> None:
        self._workers.remove(w)
        try:
            w.conn.close()
        except OSError:
            pass
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join(timeout=5)
        if self._queue:
            self._spawn(w.slot)

    def _enqueue(self, job: Job) -> None:
        self._queue.append(job)
        # Start workers lazily: never more than there are runs.
        if len(self._workers) < len(self.slots) and len(self._workers) < len(self._queue) + self._busy():
            self._spawn(self.slots[len(self._workers)])

    def _release(self, job: Job) -> None:
        """`job` ended: its devices go back, its worker takes the next run, its DDP process
        is forgotten."""
        self.book.release(job.name)
        for w in self._workers:
            if w.job is job:
                w.job = None
        for p in [p for p in self._procs if p.job is job]:
            self._procs.remove(p)
            with contextlib.suppress(OSError):
                p.spec_file.unlink()

    def _busy(self) -> int:
        return sum(1 for w in self._workers if w.job is not None)

    def _cpu_in_use(self) -> int:
        return self._busy() + sum(p.slots for p in self._procs)

    def _dispatch(self) -> list[Job]:
        """Start every queued run that fits now, in queue order (smaller runs backfill)."""
        changed = []
        for job in list(self._queue):
            need = gpus_needed(job.spec.values, self.gpu)
            if self.gpu and need > len(self.book.devices):
                self._queue.remove(job)
                changed.append(self.ended(job, state=JobState.FAILED, error=(
                    f"needs {need} GPUs (trainer.devices), only {len(self.book.devices)} in use here (--devices)")))
                continue
            started = self._start_multi(job, need) if need > 1 else self._start_single(job, need)
            if started is None:
                continue
            self._queue.remove(job)
            changed.append(job)
        return changed

    def _start_single(self, job: Job, need: int) -> Job | None:
        mem = gpu_mem_gb(job.spec.values)
        if not self.gpu and self._cpu_in_use() >= len(self.slots):
            return None
        for w in self._workers:
            if not (w.ready and w.job is None):
                continue
            if need == 1:
                dev = w.slot.devices[0]
                if not self.book.can_share(dev, mem):
                    continue
                self.book.take_share(dev, job.name, mem)
            w.job, w.started = job, time.monotonic()
            self.started(job, f"worker {w.wid} ({w.slot.label})", w.started)
            try:
                w.conn.send(job.spec)
            except (BrokenPipeError, OSError):
                pass  # noticed as a dead worker on the next poll
            return job
        return None

    def _start_multi(self, job: Job, need: int) -> Job | None:
        """A DDP run: its own process (see executors/ddp.py) on `need` idle devices or CPU slots."""
        if self.gpu:
            devs = self.book.take_whole(need, job.name)
            if devs is None:
                return None
            env, held = {"CUDA_VISIBLE_DEVICES": ",".join(devs)}, 0
        else:
            held = min(need, len(self.slots))
            if self._cpu_in_use() + held > len(self.slots):
                return None
            env, devs = {"CUDA_VISIBLE_DEVICES": ""}, []
        fd, name = tempfile.mkstemp(prefix="repro-spec-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(job.spec.to_json(), fh)
        Path(job.spec.run_dir).mkdir(parents=True, exist_ok=True)
        threads = max(1, usable_cpus() // max(1, need))
        with open(Path(job.spec.run_dir).parent / f".{Path(job.spec.run_dir).name}.launcher.log", "ab") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", "repro.runs.executors.ddp", name],
                env={**os.environ, **env, "OMP_NUM_THREADS": str(threads), "PYTHONWARNINGS": "ignore::UserWarning"},
                stdout=log, stderr=log, start_new_session=True,  # one group: a time-out kills every rank
            )
        now = time.monotonic()
        self._procs.append(_Proc(job, popen, Path(name), now, held))
        where = f"gpu {','.join(devs)}" if devs else f"{need} cpu processes"
        self.started(job, f"ddp pid {popen.pid} ({where})", now)
        return job

    def _poll_procs(self) -> list[Job]:
        changed = []
        now = time.monotonic()
        for p in list(self._procs):
            job = p.job
            limit = job.spec.timeout_s or self.default_timeout_s
            rc = p.popen.poll()
            if rc is None and limit and now - p.started > limit:
                self._kill_group(p.popen)
                changed.append(self.ended(job, state=JobState.TIMEOUT, error=_timed_out(limit)))
            elif rc is not None:
                summary, _ = read_summary(Path(job.spec.run_dir))
                if summary and summary.get("status") in JobState.DONE and summary.get("cache_key") == job.spec.cache_key:
                    changed.append(self.ended(job, summary))
                else:
                    changed.append(self.ended(job, state=JobState.FAILED,
                                              error=f"DDP process exited with code {rc} before writing a result"))
        return changed

    @staticmethod
    def _kill_group(popen: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=10)

    def poll(self, timeout: float) -> list[Job]:
        changed = self._dispatch()
        conns = {w.conn: w for w in self._workers}
        ready = wait_conns(list(conns), timeout=timeout) if conns else (time.sleep(timeout) or [])
        for c in ready:
            w = conns[c]
            try:
                kind, _, fields = c.recv()
            except (EOFError, OSError):
                continue  # dead: handled below
            if kind == Kind.READY:
                w.ready = True
                self._startup_deaths = 0
            elif kind == Kind.WORKER_ERROR:
                # The worker could not even import torch/lightning: every other would fail
                # the same way, so stop here, once, before any run is charged with it.
                raise WorkerStartError(
                    f"a run worker could not start: {fields['error']} (its traceback is above)",
                    hint="check the environment: `python -c 'import torch, lightning'` in the same Python")
            elif kind == Kind.PROGRESS and w.job is not None:
                w.job.epoch, w.job.max_epochs = fields.get("epoch"), fields.get("max_epochs")
                changed.append(w.job)
            elif kind == Kind.DONE and w.job is not None:
                changed.append(self.ended(w.job, fields["summary"]))
        now = time.monotonic()
        for w in list(self._workers):
            job = w.job
            limit = (job.spec.timeout_s or self.default_timeout_s) if job else None
            if job is not None and limit and now - w.started > limit:
                changed.append(self.ended(job, state=JobState.TIMEOUT, error=_timed_out(limit)))
                self._replace(w)
            elif not w.proc.is_alive():
                if not w.ready:
                    self._startup_deaths += 1
                    if self._startup_deaths >= MAX_STARTUP_DEATHS:
                        # Crashing at import (a broken CUDA driver, a segfaulting wheel, the
                        # OOM killer): restarting it forever would only spin.
                        raise WorkerStartError(
                            f"{self._startup_deaths} run workers in a row died before they were ready "
                            f"(last exit code {w.proc.exitcode}); their output is above",
                            hint="check that `python -c 'import torch, lightning'` works, and the machine's free memory")
                if job is not None:
                    if w.proc.exitcode == 0:
                        # The worker stopped the run on purpose (it got SIGTERM/SIGHUP/SIGINT): the
                        # folder stays `running` with its checkpoint; the next sweep resumes it.
                        changed.append(self.ended(
                            job, {"status": JobState.RUNNING, "error": "stopped by a signal; the next `repro run` resumes it"},
                            state=JobState.FAILED))
                    else:
                        changed.append(self.ended(job, state=JobState.FAILED,
                                                  error=f"worker process died (exit code {w.proc.exitcode})"))
                w.job = None
                self._replace(w)
        changed.extend(self._poll_procs())
        changed.extend(self._dispatch())
        return changed

    def shutdown(self) -> None:
        for p in self._procs:
            self._kill_group(p.popen)
            with contextlib.suppress(OSError):
                p.spec_file.unlink()
        self._procs.clear()
        for w in self._workers:
            if w.job is not None and not w.job.done:
                # Interrupted mid-run (Ctrl-C, SIGTERM, SIGHUP of `repro run`): the worker stops
                # the run where it is, `running` with its checkpoint, for the next run to resume.
                with contextlib.suppress(OSError):
                    w.proc.terminate()
                continue
            try:
                w.conn.send(STOP)
            except (BrokenPipeError, OSError):
                pass
        deadline = time.monotonic() + 5
        for w in self._workers:
            w.proc.join(timeout=max(0.1, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(timeout=2)
        self._workers.clear()
