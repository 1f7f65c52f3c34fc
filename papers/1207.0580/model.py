"""Dropout (Hinton, Srivastava, Krizhevsky, Sutskever, Salakhutdinov 2012, arXiv:1207.0580).

A fully connected classifier. While training, every input pixel is dropped with probability
`p_input` and every hidden unit with probability `p_hidden`, a fresh mask for each example.
At test time the whole network is used (the paper's "mean network"). nn.Dropout scales the
kept units by 1/(1-p) while training instead of scaling the outgoing weights by (1-p) at test
time; the two are the same network in expectation.

The paper pairs dropout with a max-norm constraint: rather than an L2 penalty on all weights,
each hidden unit's incoming weight vector is renormalised to length `max_norm` whenever an
update makes it longer (null: no constraint).
"""

from __future__ import annotations

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class DropoutMLP(L.LightningModule):
    def __init__(self, n_in: int = 64, n_classes: int = 10, hidden: int = 256, depth: int = 2,
                 activation: str = "relu", p_input: float = 0.0, p_hidden: float = 0.0,
                 max_norm: float | None = None, lr: float = 0.05, momentum: float = 0.9,
                 weight_decay: float = 0.0, lr_decay: float = 1.0) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, not {activation!r}")
        if not (0.0 <= p_input < 1.0 and 0.0 <= p_hidden < 1.0):
            raise ValueError(f"dropout probabilities must be in [0, 1): p_input={p_input}, p_hidden={p_hidden}")
        self.save_hyperparameters()
        layers: list[nn.Module] = [nn.Dropout(p_input)]          # dropout on the pixels
        width = n_in
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), ACTIVATIONS[activation](), nn.Dropout(p_hidden)]
            width = hidden
        self.hidden_layers = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)                  # no dropout on the outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, 64) pixels in [0, 1]
        h = self.hidden_layers(x)                                # (B, hidden)
        return self.head(h)                                      # (B, 10) logits

    # -- training -------------------------------------------------------------------------
    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
        if self.hparams.max_norm is None:
            return
        # Max-norm: clip each hidden unit's incoming weight vector (a row of W) to max_norm.
        with torch.no_grad():
            for m in self.hidden_layers:
                if isinstance(m, nn.Linear):
                    m.weight.copy_(torch.renorm(m.weight, p=2, dim=0, maxnorm=self.hparams.max_norm))

    # -- evaluation: dataloader 0 is the training set, 1 the test set ----------------------
    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        x, y = batch
        logits = self(x)                                         # eval mode: no dropout
        acc = (logits.argmax(-1) == y).float().mean()
        if dataloader_idx == 0:
            self.log("train_acc", acc, add_dataloader_idx=False)
        else:
            self.log("test_acc", acc, add_dataloader_idx=False)
            self.log("test_error", 1.0 - acc, add_dataloader_idx=False)
            self.log("test_loss", F.cross_entropy(logits, y), add_dataloader_idx=False)

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=self.hparams.momentum,
                              weight_decay=self.hparams.weight_decay)
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=self.hparams.lr_decay)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}
