"""The networks of the randomization tests (Zhang et al. 2017, arXiv:1611.03530), scaled to
8x8 digits.

    arch: mlp   the paper's "MLP 1x512 / 3x512": `depth` fully connected ReLU layers of
                `width` units (the paper's MLPs have more parameters than CIFAR10 has images;
                with width 512 and depth 1, ~38k parameters for 1437 images, the same regime)
    arch: cnn   a small AlexNet-like convnet: 3x3 conv (`channels`) + ReLU + 2x2 max-pool,
                3x3 conv (2*`channels`) + ReLU, then a `width`-unit hidden layer

Trained as the paper trains: SGD with momentum 0.9 and the learning rate decayed by a factor
`lr_decay` per epoch (the paper: 0.95). Explicit regularization is off unless a config sets
it: `weight_decay` (an L2 penalty through the optimizer), `dropout` (on the hidden layers);
data augmentation lives in data.py.

Metrics (all epoch-level):
    train_loss  the minibatch loss averaged over the epoch (with dropout and augmentation on)
    train_acc   accuracy on the whole training set with the labels it was trained on, in eval
                mode: the paper's "training accuracy" (validation dataloader 0)
    test_acc    accuracy on the held-out test set with the true labels (dataloader 1)
    test_loss   cross-entropy on the test set
    epochs_to_fit  the first epoch at whose end every training label is fitted (Figure 1b's
                time to overfit); only logged once that has happened
"""

from __future__ import annotations

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F


class RandomizationNet(L.LightningModule):
    def __init__(self, arch: str = "mlp", width: int = 512, depth: int = 1, channels: int = 32,
                 dropout: float = 0.0, weight_decay: float = 0.0, lr: float = 0.01,
                 momentum: float = 0.9, lr_decay: float = 0.95, n_in: int = 64,
                 n_classes: int = 10) -> None:
        super().__init__()
        if arch not in ("mlp", "cnn"):
            raise ValueError(f"model.arch must be 'mlp' or 'cnn', not {arch!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"model.dropout must be in [0, 1), not {dropout}")
        if depth < 1 or width < 1 or channels < 1:
            raise ValueError(f"model.depth, width and channels must be positive: {depth}, {width}, {channels}")
        self.save_hyperparameters()
        if arch == "mlp":
            layers: list[nn.Module] = []
            fan_in = n_in
            for _ in range(depth):
                layers += [nn.Linear(fan_in, width), nn.ReLU(), nn.Dropout(dropout)]
                fan_in = width
            self.features = nn.Sequential(*layers)
            self.head = nn.Linear(fan_in, n_classes)
        else:
            side = int(round(n_in ** 0.5))  # 8: digits are square
            self.features = nn.Sequential(
                nn.Unflatten(1, (1, side, side)),                                # (B, 1, 8, 8)
                nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, C, 4, 4)
                nn.Conv2d(channels, 2 * channels, 3, padding=1), nn.ReLU(),      # (B, 2C, 4, 4)
                nn.Flatten(),                                                    # (B, 32C)
                nn.Linear(2 * channels * (side // 2) ** 2, width), nn.ReLU(), nn.Dropout(dropout),  # (B, width)
            )
            self.head = nn.Linear(width, n_classes)
        self.fit_epoch: int | None = None   # first epoch with 100% training accuracy
        self.n_wrong = 0                    # misclassified training images this validation pass

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, 64) standardised pixels (or noise)
        h = self.features(x)                                      # (B, width)
        return self.head(h)                                       # (B, 10) logits

    # -- training ---------------------------------------------------------------------------
    def on_train_epoch_start(self) -> None:
        self._loss_sum, self._seen = torch.zeros((), device=self.device), 0

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch                                              # (B, 64), (B,)
        loss = F.cross_entropy(self(x), y)
        # Summed here and logged once per epoch (on_train_epoch_end): a self.log call per step
        # costs Lightning ~0.3 ms, as much as this model's whole step on a CPU. Weighted by
        # batch size like Lightning's own on_epoch mean, so the values are the same.
        self._loss_sum = self._loss_sum + loss.detach() * len(y)
        self._seen += len(y)
        return loss

    def on_train_epoch_end(self) -> None:
        self.log("train_loss", self._loss_sum / self._seen)

    # -- evaluation: dataloader 0 is the training set, 1 the test set ------------------------
    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int,
                        dataloader_idx: int = 0) -> None:
        x, y = batch
        logits = self(x)                                          # eval mode: no dropout
        acc = (logits.argmax(-1) == y).float().mean()
        if dataloader_idx == 0:
            self.log("train_acc", acc, add_dataloader_idx=False)
            self.n_wrong += int((logits.argmax(-1) != y).sum())
        else:
            self.log("test_acc", acc, add_dataloader_idx=False)
            self.log("test_loss", F.cross_entropy(logits, y), add_dataloader_idx=False)

    def on_validation_epoch_start(self) -> None:
        self.n_wrong = 0

    def on_validation_epoch_end(self) -> None:
        # Figure 1b's "time to overfit": the first epoch after which every training label is
        # fitted. Logged from then on only, so a run that never fits has no value (not a fake one).
        if self.trainer.sanity_checking:
            return
        if self.n_wrong == 0 and self.fit_epoch is None:
            self.fit_epoch = self.current_epoch + 1
        if self.fit_epoch is not None:
            self.log("epochs_to_fit", float(self.fit_epoch))

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["fit_epoch"] = self.fit_epoch       # so a resumed run keeps it

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.fit_epoch = checkpoint.get("fit_epoch")

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=self.hparams.momentum,
                              weight_decay=self.hparams.weight_decay)
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=self.hparams.lr_decay)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}
