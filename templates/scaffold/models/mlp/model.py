"""A multi-layer perceptron classifier, top to bottom.

Reference implementation written by `repro new` (family `mlp`). Every size, regularisation
and optimiser setting is a keyword argument (a key under `model:`).

  - flatten the input -> n_layers x [Linear(hidden_dim) -> (BatchNorm) -> activation ->
    Dropout] -> Linear(num_classes)
  - `input_dropout` drops input features (as in the dropout paper's MNIST nets)
  - SGD with momentum or Adam; label smoothing

A batch is (x, y): x (B, *input_shape) float, y (B,) class ids. Logged per epoch:
train_loss, train_acc, val_loss, val_acc.
"""

from __future__ import annotations

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F

# -----------------------------------------------------------------------------


class PaperModel(L.LightningModule):
    def __init__(
        self,
        input_dim: int = 32,           # features after flattening (784 for MNIST)
        num_classes: int = 10,
        hidden_dim: int = 64,
        n_layers: int = 2,             # hidden layers; 0 = a linear classifier
        activation: str = "relu",      # "relu" | "gelu" | "tanh" | "sigmoid"
        batch_norm: bool = False,
        dropout: float = 0.0,
        input_dropout: float = 0.0,
        label_smoothing: float = 0.0,
        optimizer: str = "adam",       # "adam" | "adamw" | "sgd"
        lr: float = 3e-3,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__()
        acts = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
        if activation not in acts:
            raise ValueError(f"activation must be one of {sorted(acts)}, not {activation!r}")
        self.save_hyperparameters()
        layers: list[nn.Module] = [nn.Flatten(), nn.Dropout(input_dropout)]
        width = input_dim
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden_dim)]
            layers += [nn.BatchNorm1d(hidden_dim)] if batch_norm else []
            layers += [acts[activation](), nn.Dropout(dropout)]
            width = hidden_dim
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)                                               # (B, ...) -> (B, num_classes)

    def _step(self, batch, stage: str) -> torch.Tensor | dict[str, torch.Tensor]:
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.hparams.label_smoothing if stage == "train" else 0.0)
        acc = (logits.argmax(-1) == y).float().mean()
        if stage == "train":
            # repro logs the epoch's mean of each returned scalar: train_loss (of `loss`), train_acc.
            return {"loss": loss, "train_acc": acc.detach()}
        self.log("val_loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log("val_acc", acc, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer == "sgd":
            return torch.optim.SGD(self.parameters(), lr=hp.lr, momentum=hp.momentum, weight_decay=hp.weight_decay)
        opt = torch.optim.AdamW if hp.optimizer == "adamw" else torch.optim.Adam
        return opt(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
