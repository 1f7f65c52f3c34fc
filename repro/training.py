"""One run, in-process: seed, build the paper's model and data, train, record, checkpoint.

This is the only module (with worker.py) that imports torch and lightning. It is called
inside a long-lived worker process, so the imports are paid once per worker, not per run.

What a run leaves is described in results.py. The summary is written first as
`status: running` (with the cache key, so an interrupted run can be recognised and resumed)
and last as the final status.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib.util
import math
import os
import random
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Checkpoint

from .atomic import atomic_write_json, atomic_write_text, fsync_path
from .envinfo import runtime_env
from .interrupts import deliberate
from .planner import CACHED, RunSpec, decide
from .results import RunStatus, Summary, read_metrics, read_summary, summary_of
from .tracking import open_tracking
from .clock import utc_now
from .yamlio import write_yaml

Emit = Callable[..., None]  # emit(kind, **fields): progress events to the parent


class Diverged(RuntimeError):
    """The training loss became NaN or infinite."""


now = utc_now


# -- loading the paper's code ---------------------------------------------------------------
_modules: dict[str, Any] = {}


def load_paper_module(path: Path):
    """Import a paper file by path, once per content (a changed file is re-imported)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    key = f"{path}:{digest}"
    if key not in _modules:
        name = f"repro_paper_{path.parent.name.replace('.', '_').replace('-', '_')}_{path.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # pickling (checkpoints, DDP) needs the module registered
        # data.py may import helpers that sit beside it in the paper folder.
        sys.path.insert(0, str(path.parent))
        try:
            spec.loader.exec_module(mod)
        finally:
            sys.path.remove(str(path.parent))
        _modules[key] = mod
    return _modules[key]


def _the_class(mod, base: type) -> type:
    found = [
        v for v in vars(mod).values()
        if isinstance(v, type) and issubclass(v, base) and v is not base and v.__module__ == mod.__name__
    ]
    if len(found) != 1:
        raise RuntimeError(f"{mod.__file__}: expected exactly one {base.__name__} subclass, found {len(found)}")
    return found[0]


# -- callbacks ----------------------------------------------------------------------------
def _scalar(v: Any) -> float | None:
    try:
        f = float(v.detach().cpu().item() if hasattr(v, "detach") else v)
    except (TypeError, ValueError, RuntimeError):
        return None
    return f


class MetricsRecorder(L.Callback):
    """Appends logged metrics to metrics.jsonl: per-step loss rows, and one row per epoch
    written by `record_epoch` (called from EpochEnd, after the module's own epoch-end hook).

    Rows are appended and flushed as they come; a crash can only tear the last line, which
    readers drop (results.read_metrics).

    Divergence is checked without reading the loss every step: reading a GPU tensor makes the
    host wait for the device. The losses since the last check are summed on the device (NaN
    and inf survive a sum) and read on the steps that log a row anyway and at each epoch end,
    so a diverged run stops at most `every_n_steps` steps late.
    """

    def __init__(self, path: Path, every_n_steps: int = 10) -> None:
        self.path = path
        self.every = every_n_steps
        self.rows = len(read_metrics(path))
        self._unchecked: Any = None   # sum of the losses since the last check (a device tensor)
        self._checked_step = 0

    def _append(self, row: dict[str, Any]) -> None:
        import json

        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
            fh.flush()
        self.rows += 1

    def check_divergence(self, trainer, loss: float | None = None) -> None:
        """Raise Diverged if any loss since the last check was NaN or infinite (one host sync)."""
        if self._unchecked is not None:
            total = self._unchecked.item() if hasattr(self._unchecked, "item") else float(self._unchecked)
            self._unchecked = None
            if not math.isfinite(total):
                where = f"step {trainer.global_step}, epoch {trainer.current_epoch}"
                if loss is not None and not math.isfinite(loss):
                    raise Diverged(f"training loss is {loss} at {where}")
                raise Diverged(f"training loss became nan or inf between step {self._checked_step} and {where}")
        self._checked_step = trainer.global_step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is None:
            return
        if hasattr(loss, "detach"):
            loss = loss.detach()
            if loss.numel() != 1:
                loss = loss.sum()
        # One device-side add a step, no host sync (see the class docstring).
        self._unchecked = loss if self._unchecked is None else self._unchecked + loss
        if trainer.global_step % self.every == 0:
            value = _scalar(loss)
            self.check_divergence(trainer, value)
            if value is not None:
                self._append({"kind": "step", "step": trainer.global_step, "epoch": trainer.current_epoch, "loss": value})

    def on_train_end(self, trainer, pl_module) -> None:
        self.check_divergence(trainer)  # training can stop (max_steps, max_time) between checks

    def record_epoch(self, trainer) -> None:
        # Validation has already run for this epoch (Lightning 2.x), and so has the module's
        # on_train_epoch_end: everything logged this epoch is in callback_metrics.
        self.check_divergence(trainer)
        row: dict[str, Any] = {"kind": "epoch", "step": trainer.global_step, "epoch": trainer.current_epoch}
        for k, v in trainer.callback_metrics.items():
            f = _scalar(v)
            if f is not None:
                row[k] = f
        self._append(row)


