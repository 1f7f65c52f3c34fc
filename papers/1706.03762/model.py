"""Attention Is All You Need (1706.03762): the model.

Written by `repro new` as a TOY STAND-IN so that `repro run` works at once: a small
residual MLP that classifies the generated Gaussian blobs of data.py. Replace it with the
paper's model, keeping the contract repro relies on:

  - exactly one LightningModule in this file;
  - its __init__ keyword arguments are the keys under `model:` in configs/*.yaml;
  - it logs every metric named in paper.yaml (reproduction.metrics) with self.log,
    at epoch level: val_acc, val_loss, train_acc, train_loss.
"""

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F

# -----------------------------------------------------------------------------


class Block(nn.Module):
    """Pre-norm residual block: x + Dropout(GELU(Linear(LayerNorm(x))))."""

    def __init__(self, dim: int, dropout: float):
        super().__init__()
        self.ln = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        # x: (B, dim)
        return x + self.drop(F.gelu(self.fc(self.ln(x))))  # (B, dim)


class PaperModel(L.LightningModule):
    def __init__(
        self,
        input_dim: int = 16,         # features per example (must match data.input_dim)
        num_classes: int = 4,        # classes (must match data.num_classes)
        hidden_dim: int = 64,        # width of the residual stream
        num_layers: int = 2,         # residual blocks; 0 = input projection + linear head
        dropout: float = 0.0,
        label_smoothing: float = 0.0,
        lr: float = 3e-3,            # AdamW peak learning rate
        weight_decay: float = 0.0,
        warmup_steps: int = 0,       # linear warm-up, then constant
    ):
        super().__init__()
        self.save_hyperparameters()
        self.inp = nn.Linear(input_dim, hidden_dim)
        self.blocks = nn.ModuleList([Block(hidden_dim, dropout) for _ in range(num_layers)])
        self.ln_f = nn.LayerNorm(hidden_dim)
        self.head = nn.Linear(hidden_dim, num_classes)

    def forward(self, x):
        # x: (B, input_dim)
        h = self.inp(x)  # (B, hidden_dim)
        for block in self.blocks:
            h = block(h)  # (B, hidden_dim)
        return self.head(self.ln_f(h))  # logits: (B, num_classes)

    def _shared_step(self, batch, stage: str):
        x, y = batch  # x: (B, input_dim) float, y: (B,) long
        logits = self(x)  # (B, num_classes)
        loss = F.cross_entropy(logits, y, label_smoothing=self.hparams.label_smoothing)
        acc = (logits.argmax(dim=-1) == y).float().mean()
        # Epoch-level values are what repro's summaries use.
        self.log(f"{stage}_loss", loss, on_step=False, on_epoch=True, prog_bar=stage == "val")
        self.log(f"{stage}_acc", acc, on_step=False, on_epoch=True, prog_bar=stage == "val")
        return loss

    def training_step(self, batch, batch_idx):
        return self._shared_step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._shared_step(batch, "val")

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        warmup = max(int(self.hparams.warmup_steps), 0)
        # step -> multiplier of lr: linear warm-up over `warmup` steps, then 1.
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / (warmup + 1)))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
