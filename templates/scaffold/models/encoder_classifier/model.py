"""A Transformer encoder classifier (BERT-style), top to bottom.

Reference implementation written by `repro new` (family `encoder_classifier`). Every size,
regularisation and optimiser setting is a keyword argument (a key under `model:`).

  - token + learned position (+ optional segment) embeddings -> LayerNorm -> dropout
  - n_layers post-norm encoder layers: LN(x + Drop(MHA(x))), LN(x + Drop(FFN(x))) with
    n_heads heads of size d_model / n_heads and a GELU feed-forward of inner size d_ff
  - the first position (<cls>) -> pooler (dense + tanh) -> dropout -> linear classifier
  - AdamW with linear warm-up and linear decay to 0

A batch is (ids, y): ids (B, T) with ids[:, 0] = <cls> = 1 and 0 = <pad>, y (B,) class
ids. Logged per epoch: train_loss, train_acc, val_loss, val_acc.
"""

from __future__ import annotations

import math

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F

PAD = 0

# -----------------------------------------------------------------------------


class SelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.h = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        # x: (B, T, d_model); keep: (B, 1, 1, T) True at real tokens
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in self.qkv(x).split(C, dim=2))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.h)          # (B, h, T, T)
        att = self.drop(att.masked_fill(~keep, float("-inf")).softmax(dim=-1))
        return self.proj((att @ v).transpose(1, 2).reshape(B, T, C))     # (B, T, d_model)


class EncoderLayer(nn.Module):
    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.attn = SelfAttention(d_model, n_heads, dropout)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x + self.drop(self.attn(x, keep)))
        return self.ln2(x + self.drop(self.ff(x)))                       # (B, T, d_model)


# -----------------------------------------------------------------------------


class PaperModel(L.LightningModule):
    def __init__(
        self,
        vocab_size: int = 64,
        num_classes: int = 2,
        max_len: int = 64,
        type_vocab_size: int = 0,      # segment embeddings (2 in BERT); 0 = none
        n_layers: int = 2,
        d_model: int = 32,
        n_heads: int = 4,
        d_ff: int | None = None,       # None: 4 * d_model
        dropout: float = 0.1,
        label_smoothing: float = 0.0,
        pooler: bool = True,
        lr: float = 1e-3,
        warmup_steps: int = 50,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-6,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        d_ff = d_ff or 4 * d_model
        self.save_hyperparameters()
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        self.seg = nn.Embedding(type_vocab_size, d_model) if type_vocab_size else None
        self.ln_emb = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList([EncoderLayer(d_model, n_heads, d_ff, dropout) for _ in range(n_layers)])
        self.pool = nn.Sequential(nn.Linear(d_model, d_model), nn.Tanh()) if pooler else nn.Identity()
        self.cls = nn.Linear(d_model, num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        # ids: (B, T)
        T = ids.shape[1]
        x = self.tok(ids) + self.pos(torch.arange(T, device=ids.device))  # (B, T, d_model)
        if self.seg is not None:
            x = x + self.seg(torch.zeros_like(ids))
        x = self.drop(self.ln_emb(x))
        keep = (ids != PAD)[:, None, None, :]                            # (B, 1, 1, T)
        for layer in self.layers:
            x = layer(x, keep)
        return self.cls(self.drop(self.pool(x[:, 0])))                   # logits: (B, num_classes)

    def _step(self, batch, stage: str) -> torch.Tensor | dict[str, torch.Tensor]:
        ids, y = batch
        logits = self(ids)
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
        decay = [p for p in self.parameters() if p.dim() >= 2]
        other = [p for p in self.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp.weight_decay},
                                 {"params": other, "weight_decay": 0.0}],
                                lr=hp.lr, betas=(hp.beta1, hp.beta2), eps=hp.eps)
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        warm = max(int(hp.warmup_steps), 1)
        f = lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(total - warm, 1))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, f)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