def _np_state_to_plain(st) -> list:
    name, keys, pos, has_gauss, cached = st
    return [str(name), [int(k) for k in keys], int(pos), int(has_gauss), float(cached)]


class RunState(L.Callback):
    """Saves what exact resumption needs in the checkpoint: RNG states and metrics rows."""

    def __init__(self, recorder: MetricsRecorder) -> None:
        self.recorder = recorder

    def state_dict(self) -> dict[str, Any]:
        return {
            "torch": torch.get_rng_state(),
            # Plain types: checkpoints load with torch.load(weights_only=True).
            "numpy": _np_state_to_plain(np.random.get_state()),
            "python": random.getstate(),
            "metrics_rows": self.recorder.rows,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        torch.set_rng_state(state["torch"])
        name, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
        random.setstate(state["python"])
        # Drop rows logged after the checkpoint: the resumed run logs them again.
        rows = read_metrics(self.recorder.path)[: state["metrics_rows"]]
        import json

        # Atomic: a crash here must leave either the old rows or the trimmed ones.
        atomic_write_text(self.recorder.path, "".join(json.dumps(r) + "\n" for r in rows))
        self.recorder.rows = len(rows)


DEFAULT_CHECKPOINT_EVERY_S = 10.0


class EpochEnd(Checkpoint):
    """At each epoch end: the epoch's metrics row, then checkpoints/last.ckpt when one is due,
    written atomically (temp file, fsync, rename).

    A `Checkpoint` subclass because Lightning calls those after the module's own
    on_train_epoch_end (other callbacks before it): a metric the model logs there belongs to
    this epoch's row, not the next one's. The row comes first so the checkpoint counts it.
    Checkpoints are written after the first epoch, then at most every `every_s` seconds: a
    synced checkpoint per epoch costs more than a short epoch itself, and an interruption
    loses at most `every_s` seconds of training (resources.checkpoint_every_s).
    """

    def __init__(self, recorder: MetricsRecorder, path: Path, every_s: float = DEFAULT_CHECKPOINT_EVERY_S) -> None:
        self.recorder = recorder
        self.path = path
        self.every_s = every_s
        self._last: float | None = None

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.recorder.record_epoch(trainer)
        now_s = time.monotonic()
        if self._last is not None and now_s - self._last < self.every_s:
            return
        self._last = now_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            trainer.save_checkpoint(tmp, weights_only=False)  # full state: optimizer, loops, RNG
            if trainer.is_global_zero:
                fsync_path(tmp)  # the data must be on disk before the rename makes it "last"
                os.replace(tmp, self.path)
        except BaseException:
            # A half-written checkpoint (disk full) must not keep eating the space the
            # failed summary still needs; the previous last.ckpt stays as it was.
            _remove_partial_checkpoints(self.path.parent)
            raise


def _remove_partial_checkpoints(folder: Path) -> None:
    for p in folder.glob(".*.tmp*"):
        with contextlib.suppress(OSError):
            p.unlink()


class Progress(L.Callback):
    def __init__(self, emit: Emit, name: str) -> None:
        self.emit = emit
        self.name = name

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.emit("progress", run=self.name, epoch=trainer.current_epoch + 1, max_epochs=trainer.max_epochs)


# -- the run --------------------------------------------------------------------------------
class _Tee:
    """Writes to the terminal and to the run's log (the inline executor's runs)."""

    def __init__(self, *streams) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for s in self.streams:
            s.write(text)
        return len(text)

    def flush(self) -> None:
        for s in self.streams:
            s.flush()


@contextlib.contextmanager
def _output_to(log: Path, capture: bool = True):
    """Send this process's stdout/stderr (file descriptors too: C++ and warnings) to the log.

    With capture=False (--executor inline) the output stays on the terminal, so `breakpoint()`
    works; the log gets repro's own lines and a failure's traceback, through the yielded stream.
    """
    if not capture:
        with open(log, "a", encoding="utf-8", buffering=1) as fh:
            yield _Tee(sys.stdout, fh)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "a", encoding="utf-8", buffering=1) as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            yield fh
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _summarise(rows: list[dict[str, Any]], metrics: list[tuple[str, str]]) -> tuple[dict, dict]:
    epochs = [r for r in rows if r.get("kind") == "epoch"]
    final: dict[str, float] = {}
    best: dict[str, float] = {}
    for r in epochs:
        for k, v in r.items():
            if k not in ("kind", "step", "epoch") and isinstance(v, (int, float)):
                final[k] = v
    for name, goal in metrics:
        vals = [r[name] for r in epochs if isinstance(r.get(name), (int, float)) and math.isfinite(r[name])]
        if vals:
            best[name] = max(vals) if goal == "max" else min(vals)
    return final, best


