"""An encoder-decoder Transformer for sequence transduction (translation), top to bottom.

Reference implementation written by `repro new` (family `transformer`): the architecture of
"Attention Is All You Need" as its text describes it. Every size, regularisation and optimiser
setting is a keyword argument, i.e. a key under `model:` in configs/*.yaml.

  - multi-head attention: h heads of size d_k (queries, keys) and d_v (values)
  - position-wise feed-forward max(0, x W1 + b1) W2 + b2 with inner size d_ff
  - post-norm residual sub-layers LayerNorm(x + Dropout(Sublayer(x))) (`prenorm` flips it)
  - one embedding matrix shared by source, target and the pre-softmax projection
    (`share_embeddings`), scaled by sqrt(d_model)
  - sinusoidal or learned positions (`positional`)
  - label smoothing, Adam(beta1, beta2, eps) and the inverse-square-root warm-up schedule
    lr = lr_factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5) (or a constant `lr`)

Token ids (data.py): 0 = <pad>, 1 = <bos>, 2 = <eos>, 3.. = words. A batch is (src, tgt):
src (B, S) and tgt (B, T) with tgt[:, 0] = <bos>; the decoder reads tgt[:, :-1] and predicts
tgt[:, 1:]. Logged per epoch: train_loss, val_loss (cross-entropy per target token without
smoothing), val_ppl = exp(val_loss), val_acc (token accuracy under teacher forcing).
"""

from __future__ import annotations

import math

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F

PAD = 0

# -----------------------------------------------------------------------------


class MultiHeadAttention(nn.Module):
    """head_i = softmax(Q_i K_i^T / sqrt(d_k)) V_i; out = Concat(head_1..head_h) W^O."""

    def __init__(self, d_model: int, n_heads: int, d_k: int, d_v: int) -> None:
        super().__init__()
        self.h, self.d_k, self.d_v = n_heads, d_k, d_v
        self.w_q = nn.Linear(d_model, n_heads * d_k)
        self.w_k = nn.Linear(d_model, n_heads * d_k)
        self.w_v = nn.Linear(d_model, n_heads * d_v)
        self.w_o = nn.Linear(n_heads * d_v, d_model)

    def forward(self, x: torch.Tensor, mem: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        # x: (B, Tq, d_model) queries; mem: (B, Tk, d_model) keys/values; mask: broadcastable
        # to (B, h, Tq, Tk), True where attending is allowed
        B, Tq, _ = x.shape
        Tk = mem.shape[1]
        q = self.w_q(x).view(B, Tq, self.h, self.d_k).transpose(1, 2)    # (B, h, Tq, d_k)
        k = self.w_k(mem).view(B, Tk, self.h, self.d_k).transpose(1, 2)  # (B, h, Tk, d_k)
        v = self.w_v(mem).view(B, Tk, self.h, self.d_v).transpose(1, 2)  # (B, h, Tk, d_v)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.d_k)             # (B, h, Tq, Tk)
        if mask is not None:
            att = att.masked_fill(~mask, float("-inf"))
        out = att.softmax(dim=-1) @ v                                     # (B, h, Tq, d_v)
        return self.w_o(out.transpose(1, 2).reshape(B, Tq, self.h * self.d_v))  # (B, Tq, d_model)


class FeedForward(nn.Module):
    def __init__(self, d_model: int, d_ff: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x)))                              # (B, T, d_model)


class Residual(nn.Module):
    """x + Dropout(f(x)) with a LayerNorm after (post-norm, the paper's) or before (pre-norm)."""

    def __init__(self, d_model: int, dropout: float, prenorm: bool) -> None:
        super().__init__()
        self.ln, self.drop, self.prenorm = nn.LayerNorm(d_model), nn.Dropout(dropout), prenorm

    def forward(self, x: torch.Tensor, f) -> torch.Tensor:
        if self.prenorm:
            return x + self.drop(f(self.ln(x)))
        return self.ln(x + self.drop(f(x)))


class EncoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, d_k, d_v, d_ff, dropout, prenorm) -> None:
        super().__init__()
        self.attn, self.ff = MultiHeadAttention(d_model, n_heads, d_k, d_v), FeedForward(d_model, d_ff)
        self.r1, self.r2 = Residual(d_model, dropout, prenorm), Residual(d_model, dropout, prenorm)

    def forward(self, x: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        x = self.r1(x, lambda z: self.attn(z, z, src_mask))              # (B, S, d_model)
        return self.r2(x, self.ff)


class DecoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, d_k, d_v, d_ff, dropout, prenorm) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads, d_k, d_v)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, d_k, d_v)
        self.ff = FeedForward(d_model, d_ff)
        self.r1, self.r2, self.r3 = (Residual(d_model, dropout, prenorm) for _ in range(3))

    def forward(self, y, mem, tgt_mask, src_mask) -> torch.Tensor:
        y = self.r1(y, lambda z: self.self_attn(z, z, tgt_mask))         # masked self-attention
        y = self.r2(y, lambda z: self.cross_attn(z, mem, src_mask))      # encoder-decoder attention
        return self.r3(y, self.ff)                                       # (B, T, d_model)


