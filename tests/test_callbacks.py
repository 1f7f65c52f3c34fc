"""The runner's own epoch means (callbacks.EpochMeans): model.py returns its loss, repro logs
train_loss (issue 20)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
L = pytest.importorskip("lightning")

from repro.runs import callbacks  # noqa: E402

pytestmark = pytest.mark.slow  # trains (a few steps of a linear model)

X = torch.arange(40, dtype=torch.float32).reshape(10, 4) / 40
Y = torch.tensor([0, 1] * 5)


class Net(L.LightningModule):
    """Returns `kind` from training_step; records every step's loss and batch size."""

    def __init__(self, kind: str = "tensor") -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 2)
        self.kind = kind
        self.steps: list[tuple[int, float, float]] = []  # (epoch, loss, batch size)

    def training_step(self, batch, i):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.lin(x), y)
        self.steps.append((self.current_epoch, float(loss), len(y)))
        if self.kind == "none":
            return None
        if self.kind == "dict":
            return {"loss": loss * 2, "train_loss": loss.detach(), "train_acc": torch.tensor(float(len(y)))}
        if self.kind == "own":
            self.log("train_loss", 7.0, on_step=False, on_epoch=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _fit(tmp_path: Path, model: Net, epochs: int = 2) -> list[dict]:
    recorder = callbacks.MetricsRecorder(tmp_path / "metrics.jsonl")
    means = callbacks.EpochMeans()
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, limit_val_batches=0,
                        callbacks=[recorder, means, callbacks.EpochEnd(recorder, tmp_path / "last.ckpt", 1e9, means)])
    # Batches of 4, 4 and 2: a plain mean of the step losses is not the batch-weighted one.
    trainer.fit(model, train_dataloaders=torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, Y), batch_size=4))
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == "epoch"]


def _weighted(steps, epoch):
    rows = [(loss, n) for e, loss, n in steps if e == epoch]
    return sum(loss * n for loss, n in rows) / sum(n for _, n in rows)


def test_the_runner_logs_the_batch_weighted_mean_training_loss(tmp_path):
    model = Net()
    rows = _fit(tmp_path, model)
    assert [r["epoch"] for r in rows] == [0, 1]
    for r in rows:
        assert r["train_loss"] == pytest.approx(_weighted(model.steps, r["epoch"]), rel=1e-6)
        plain = [loss for e, loss, _ in model.steps if e == r["epoch"]]
        assert r["train_loss"] != pytest.approx(sum(plain) / len(plain), rel=1e-6)


def test_a_returned_dict_names_its_own_epoch_means(tmp_path):
    model = Net("dict")
    rows = _fit(tmp_path, model)
    for r in rows:
        # train_loss is the dict's, not the objective (twice as large); train_acc averaged too.
        assert r["train_loss"] == pytest.approx(_weighted(model.steps, r["epoch"]), rel=1e-6)
        assert r["train_acc"] == pytest.approx((4 * 4 + 4 * 4 + 2 * 2) / 10)


def test_a_metric_the_model_logs_itself_stays_the_models(tmp_path):
    rows = _fit(tmp_path, Net("own"))
    assert [r["train_loss"] for r in rows] == [7.0, 7.0]


def test_nothing_trained_logs_no_training_loss(tmp_path):
    rows = _fit(tmp_path, Net("none"))
    assert rows and all("train_loss" not in r for r in rows)


def test_alone_on_a_plain_trainer_it_logs_the_same_means():
    model = Net("dict")
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, limit_val_batches=0,
                        callbacks=[callbacks.EpochMeans()])
    trainer.fit(model, train_dataloaders=torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, Y), batch_size=4))
    assert float(trainer.callback_metrics["train_loss"]) == pytest.approx(_weighted(model.steps, 0), rel=1e-6)
    assert float(trainer.callback_metrics["train_acc"]) == pytest.approx(3.6)
