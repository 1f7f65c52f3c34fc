"""A tiny paper folder made by the tests: trains in about a second on CPU."""

from __future__ import annotations

import textwrap
from pathlib import Path

MODEL = '''
import lightning as L
import torch
from torch import nn


class Tiny(L.LightningModule):
    def __init__(self, hidden: int = 8, lr: float = 0.1, explode: bool = False, crash: bool = False,
                 step_sleep: float = 0.0, hang: bool = False):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 2))
        self.lr, self.explode, self.crash = lr, explode, crash
        self.step_sleep, self.hang = step_sleep, hang

    def training_step(self, batch, i):
        x, y = batch
        import time
        time.sleep(self.step_sleep)
        while self.hang:
            time.sleep(0.1)
        if self.crash:
            raise ValueError("deliberate crash for the test")
        loss = nn.functional.cross_entropy(self.net(x), y)
        if self.explode and self.current_epoch >= 1:
            loss = loss * float("nan")
        self.log("train_loss", loss, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, i):
        x, y = batch
        acc = (self.net(x).argmax(-1) == y).float().mean()
        self.log("val_acc", acc)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)
'''

DATA = '''
import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset


class Blobs(L.LightningDataModule):
    def __init__(self, n: int = 64, batch_size: int = 16, shift: float = 2.0, sleep_s: float = 0.0):
        super().__init__()
        self.n, self.batch_size, self.shift, self.sleep_s = n, batch_size, shift, sleep_s

    def setup(self, stage=None):
        import time
        time.sleep(self.sleep_s)
        g = torch.Generator().manual_seed(0)
        y = torch.randint(0, 2, (self.n,), generator=g)
        x = torch.randn(self.n, 4, generator=g) + self.shift * y[:, None].float()
        self.train_set = TensorDataset(x, y)
        self.val_set = TensorDataset(x, y)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.batch_size)
'''


def make_tiny_paper(root: Path, *, pid: str = "0000.00001", epochs: int = 3, seeds=(0, 1),
                    ablations: dict[str, str] | None = None) -> Path:
    """papers/<pid>/ under `root` with baseline, method and optional ablations (name -> YAML)."""
    folder = root / "papers" / pid
    (folder / "configs" / "ablations").mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text(MODEL)
    (folder / "data.py").write_text(DATA)
    (folder / "paper.yaml").write_text(textwrap.dedent(f"""\
        id: "{pid}"
        title: A tiny paper
        authors: [Test Author]
        reproduction:
          seeds: {list(seeds)}
          metrics:
            val_acc: {{goal: max}}
            train_loss: {{goal: min}}
          proxy: generated blobs
        """))
    (folder / "configs" / "base.yaml").write_text(textwrap.dedent(f"""\
        model:
          hidden: 8
          lr: 0.1
        data:
          n: 64
        trainer:
          max_epochs: {epochs}
          log_every_n_steps: 1
        """))
    (folder / "configs" / "baseline.yaml").write_text("model:\n  hidden: 4\n")
    (folder / "configs" / "method.yaml").write_text("model:\n  hidden: 16\n")
    for name, body in (ablations or {}).items():
        (folder / "configs" / "ablations" / f"{name}.yaml").write_text(body)
    (folder / "claims.yaml").write_text("claims: []\n")
    return folder
