"""One run, in-process: seed, build the paper's model and data, train, record, checkpoint.

This is the only module (with worker.py and the modules it uses: callbacks.py, paper_code.py,
diskfull.py) that imports torch and lightning. It is called inside a long-lived worker process,
so the imports are paid once per worker, not per run.

What a run leaves is described in results.py. The summary is written first as
`status: running` (with the cache key, so an interrupted run can be recognised and resumed)
and last as the final status.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import lightning as L

from ..atomic import atomic_write_json
from .callbacks import DEFAULT_CHECKPOINT_EVERY_S, Diverged, Emit, EpochEnd, EpochMeans, MetricsRecorder, Progress, RunState
from ..clock import utc_now
from .diskfull import describe_os_error, disk_full_cause, is_disk_full, write_summary
from ..envinfo import runtime_env
from .interrupts import deliberate
from .paper_code import load_paper_module, the_class
from .planner import CACHED, RunSpec, decide
from ..results import RunStatus, Summary, read_metrics, read_summary, summary_of
from .tracking import open_tracking
from ..yamlio import write_yaml

now = utc_now


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
        summary: Summary = {**base, "status": RunStatus.FAILED, "error": describe_os_error(e), "final": {}, "best": {},
                   "ended_at": now()}
        write_summary(rdir, summary)
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
            model_cls = the_class(load_paper_module(root / "model.py"), L.LightningModule)
            data_cls = the_class(load_paper_module(root / "data.py"), L.LightningDataModule)
            model = model_cls(**spec.values["model"])
            data = data_cls(**spec.values["data"])
            recorder = MetricsRecorder(rdir / "metrics.jsonl")
            means = EpochMeans()  # train_loss: the runner's, not each model.py's
            callbacks = [
                recorder,
                means,
                RunState(recorder),
                Progress(emit, spec.name),
                EpochEnd(recorder, ckpt, float(spec.values.get("resources", {}).get("checkpoint_every_s", DEFAULT_CHECKPOINT_EVERY_S)),
                         means),
            ]
            trainer_kwargs = dict(spec.values["trainer"])
            trainer_kwargs.setdefault("accelerator", "auto" if os.environ.get("CUDA_VISIBLE_DEVICES") else "cpu")
            trainer_kwargs.setdefault("devices", 1)
            tracked = open_tracking(spec, resume)  # --track / paper.yaml tracking: (repro/runs/tracking.py)
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
            if is_disk_full(e):
                status, error = RunStatus.FAILED, describe_os_error(disk_full_cause(e))
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
    write_summary(rdir, summary)
    return summary
