"""A ResNet image classifier (CIFAR- or ImageNet-style stem), top to bottom.

Reference implementation written by `repro new` (family `resnet`). Every size,
regularisation and optimiser setting is a keyword argument (a key under `model:`).

  - stem "cifar": 3x3 conv, stride 1 (32x32 inputs); "imagenet": 7x7 conv stride 2 + 3x3
    max-pool stride 2 (224x224 inputs)
  - stages of residual blocks, `blocks_per_stage` each, widths `width * 2^i`; the first block
    of every stage after the first halves the resolution (stride 2) with a 1x1 projection
    shortcut; "basic" blocks are two 3x3 convs, "bottleneck" 1x1 -> 3x3 -> 1x1 (x4 out)
  - `residual: false` drops the shortcuts (the "plain" network of an ablation)
  - global average pooling, dropout, linear classifier
  - SGD with momentum (or Adam), step or cosine schedule, weight decay, label smoothing

A batch is (x, y): x (B, in_channels, H, W), y (B,) class ids. Logged per epoch:
train_loss, train_acc, val_loss, val_acc.
"""

from __future__ import annotations

import math

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F

# -----------------------------------------------------------------------------


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, c_in: int, c: int, stride: int, residual: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.residual = residual
        self.shortcut = nn.Identity()
        if residual and (stride != 1 or c_in != c):   # projection shortcut (option B)
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c, 1, stride, bias=False), nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))                            # (B, c, H/s, W/s)
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x) if self.residual else out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, c_in: int, c: int, stride: int, residual: bool) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c_in, c, 1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, stride, 1, bias=False), nn.BatchNorm2d(c)
        self.conv3, self.bn3 = nn.Conv2d(c, 4 * c, 1, bias=False), nn.BatchNorm2d(4 * c)
        self.residual = residual
        self.shortcut = nn.Identity()
        if residual and (stride != 1 or c_in != 4 * c):
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, 4 * c, 1, stride, bias=False), nn.BatchNorm2d(4 * c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))                          # (B, c, H/s, W/s)
        out = self.bn3(self.conv3(out))                                  # (B, 4c, H/s, W/s)
        return F.relu(out + self.shortcut(x) if self.residual else out)


# -----------------------------------------------------------------------------


class PaperModel(L.LightningModule):
    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        stem: str = "cifar",           # "cifar" | "imagenet"
        block: str = "basic",          # "basic" | "bottleneck"
        blocks_per_stage: list[int] | None = None,  # None: [1, 1, 1]; ResNet-18 [2, 2, 2, 2]
        width: int = 16,               # channels of the first stage
        residual: bool = True,
        dropout: float = 0.0,
        label_smoothing: float = 0.0,
        optimizer: str = "sgd",        # "sgd" | "adam" | "adamw"
        lr: float = 0.1,
        momentum: float = 0.9,
        nesterov: bool = False,
        weight_decay: float = 5e-4,
        schedule: str = "cosine",      # "cosine" | "step" | "constant"
        lr_milestones: list[float] | None = None,  # schedule: step -> fractions of training, x0.1 each
    ) -> None:
        super().__init__()
        if stem not in ("cifar", "imagenet") or block not in ("basic", "bottleneck"):
            raise ValueError(f"stem must be cifar|imagenet and block basic|bottleneck, got {stem!r}, {block!r}")
        blocks_per_stage = list(blocks_per_stage or [1, 1, 1])
        self.save_hyperparameters()
        if stem == "cifar":
            self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, 1, 1, bias=False),
                                      nn.BatchNorm2d(width), nn.ReLU())
        else:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 7, 2, 3, bias=False),
                                      nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        Block = BasicBlock if block == "basic" else Bottleneck
        stages, c_in = [], width
        for i, n in enumerate(blocks_per_stage):
            c = width * 2 ** i
            for j in range(n):
                stages.append(Block(c_in, c, 2 if (i > 0 and j == 0) else 1, residual))
                c_in = c * Block.expansion
        self.stages = nn.Sequential(*stages)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, in_channels, H, W)
        h = self.stages(self.stem(x))                                    # (B, C_last, H', W')
        h = h.mean(dim=(2, 3))                                           # global average pool: (B, C_last)
        return self.fc(self.drop(h))                                     # logits: (B, num_classes)

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
            opt = torch.optim.SGD(self.parameters(), lr=hp.lr, momentum=hp.momentum, nesterov=hp.nesterov,
                                  weight_decay=hp.weight_decay)
        else:
            cls = torch.optim.AdamW if hp.optimizer == "adamw" else torch.optim.Adam
            opt = cls(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        if hp.schedule == "cosine":
            f = lambda s: 0.5 * (1 + math.cos(math.pi * min(s / total, 1.0)))
        elif hp.schedule == "step":
            marks = [int(m * total) for m in (hp.lr_milestones or [0.5, 0.75])]
            f = lambda s: 0.1 ** sum(s >= m for m in marks)
        else:
            f = lambda s: 1.0
        sched = torch.optim.lr_scheduler.LambdaLR(opt, f)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
