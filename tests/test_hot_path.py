"""The training hot path reads nothing back from the device on most steps (issue 19).

On a GPU, Tensor.item() (and float(), bool(), tolist()) on a device tensor makes the host wait
for the device. These tests count such calls per step on CPU by patching torch.Tensor.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
L = pytest.importorskip("lightning")

from repro.runs import callbacks  # noqa: E402

READS = ("item", "__float__", "__bool__", "tolist")


class Net(L.LightningModule):
    def __init__(self, nan_from_step: int | None = None) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 2)
        self.nan_from_step = nan_from_step

    def training_step(self, batch, i):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.lin(x), y)
        if self.nan_from_step is not None and self.global_step >= self.nan_from_step:
            loss = loss * float("nan")
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _loader(n: int = 160, batch: int = 4):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, 4, generator=g), torch.randint(0, 2, (n,), generator=g)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch)


class CountReads(L.Callback):
    """Counts device reads made between the first and the last training step, by caller file."""

    def __init__(self) -> None:
        self.by_file: collections.Counter = collections.Counter()
        self._orig = {n: getattr(torch.Tensor, n) for n in READS}

    def _patch(self) -> None:
        def wrap(name):
            orig = self._orig[name]

            def counted(t, *a, **k):
                self.by_file[Path(sys._getframe(1).f_code.co_filename).name] += 1
                return orig(t, *a, **k)
            return counted
        for n in READS:
            setattr(torch.Tensor, n, wrap(n))

    def unpatch(self) -> None:
        for n, f in self._orig.items():
            setattr(torch.Tensor, n, f)

    def on_train_batch_start(self, trainer, *a) -> None:
        if trainer.global_step == 0:
            self._patch()

    def on_train_end(self, trainer, *a) -> None:
        self.unpatch()


def _fit(tmp_path: Path, model: Net, steps: int, every: int = 10):
    recorder = callbacks.MetricsRecorder(tmp_path / "metrics.jsonl", every_n_steps=every)
    counter = CountReads()
    trainer = L.Trainer(max_steps=steps, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, limit_val_batches=0,
                        callbacks=[recorder, counter])
    try:
        trainer.fit(model, train_dataloaders=_loader())
    finally:
        counter.unpatch()
    return trainer, counter, recorder


def test_recorder_reads_the_loss_only_on_logged_steps(tmp_path):
    steps = 40
    trainer, counter, recorder = _fit(tmp_path, Net(), steps)
    assert trainer.global_step == steps
    # The old recorder read the loss every step (40 reads); now it reads it on the 4 logged
    # steps (the row's value and the divergence check) and once at the end.
    assert counter.by_file["callbacks.py"] <= 2 * (steps // 10) + 1, counter.by_file
    # Nothing else in the loop (Lightning included) reads the device every step.
    assert sum(counter.by_file.values()) / steps < 0.5, counter.by_file
    rows = [r for r in callbacks.read_metrics(tmp_path / "metrics.jsonl") if r["kind"] == "step"]
    assert [r["step"] for r in rows] == [10, 20, 30, 40]


def test_a_nan_between_logged_steps_still_stops_the_run(tmp_path):
    with pytest.raises(callbacks.Diverged, match="nan"):
        _fit(tmp_path, Net(nan_from_step=13), steps=40)
    # It is caught at the next logged step, not at the end of training.
    rows = [r for r in callbacks.read_metrics(tmp_path / "metrics.jsonl") if r["kind"] == "step"]
    assert [r["step"] for r in rows] == [10]


def test_a_nan_in_the_last_unlogged_steps_is_caught_at_the_end(tmp_path):
    with pytest.raises(callbacks.Diverged, match="nan"):
        _fit(tmp_path, Net(nan_from_step=34), steps=37)


def test_package_metadata_is_read_once_per_worker_not_per_run(monkeypatch):
    import importlib.metadata

    from repro import envinfo

    envinfo._static_env.cache_clear()
    calls = []
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: calls.append(name) or real(name))
    first = envinfo.runtime_env()
    n = len(calls)
    assert n >= 1
    second = envinfo.runtime_env()
    assert len(calls) == n and first == second
    envinfo._static_env.cache_clear()


def test_the_running_summary_is_written_without_fsync(tmp_path, monkeypatch):
    import os

    from repro.atomic import atomic_write_json

    synced = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    atomic_write_json(tmp_path / "a.json", {"status": "running"}, durable=False)
    assert synced == [] and (tmp_path / "a.json").read_text().strip().startswith("{")
    atomic_write_json(tmp_path / "b.json", {"status": "finished"})
    assert len(synced) == 2  # the file and its folder


WORKER_START = r'''
import gc
from repro.runs import worker

class Conn:  # the parent's end of the pipe: takes the worker's messages, then says stop
    def __init__(self):
        self.sent = []
    def send(self, msg):
        self.sent.append(msg)
    def recv(self):
        return None

full = []
gc.callbacks.append(lambda phase, info: full.append(1) if phase == "start" and info["generation"] == 2 else None)
conn = Conn()
worker._serve(0, {}, 1, conn)
print(conn.sent[0][0], gc.isenabled(), gc.get_freeze_count(), len(full))
'''


def test_worker_start_up_imports_without_full_collections_and_freezes_them():
    """torch and Lightning's ~400k import-time objects are neither rescanned while importing
    (a full collection each time the heap grows by a quarter) nor by later collections."""
    import os
    import subprocess

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", WORKER_START], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(root)}).stdout.split()
    ready, enabled, frozen, full_collections = out[0], out[1], int(out[2]), int(out[3])
    assert ready == "ready" and enabled == "True"
    assert frozen > 100_000           # the imports' objects: out of every later collection
    assert full_collections == 0      # none while importing torch, Lightning and repro.runs.training
