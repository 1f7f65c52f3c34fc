"""The Lightning callbacks every run gets: the epoch's mean training loss, metrics rows,
divergence, resumable state, end-of-epoch checkpoints, progress events.

training.execute attaches them; what they write is described in results.py.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Checkpoint
from lightning.pytorch.utilities.data import extract_batch_size

from ..atomic import atomic_write_text, fsync_path
from .diskfull import remove_partial_checkpoints
from ..results import read_metrics
from .worker_messages import Kind

Emit = Callable[..., None]  # emit(kind, **fields): progress events to the parent (worker_messages)


class Diverged(RuntimeError):
    """The training loss became NaN or infinite."""


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


class EpochMeans(L.Callback):
    """Logs `train_loss`: the mean over the epoch of the loss training_step returns, weighted
    by batch size like Lightning's own on_epoch mean, so model.py keeps no bookkeeping of its own.

    A training_step may return a dict: `loss` is the objective, and every other scalar in it is
    averaged and logged the same way under its own key (`train_acc`, ...); a `train_loss` key
    there is logged instead of the objective (e.g. the loss without label smoothing). A step
    that returns None (nothing to train) adds nothing, and an epoch without losses logs none.
    A name the model logs itself (seen in the first epoch) is the model's: never overwritten.

    Summed on the device and logged once per epoch: a self.log call per step costs Lightning
    ~0.3 ms, as much as a small model's whole step on a CPU. In a run, EpochEnd logs them after
    the module's own on_train_epoch_end (so even a name the model logs there stays its own);
    alone (a plain Trainer, in tests) this callback logs them before it. Nothing needs saving
    for a resume: checkpoints are written at epoch ends, and the sums start again each epoch.
    """

    def __init__(self) -> None:
        self._sums: dict[str, Any] = {}
        self._seen = 0
        self._models_own: set[str] | None = None  # names the model logs itself
        self.logged_by_epoch_end = False  # EpochEnd sets it: it calls log_epoch

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._sums, self._seen = {}, 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        values = dict(outputs) if isinstance(outputs, Mapping) else {"loss": outputs}
        if values.get("loss") is None:
            return
        if "train_loss" in values:
            values.pop("loss")
        elif trainer.accumulate_grad_batches > 1:  # Lightning hands on the loss divided by it
            values["loss"] = values["loss"] * trainer.accumulate_grad_batches
        n = extract_batch_size(batch)
        for key, v in values.items():
            if not (isinstance(v, (int, float)) or (torch.is_tensor(v) and v.numel() == 1)):
                continue  # not a scalar (logits, hidden states): nothing to average
            name = "train_loss" if key == "loss" else key
            v = v.detach() if torch.is_tensor(v) else v
            self._sums[name] = self._sums.get(name, torch.zeros((), device=pl_module.device)) + v * n
        self._seen += n

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if not self.logged_by_epoch_end:
            self.log_epoch(trainer, pl_module)

    def log_epoch(self, trainer, pl_module) -> None:
        """Log this epoch's means (EpochEnd calls it after the module's on_train_epoch_end)."""
        if self._models_own is None:
            # Nothing of ours is logged yet, so whatever Lightning holds, the model logged.
            self._models_own = set(trainer.callback_metrics)
        if self._seen:
            for name, total in self._sums.items():
                if name not in self._models_own:
                    pl_module.log(name, total / self._seen)


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
    """At each epoch end: the epoch's means (EpochMeans), its metrics row, then
    checkpoints/last.ckpt when one is due, written atomically (temp file, fsync, rename).

    A `Checkpoint` subclass because Lightning calls those after the module's own
    on_train_epoch_end (other callbacks before it): a metric the model logs there belongs to
    this epoch's row, not the next one's. The row comes first so the checkpoint counts it.
    Checkpoints are written after the first epoch, then at most every `every_s` seconds: a
    synced checkpoint per epoch costs more than a short epoch itself, and an interruption
    loses at most `every_s` seconds of training (resources.checkpoint_every_s).
    """

    def __init__(self, recorder: MetricsRecorder, path: Path, every_s: float = DEFAULT_CHECKPOINT_EVERY_S,
                 means: EpochMeans | None = None) -> None:
        self.recorder = recorder
        self.path = path
        self.every_s = every_s
        self.means = means
        if means is not None:
            means.logged_by_epoch_end = True
        self._last: float | None = None

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if self.means is not None:
            self.means.log_epoch(trainer, pl_module)
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
            remove_partial_checkpoints(self.path.parent)
            raise



class Progress(L.Callback):
    def __init__(self, emit: Emit, name: str) -> None:
        self.emit = emit
        self.name = name

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.emit(Kind.PROGRESS, run=self.name, epoch=trainer.current_epoch + 1, max_epochs=trainer.max_epochs)

