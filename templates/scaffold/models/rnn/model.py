"""An LSTM / GRU language model, top to bottom.

Reference implementation written by `repro new` (family `rnn`). Every size, regularisation
and optimiser setting is a keyword argument (a key under `model:`).

  - embedding (embed_dim) -> dropout -> n_layers of LSTM or GRU (hidden_dim, dropout
    between layers) -> dropout -> linear decoder to the vocabulary
  - `tie_weights` shares the embedding with the decoder (needs embed_dim == hidden_dim)
  - SGD (with `momentum`) or Adam, gradient clipping belongs in trainer.gradient_clip_val

A batch is ids (B, T+1): the model reads ids[:, :-1] and predicts ids[:, 1:]. Logged per
epoch: train_loss, val_loss (cross-entropy per token), val_ppl = exp(val_loss), val_acc.
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
        vocab_size: int = 64,
        cell: str = "lstm",            # "lstm" | "gru"
        embed_dim: int = 32,
        hidden_dim: int = 32,
        n_layers: int = 2,
        dropout: float = 0.2,
        bidirectional: bool = False,   # only for encoders; a language model must stay causal
        tie_weights: bool = True,
        label_smoothing: float = 0.0,
        optimizer: str = "adam",       # "adam" | "sgd"
        lr: float = 3e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', not {cell!r}")
        if tie_weights and embed_dim != hidden_dim:
            raise ValueError("tie_weights needs embed_dim == hidden_dim")
        if bidirectional:
            raise ValueError("a language model cannot be bidirectional (it would see the next word)")
        self.save_hyperparameters()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(embed_dim, hidden_dim, num_layers=n_layers, batch_first=True,
                       dropout=dropout if n_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden_dim, vocab_size)
        if tie_weights:
            self.decoder.weight = self.embed.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        # ids: (B, T)
        x = self.drop(self.embed(ids))                                   # (B, T, embed_dim)
        h, _ = self.rnn(x)                                               # (B, T, hidden_dim)
        return self.decoder(self.drop(h))                                # logits: (B, T, vocab)

    def _step(self, batch, stage: str) -> torch.Tensor | dict[str, torch.Tensor]:
        ids = batch[0] if isinstance(batch, (list, tuple)) else batch    # (B, T+1)
        logits = self(ids[:, :-1])
        gold = ids[:, 1:]
        flat, flat_gold = logits.reshape(-1, logits.shape[-1]), gold.reshape(-1)
        smooth = self.hparams.label_smoothing if stage == "train" else 0.0
        loss = F.cross_entropy(flat, flat_gold, label_smoothing=smooth)
        acc = (logits.argmax(-1) == gold).float().mean()
        if stage == "train":
            # repro logs the epoch's mean of each returned scalar: the objective is `loss`,
            # train_loss is without smoothing (comparable across label_smoothing), train_acc.
            return {"loss": loss, "train_loss": F.cross_entropy(flat.detach(), flat_gold), "train_acc": acc.detach()}
        self.log("val_loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log("val_ppl", loss.exp(), on_step=False, on_epoch=True)
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
        return torch.optim.Adam(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
