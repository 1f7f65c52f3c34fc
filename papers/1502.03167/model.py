"""Batch Normalization (Ioffe & Szegedy 2015, arXiv:1502.03167), section 4.1's MNIST network.

A fully connected net of `depth` hidden layers of `hidden` units, each computing
y = g(BN(W u)) with the sigmoid g (the paper's z = g(Wu + b) becomes z = g(BN(Wu)): the bias
is dropped because BN's mean subtraction cancels it and beta takes its role). With
`batch_norm: false` it is the paper's baseline y = g(Wu + b). Weights start as small random
Gaussians (`init_std`), as in the paper; plain SGD, fixed learning rate.

`init: glorot` replaces the small Gaussians with Glorot-uniform weights (the usual default
for sigmoid nets): a control that tells "deep sigmoid nets need BN" apart from "deep sigmoid
nets need a sensible initialisation".

Besides accuracy, the module logs how fast it learns, which is what the paper's Figures 1(a)
and 3 are about, and what Figure 1(b, c) shows BN does to the inputs of a sigmoid:
  steps_to_target  training steps until test accuracy first reached `target_acc`
                   (evaluated every epoch; a run that never gets there logs its total
                   step budget plus one epoch, so "never" always counts as slowest)
  test_acc_auc     mean test accuracy over all evaluations so far (area under Fig. 1(a)'s
                   curve, divided by its length): higher = learned earlier
  input_p15, input_p50, input_p85
                   the {15, 50, 85}th percentiles of the inputs to the last hidden layer's
                   sigmoids on the test set (per unit over the images, then the median unit:
                   "a typical sigmoid"), at every evaluation -- Figure 1(b, c)'s curves
  input_drift      how far those three percentiles have moved so far: the sum over
                   evaluations of |change| of each, averaged over the three. The paper's
                   point is that with BN the distribution stays put (small drift)
"""

from __future__ import annotations

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


class BatchNormMLP(L.LightningModule):
    def __init__(self, n_in: int = 64, n_classes: int = 10, hidden: int = 100, depth: int = 3,
                 activation: str = "sigmoid", batch_norm: bool = False, init_std: float = 0.1,
                 lr: float = 0.5, momentum: float = 0.0, target_acc: float = 0.9,
                 init: str = "normal") -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, not {activation!r}")
        if init not in ("normal", "glorot"):
            raise ValueError(f"init must be 'normal' or 'glorot', not {init!r}")
        self.save_hyperparameters()
        layers: list[nn.Module] = []
        width = n_in
        for _ in range(depth):
            layers.append(nn.Linear(width, hidden, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden))           # learned gamma, beta per unit
            layers.append(ACTIVATIONS[activation]())
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)                 # 10 outputs, cross-entropy
        for m in self.modules():
            if isinstance(m, nn.Linear):
                if init == "glorot":
                    nn.init.xavier_uniform_(m.weight)
                else:
                    nn.init.normal_(m.weight, std=init_std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        self._evals: list[float] = []                           # test accuracy per evaluation
        self._reached_at: int | None = None                     # step test_acc hit target_acc
        self._pcts: list[list[float]] = []                      # [p15, p50, p85] per evaluation
        self._sigmoid_inputs: list[torch.Tensor] = []           # test-set batches, this eval

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, 64) pixels in [0, 1]
        h = self.body(x)                                        # (B, hidden) sigmoid outputs
        return self.head(h)                                     # (B, 10) logits

    def last_sigmoid_inputs(self, x: torch.Tensor) -> torch.Tensor:
        # (B, hidden): what the last hidden layer's nonlinearity receives (after BN if any)
        return self.body[:-1](x)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        return loss

    # -- evaluation: dataloader 0 is the training set, 1 the test set ----------------------
    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        x, y = batch
        logits = self(x)                                        # eval: BN population statistics
        acc = (logits.argmax(-1) == y).float().mean()
        if dataloader_idx == 0:
            self.log("train_acc", acc, add_dataloader_idx=False)
        else:
            self.log("test_acc", acc, add_dataloader_idx=False)
            self.log("test_loss", F.cross_entropy(logits, y), add_dataloader_idx=False)
            if not self.trainer.sanity_checking:
                self._sigmoid_inputs.append(self.last_sigmoid_inputs(x).detach())

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            return
        acc = float(self.trainer.callback_metrics["test_acc"])
        self._evals.append(acc)
        if self._reached_at is None and acc >= self.hparams.target_acc:
            self._reached_at = int(self.global_step)
        # Not reached yet: the budget plus one epoch, a value no run that got there can have.
        budget = self.trainer.max_epochs * self.trainer.num_training_batches
        steps = self._reached_at if self._reached_at is not None else budget + self.trainer.num_training_batches
        self.log("steps_to_target", float(steps))
        self.log("test_acc_auc", sum(self._evals) / len(self._evals))
        # Figure 1(b, c): percentiles of a typical sigmoid's input over the test set.
        inputs = torch.cat(self._sigmoid_inputs)                # (N_test, hidden)
        self._sigmoid_inputs = []
        per_unit = torch.quantile(inputs, torch.tensor([0.15, 0.5, 0.85], device=inputs.device), dim=0)
        pcts = per_unit.median(dim=1).values.tolist()           # (3,) over the median unit
        self._pcts.append(pcts)
        for name, v in zip(("input_p15", "input_p50", "input_p85"), pcts):
            self.log(name, v)
        drift = sum(abs(b - a) for prev, cur in zip(self._pcts, self._pcts[1:])
                    for a, b in zip(prev, cur)) / 3
        self.log("input_drift", drift)

    # The speed metrics depend on every evaluation so far: keep them across a resume.
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["speed_state"] = {"evals": self._evals, "reached_at": self._reached_at,
                                     "pcts": self._pcts}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        state = checkpoint.get("speed_state") or {}
        self._evals = list(state.get("evals", []))
        self._reached_at = state.get("reached_at")
        self._pcts = [list(p) for p in state.get("pcts", [])]

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=self.hparams.momentum)