def sinusoids(max_len: int, d_model: int) -> torch.Tensor:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...): (max_len, d_model)."""
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)[:, : d_model // 2]
    return pe


# -----------------------------------------------------------------------------


class PaperModel(L.LightningModule):
    def __init__(
        self,
        vocab_size: int = 64,          # shared source/target vocabulary, incl. 3 special ids
        max_len: int = 64,             # longest sequence the positions cover
        n_layers: int = 2,             # N: encoder layers = decoder layers
        d_model: int = 32,
        d_ff: int | None = None,       # None: 4 * d_model
        n_heads: int = 4,              # h
        d_k: int | None = None,        # None: d_model / n_heads
        d_v: int | None = None,
        dropout: float = 0.1,          # P_drop: sub-layer outputs and embedding sums
        label_smoothing: float = 0.1,  # eps_ls
        positional: str = "sinusoid",  # "sinusoid" | "learned"
        share_embeddings: bool = True, # one matrix for source, target and output
        prenorm: bool = False,
        lr: float | None = None,       # None: the inverse-square-root warm-up schedule
        lr_factor: float = 1.0,
        warmup_steps: int = 4000,
        beta1: float = 0.9,
        beta2: float = 0.98,
        eps: float = 1e-9,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__()
        if positional not in ("sinusoid", "learned"):
            raise ValueError(f"positional must be 'sinusoid' or 'learned', not {positional!r}")
        d_ff = d_ff or 4 * d_model
        d_k = d_k or d_model // n_heads
        d_v = d_v or d_model // n_heads
        self.save_hyperparameters()
        self.src_embed = nn.Embedding(vocab_size, d_model)
        self.tgt_embed = self.src_embed if share_embeddings else nn.Embedding(vocab_size, d_model)
        for emb in {self.src_embed, self.tgt_embed}:  # std d^-0.5: x sqrt(d) gives unit scale, like the positions
            nn.init.normal_(emb.weight, std=d_model ** -0.5)
        if positional == "learned":
            self.pos = nn.Parameter(torch.randn(max_len, d_model) * 0.02)   # (max_len, d_model)
        else:
            self.register_buffer("pos", sinusoids(max_len, d_model), persistent=False)
        self.drop = nn.Dropout(dropout)
        args = (d_model, n_heads, d_k, d_v, d_ff, dropout, prenorm)
        self.encoder = nn.ModuleList([EncoderLayer(*args) for _ in range(n_layers)])
        self.decoder = nn.ModuleList([DecoderLayer(*args) for _ in range(n_layers)])
        # Pre-norm stacks end with a LayerNorm; post-norm ones are already normalised.
        self.ln_enc = nn.LayerNorm(d_model) if prenorm else nn.Identity()
        self.ln_dec = nn.LayerNorm(d_model) if prenorm else nn.Identity()
        self.out = nn.Linear(d_model, vocab_size, bias=False)
        if share_embeddings:
            self.out.weight = self.src_embed.weight                       # tied (paper 3.4)

    def _embed(self, emb: nn.Embedding, ids: torch.Tensor) -> torch.Tensor:
        T = ids.shape[1]
        x = emb(ids) * math.sqrt(self.hparams.d_model) + self.pos[:T]    # (B, T, d_model)
        return self.drop(x)

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        # src: (B, S) ids; tgt_in: (B, T) ids starting with <bos>
        T = tgt_in.shape[1]
        src_mask = (src != PAD)[:, None, None, :]                        # (B, 1, 1, S)
        causal = torch.ones(T, T, dtype=torch.bool, device=src.device).tril()  # (T, T)
        mem = self._embed(self.src_embed, src)                           # (B, S, d_model)
        for layer in self.encoder:
            mem = layer(mem, src_mask)
        mem = self.ln_enc(mem)
        y = self._embed(self.tgt_embed, tgt_in)                          # (B, T, d_model)
        for layer in self.decoder:
            y = layer(y, mem, causal, src_mask)
        return self.out(self.ln_dec(y))                                  # logits: (B, T, vocab)

    def flops_per_token(self) -> int:
        """Forward FLOPs per token, 2 x the weights a token passes through (embedding lookups
        are free; attention scores, which grow with length, left out)."""
        lookup = {id(p) for e in (self.src_embed, self.tgt_embed) for p in e.parameters()}
        return 2 * sum(p.numel() for p in self.parameters() if id(p) not in lookup) + \
            (2 * self.out.weight.numel() if hasattr(self, "out") else 2 * self.head.weight.numel())

    def _step(self, batch, stage: str) -> torch.Tensor | dict[str, torch.Tensor]:
        src, tgt = batch                                                 # (B, S), (B, T+1)
        logits = self(src, tgt[:, :-1])                                  # (B, T, V)
        gold = tgt[:, 1:]                                                # (B, T)
        flat, flat_gold = logits.reshape(-1, logits.shape[-1]), gold.reshape(-1)
        smooth = self.hparams.label_smoothing if stage == "train" else 0.0
        loss = F.cross_entropy(flat, flat_gold, ignore_index=PAD, label_smoothing=smooth)
        keep = gold != PAD
        acc = ((logits.argmax(-1) == gold) & keep).sum() / keep.sum().clamp(min=1)
        if stage == "train":
            # repro logs the epoch's mean of each returned scalar: the objective is `loss`,
            # train_loss is without smoothing (comparable across label_smoothing), train_acc.
            plain = F.cross_entropy(flat.detach(), flat_gold, ignore_index=PAD)
            return {"loss": loss, "train_loss": plain, "train_acc": acc.detach()}
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
        opt = torch.optim.Adam(self.parameters(), lr=1.0 if hp.lr is None else hp.lr,
                               betas=(hp.beta1, hp.beta2), eps=hp.eps, weight_decay=hp.weight_decay)
        warm = max(int(hp.warmup_steps), 1)
        if hp.lr is None:   # lr(step) = factor * d_model^-0.5 * min(step^-0.5, step * warm^-1.5)
            f = lambda s: hp.lr_factor * hp.d_model ** -0.5 * min((s + 1) ** -0.5, (s + 1) * warm ** -1.5)
        else:               # linear warm-up to lr, then constant
            f = lambda s: min(1.0, (s + 1) / warm)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, f)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