def prepare_dir(spec: RunSpec, resume: bool) -> None:
    """A fresh run starts from an empty folder; a resumed one keeps its checkpoint and metrics."""
    rdir = Path(spec.run_dir)
    if not resume and rdir.exists():
        shutil.rmtree(rdir)
    rdir.mkdir(parents=True, exist_ok=True)


def execute(spec: RunSpec, emit: Emit = lambda *a, **k: None, *, capture_output: bool = True) -> Summary:
    """Run `spec` to completion (or failure) and return its summary, also written to disk.

    capture_output=False leaves the run's output on the terminal (the inline executor)."""
    rdir = Path(spec.run_dir)
    ckpt = rdir / "checkpoints" / "last.ckpt"
    old, _ = read_summary(rdir)
    if decide(rdir, spec.cache_key)[0] == CACHED:
        # Finished (and intact) since the sweep was planned, e.g. by the `repro run` this one
        # waited for with --wait: never redo finished work.
        return old
    resume = bool(old and old.get("cache_key") == spec.cache_key and old.get("status") == RunStatus.RUNNING and ckpt.is_file())
    started = time.time()
    base: Summary = {**summary_of(spec), "started_at": now(), "resumed": resume}
    try:
        prepare_dir(spec, resume)
        # Not fsynced: the final summary is, and a `running` one lost to a power cut only
        # means the run starts over (two fsyncs fewer per run).
        atomic_write_json(rdir / "summary.json", {**base, "status": RunStatus.RUNNING}, durable=False)
        write_yaml(rdir / "config.yaml", spec.values)
        env = {**runtime_env(), "git": spec.git, "seed": spec.seed, "command": spec.command,
               "cache_key": spec.cache_key, "cwd": os.getcwd()}
        atomic_write_json(rdir / "env.json", env)
    except OSError as e:
        # Cannot even set the run up (disk full, permissions): record why where possible.
        summary: Summary = {**base, "status": RunStatus.FAILED, "error": _describe_os_error(e), "final": {}, "best": {},
                   "ended_at": now()}
        _write_summary(rdir, summary)
        return summary

    status, error = RunStatus.FINISHED, None
    trainer = tracked = None
    with _output_to(rdir / "run.log", capture_output) as log:
        out = sys.stdout if capture_output else log  # repro's own lines: in run.log either way
        print(f"[repro] {now()} {'resuming' if resume else 'starting'} {spec.paper_id} {spec.name} key={spec.cache_key[:12]}",
              file=log, flush=True)
        try:
            L.seed_everything(spec.seed, workers=True, verbose=False)
            root = Path(spec.paper_root)
            model_cls = _the_class(load_paper_module(root / "model.py"), L.LightningModule)
            data_cls = _the_class(load_paper_module(root / "data.py"), L.LightningDataModule)
            model = model_cls(**spec.values["model"])
            data = data_cls(**spec.values["data"])
            recorder = MetricsRecorder(rdir / "metrics.jsonl")
            callbacks = [
                recorder,
                RunState(recorder),
                Progress(emit, spec.name),
                EpochEnd(recorder, ckpt, float(spec.values.get("resources", {}).get("checkpoint_every_s", DEFAULT_CHECKPOINT_EVERY_S))),
            ]
            trainer_kwargs = dict(spec.values["trainer"])
            trainer_kwargs.setdefault("accelerator", "auto" if os.environ.get("CUDA_VISIBLE_DEVICES") else "cpu")
            trainer_kwargs.setdefault("devices", 1)
            tracked = open_tracking(spec, resume)  # --track / paper.yaml tracking: (repro/tracking.py)
            trainer = L.Trainer(
                **trainer_kwargs,
                callbacks=callbacks,
                logger=tracked.loggers if tracked else False,
                default_root_dir=str(rdir),
                enable_progress_bar=False,
                enable_model_summary=False,
                enable_checkpointing=True,  # by EpochEnd only: Lightning adds none beside it
            )
            trainer.fit(model, datamodule=data, ckpt_path=str(ckpt) if resume else None)
        except Diverged as e:
            status, error = RunStatus.DIVERGED, str(e)
            print(f"[repro] diverged: {e}", file=out, flush=True)
        except BaseException as e:  # noqa: BLE001 - one failing run must not stop the sweep
            if deliberate(e):  # Ctrl-C, SIGTERM, SIGHUP, parent gone: stays `running`, resumable
                print(f"[repro] {now()} stopped ({e}); resumes from its last checkpoint", file=out, flush=True)
                raise
            # Anything else, sys.exit() in the model included, is this run's failure.
            status, error = RunStatus.FAILED, f"{type(e).__name__}: {e}"
            if _is_disk_full(e):
                status, error = RunStatus.FAILED, _describe_os_error(_disk_full_cause(e))
            with contextlib.suppress(OSError):
                traceback.print_exc(file=log)
        print(f"[repro] {now()} {status}", file=out, flush=True)

    wall = time.time() - started
    device = "cpu"
    n_devices = 1
    if trainer is not None and trainer.strategy is not None:
        device = str(trainer.strategy.root_device.type)
        n_devices = max(1, trainer.num_devices)
    if device == "cuda":
        device = f"cuda:{env.get('gpu')}"
    final, best = _summarise(read_metrics(rdir / "metrics.jsonl"), spec.metrics)
    if status == RunStatus.FINISHED:
        missing = [m for m, _ in spec.metrics if m not in final]
        if missing:
            status, error = RunStatus.FAILED, f"the model never logged {', '.join(missing)} (paper.yaml metrics)"
            with contextlib.suppress(OSError), open(rdir / "run.log", "a", encoding="utf-8") as fh:
                print(f"[repro] {error}", file=fh)
    prev_wall = float((old or {}).get("wall_time_s", 0.0)) if resume else 0.0
    summary: Summary = {
        **base,
        "status": status,
        "error": error,
        "final": final,
        "best": best,
        "epochs": trainer.current_epoch if trainer is not None else 0,
        "steps": trainer.global_step if trainer is not None else 0,
        "wall_time_s": round(prev_wall + wall, 3),
        "device": device,
        "n_devices": n_devices,
        "device_hours": round((prev_wall + wall) * n_devices / 3600, 6),
        "ended_at": now(),
        "log": "run.log",
    }
    with contextlib.suppress(OSError):  # lets a no-op rerun check the file without reading it whole
        summary["metrics_bytes"] = (rdir / "metrics.jsonl").stat().st_size
    if tracked:
        with contextlib.suppress(OSError), _output_to(rdir / "run.log", capture_output):  # the trackers' own messages ("View run at ...")
            tracked.close(status)
    _write_summary(rdir, summary)
    return summary


def _disk_full_cause(e: BaseException | None) -> OSError | None:
    """The ENOSPC/EDQUOT error behind `e` (Lightning and torch wrap them), if any."""
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return e
        e = e.__cause__ or e.__context__
        seen += 1
    return None


def _is_disk_full(e: BaseException) -> bool:
    return _disk_full_cause(e) is not None


def _describe_os_error(e: OSError | None) -> str:
    if e is None:
        return "OSError"
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" while writing {e.filename}" if e.filename else ""
        return f"disk full: {os.strerror(e.errno)}{where} (free space on the results disk, then rerun)"
    return f"{type(e).__name__}: {e}"


def _write_summary(rdir: Path, summary: dict[str, Any]) -> None:
    """Write the final summary; on a full disk, free what this run left half-written and retry.

    If it still cannot be written the error propagates: the worker reports the run failed
    and the summary on disk still says `running`, which the next sweep redoes.
    """
    try:
        atomic_write_json(rdir / "summary.json", summary)
    except OSError as e:
        if not _is_disk_full(e):
            raise
        _remove_partial_checkpoints(rdir / "checkpoints")
        atomic_write_json(rdir / "summary.json", summary)
