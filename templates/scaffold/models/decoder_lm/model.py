"""A decoder-only Transformer language model (GPT-style), top to bottom.

Reference implementation written by `repro new` (family `decoder_lm`). Every size,
regularisation and optimiser setting is a keyword argument (a key under `model:`).

  - token + learned (or sinusoidal) position embeddings, dropout
  - n_layers pre-norm blocks: x + Attn(LN(x)), x + MLP(LN(x)); causal multi-head attention
    with n_heads heads of size d_k = d_v = d_model / n_heads; MLP inner size d_ff with GELU
  - final LayerNorm and a head tied to the token embedding (`tie_weights`)
  - AdamW(beta1, beta2, eps, weight_decay), linear warm-up then cosine decay to 10% of lr

A batch is ids (B, T+1): the model reads ids[:, :-1] and predicts ids[:, 1:]. Logged per
epoch: train_loss, val_loss (cross-entropy per token), val_ppl = exp(val_loss), val_acc.
"""

from __future__ import annotations

import math

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F

# -----------------------------------------------------------------------------


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.h = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)                       # W^Q, W^K, W^V at once
        self.proj = nn.Linear(d_model, d_model)                          # W^O
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape                                                # (B, T, d_model)
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))  # (B, h, T, d_k)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.h)          # (B, h, T, T)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        att = self.drop(att.masked_fill(~causal, float("-inf")).softmax(dim=-1))
        y = (att @ v).transpose(1, 2).reshape(B, T, C)                   # (B, T, d_model)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, dropout)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln1(x)))                        # (B, T, d_model)
        return x + self.drop(self.mlp(self.ln2(x)))


# -----------------------------------------------------------------------------


class PaperModel(L.LightningModule):
    def __init__(
        self,
        vocab_size: int = 64,
        max_len: int = 64,             # context length (block size)
        n_layers: int = 2,
        d_model: int = 32,
        n_heads: int = 4,
        d_ff: int | None = None,       # None: 4 * d_model
        dropout: float = 0.1,
        label_smoothing: float = 0.0,
        positional: str = "learned",   # "learned" | "sinusoid"
        tie_weights: bool = True,
        lr: float = 3e-3,
        warmup_steps: int = 100,
        beta1: float = 0.9,
        beta2: float = 0.95,
        eps: float = 1e-8,
        weight_decay: float = 0.1,
    ) -> None:
        super().__init__()
        if positional not in ("learned", "sinusoid"):
            raise ValueError(f"positional must be 'learned' or 'sinusoid', not {positional!r}")
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        d_ff = d_ff or 4 * d_model
        self.save_hyperparameters()
        self.tok = nn.Embedding(vocab_size, d_model)
        if positional == "learned":
            self.pos = nn.Parameter(torch.randn(max_len, d_model) * 0.02)   # (max_len, d_model)
        else:
            pos = torch.arange(max_len)[:, None] / 10000 ** (torch.arange(0, d_model, 2) / d_model)
            self.register_buffer("pos", torch.cat([pos.sin(), pos.cos()], 1)[:, :d_model], persistent=False)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(d_model, n_heads, d_ff, dropout) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        if tie_weights:
            self.head.weight = self.tok.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        # ids: (B, T) with T <= max_len
        x = self.drop(self.tok(ids) + self.pos[: ids.shape[1]])         # (B, T, d_model)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))                                   # logits: (B, T, vocab)

    def flops_per_token(self) -> int:
        """Forward FLOPs per token, 2 x the weights a token passes through (embedding lookups
        are free; attention scores, which grow with length, left out)."""
        lookup = {id(p) for p in self.tok.parameters()}
        return 2 * sum(p.numel() for p in self.parameters() if id(p) not in lookup) + \
            (2 * self.out.weight.numel() if hasattr(self, "out") else 2 * self.head.weight.numel())

    def _step(self, batch, stage: str) -> torch.Tensor | dict[str, torch.Tensor]:
        ids = batch[0] if isinstance(batch, (list, tuple)) else batch    # (B, T+1)
        logits = self(ids[:, :-1])                                       # (B, T, V)
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
        # Weight decay on matrices only (not biases, LayerNorm gains or position tables).
        decay = [p for n, p in self.named_parameters() if p.dim() >= 2 and n != "pos"]
        other = [p for n, p in self.named_parameters() if p.dim() < 2 or n == "pos"]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp.weight_decay},
                                 {"params": other, "weight_decay": 0.0}],
                                lr=hp.lr, betas=(hp.beta1, hp.beta2), eps=hp.eps)
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        warm = max(int(hp.warmup_steps), 1)

        def f(s: int) -> float:  # linear warm-up, then cosine to 10% of lr
            if s < warm:
                return (s + 1) / warm
            t = min(1.0, (s - warm) / max(total - warm, 1))
            return 0.1 + 0.45 * (1 + math.cos(math.pi * t))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, f)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
