"""The networks of the randomization tests (Zhang et al. 2017, arXiv:1611.03530), scaled to
8x8 digits.

    arch: mlp   the paper's "MLP 1x512 / 3x512": `depth` fully connected ReLU layers of
                `width` units (the paper's MLPs have more parameters than CIFAR10 has images;
                with width 512 and depth 1, ~38k parameters for 1437 images, the same regime)
    arch: cnn   a small AlexNet-like convnet: 3x3 conv (`channels`) + ReLU + 2x2 max-pool,
                3x3 conv (2*`channels`) + ReLU, then a `width`-unit hidden layer
    arch: theorem1  Theorem 1's depth-two ReLU network with 2n + d weights, not trained but
                constructed from the n training points (Section 4): f(x) = sum_j w_j
                max(<a, x> - b_j, 0) with a random direction a (d weights), the b_j (n)
                interleaved with the sorted projections z_i = <a, x_i>, and w (n) solving the
                lower-triangular system A w = y, A_ij = max(z_i - b_j, 0). The label y_i is
                its class index, the predicted class round(f(x)). If the theorem holds (and
                the n points are distinct), training accuracy is exactly 1 for any labelling

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
                time to overfit); until then max_epochs + 1, so a run that never fits counts
                as slower than any run that did (a censored time, not a measured one)
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
        if arch not in ("mlp", "cnn", "theorem1"):
            raise ValueError(f"model.arch must be 'mlp', 'cnn' or 'theorem1', not {arch!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"model.dropout must be in [0, 1), not {dropout}")
        if depth < 1 or width < 1 or channels < 1:
            raise ValueError(f"model.depth, width and channels must be positive: {depth}, {width}, {channels}")
        self.save_hyperparameters()
        if arch == "theorem1":
            self.theorem1: Theorem1Net | None = None    # built from the training set at fit start
            self.head = None
        elif arch == "mlp":
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
        if self.hparams.arch == "theorem1":
            return self.theorem1.logits(x, self.hparams.n_classes)   # (B, 10) one-hot of round(f(x))
        h = self.features(x)                                      # (B, width)
        return self.head(h)                                       # (B, 10) logits

    def on_fit_start(self) -> None:
        if self.hparams.arch == "theorem1" and self.theorem1 is None:
            x, y = self.trainer.datamodule.train_set.tensors     # (n, d), (n,) the labels trained on
            self.theorem1 = Theorem1Net.construct(x, y, seed=int(torch.initial_seed()))

    # -- training ---------------------------------------------------------------------------
    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor | None:
        if self.hparams.arch == "theorem1":
            return None                                           # constructed, not trained
        x, y = batch                                              # (B, 64), (B,)
        loss = F.cross_entropy(self(x), y)
        return loss

    def on_train_epoch_end(self) -> None:
        if self.hparams.arch == "theorem1" and self.theorem1 is not None:
            x, y = self.trainer.datamodule.train_set.tensors
            # The construction's own loss: mean squared error of f(x_i) against y_i (0 if exact).
            self.log("train_loss", float(((self.theorem1(x) - y.double()) ** 2).mean()))
            self.log("n_weights", float(self.theorem1.n_weights))  # 2n + d

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
        # fitted; before that the budget plus one, so "never" is always the slowest.
        if self.trainer.sanity_checking:
            return
        if self.n_wrong == 0 and self.fit_epoch is None:
            self.fit_epoch = self.current_epoch + 1
        not_yet = float(self.trainer.max_epochs + 1)           # censored: never fitted so far
        self.log("epochs_to_fit", float(self.fit_epoch) if self.fit_epoch is not None else not_yet)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["fit_epoch"] = self.fit_epoch       # so a resumed run keeps it

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.fit_epoch = checkpoint.get("fit_epoch")

    def configure_optimizers(self):
        if self.hparams.arch == "theorem1":
            return None                                           # nothing to optimise
        opt = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=self.hparams.momentum,
                              weight_decay=self.hparams.weight_decay)
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=self.hparams.lr_decay)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


class Theorem1Net:
    """Theorem 1 (Section 4): a depth-two ReLU net with 2n + d weights that fits any n labels.

    Built in float64: the diagonal of A is half the gap between neighbouring projections, so
    the system is badly conditioned and float32 would lose labels to rounding, not to theory.
    """

    def __init__(self, a: torch.Tensor, b: torch.Tensor, w: torch.Tensor) -> None:
        self.a, self.b, self.w = a, b, w                          # (d,), (n,), (n,)
        self.n_weights = a.numel() + b.numel() + w.numel()        # 2n + d

    @classmethod
    def construct(cls, x: torch.Tensor, y: torch.Tensor, seed: int = 0) -> "Theorem1Net":
        x = x.double()                                            # (n, d)
        gen = torch.Generator().manual_seed(seed)
        a = torch.randn(x.shape[1], generator=gen, dtype=torch.float64)   # (d,) random direction
        z, order = torch.sort(x @ a)                              # (n,) sorted projections
        gaps = torch.diff(z)                                      # (n-1,) > 0 for distinct points
        b = torch.empty_like(z)
        b[0] = z[0] - 1.0                                         # b_1 < z_1 < b_2 < z_2 < ...
        b[1:] = z[:-1] + gaps / 2
        A = torch.clamp(z[:, None] - b[None, :], min=0.0)         # (n, n) lower triangular
        target = y[order].double()                                # (n,) class index as a real
        w = torch.linalg.solve_triangular(A, target[:, None], upper=False).squeeze(1)
        return cls(a, b, w)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, d) -> f(x): (B,)
        h = torch.clamp((x.double() @ self.a)[:, None] - self.b[None, :], min=0.0)   # (B, n)
        return h @ self.w

    def logits(self, x: torch.Tensor, n_classes: int) -> torch.Tensor:
        # The class is round(f(x)); logits are its one-hot, so argmax and accuracy follow.
        cls = torch.clamp(torch.round(self(x)), 0, n_classes - 1).long()
        return F.one_hot(cls, n_classes).float()
