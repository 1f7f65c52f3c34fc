"""A synthetic sequence-transduction task standing in for WMT 2014 English-German.

No download: every pair is generated in memory. A fixed random "language" defines the task:

  - a source sentence is `seq_len` tokens drawn uniformly from `vocab_size` words;
  - the target word at position i is a fixed random two-word "phrase table" lookup,
    y_i = T[x_{a(i)}, x_{b(i)}], where a(i) = seq_len-1-i (the sentence is reversed, a
    long-range reordering) and b(i) = (i + shift) mod seq_len (a second, differently aligned
    source word). T is a random vocab_size x vocab_size table of target words.

So each target word depends on two source words at two positions that move with i: the
decoder must find and combine two alignments per output position, which is what several
attention heads (or several layers) make easy and one head makes hard. A fraction `noise` of
target words is replaced by a random word (translation ambiguity), so no model reaches 100%
token accuracy and label smoothing has something to be unsure about.

Everything here depends only on `data_seed` (the table, the sentences, the noise): every run
seed and every config sees the same pairs. What changes with `lightning.seed_everything(seed)`
is the initialisation, the batch order and the dropout masks.

Token ids: 0..vocab_size-1 are words, vocab_size is <bos> (the decoder's first input).
Source and target share one vocabulary, as the paper's shared BPE vocabulary does.
"""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset


def make_pairs(n: int, vocab_size: int, seq_len: int, shift: int, noise: float,
               table: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n generated (source, target) pairs, each (n, seq_len) long tensors of word ids."""
    src = torch.randint(0, vocab_size, (n, seq_len), generator=g)          # (n, L)
    i = torch.arange(seq_len)
    a = seq_len - 1 - i                                                    # (L,) reversed
    b = (i + shift) % seq_len                                              # (L,) shifted
    tgt = table[src[:, a], src[:, b]]                                      # (n, L)
    flip = torch.rand(n, seq_len, generator=g) < noise                     # (n, L)
    tgt = torch.where(flip, torch.randint(0, vocab_size, (n, seq_len), generator=g), tgt)
    return src, tgt


class TranslationData(L.LightningDataModule):
    def __init__(self, vocab_size: int = 16, seq_len: int = 10, shift: int = 3,
                 noise: float = 0.05, n_train: int = 4000, n_val: int = 1000,
                 batch_size: int = 64, data_seed: int = 0, num_workers: int = 0) -> None:
        super().__init__()
        if vocab_size < 2 or seq_len < 2:
            raise ValueError(f"vocab_size and seq_len must be at least 2, got {vocab_size}, {seq_len}")
        if not 0.0 <= noise < 1.0:
            raise ValueError(f"noise must be in [0, 1), got {noise}")
        if n_train < 1 or n_val < 1 or batch_size < 1:
            raise ValueError(f"n_train, n_val, batch_size must be positive, got {n_train}, {n_val}, {batch_size}")
        self.save_hyperparameters()

    @property
    def bos(self) -> int:
        return self.hparams.vocab_size

    def setup(self, stage: str | None = None) -> None:
        hp = self.hparams
        # Own generator: the task is a function of data_seed only, not of the run's seed.
        g = torch.Generator().manual_seed(hp.data_seed)
        table = torch.randint(0, hp.vocab_size, (hp.vocab_size, hp.vocab_size), generator=g)  # (V, V)
        src, tgt = make_pairs(hp.n_train + hp.n_val, hp.vocab_size, hp.seq_len, hp.shift,
                              hp.noise, table, g)
        self.table = table
        self.train_set = TensorDataset(src[hp.n_val:], tgt[hp.n_val:])
        self.val_set = TensorDataset(src[: hp.n_val], tgt[: hp.n_val])

    def train_dataloader(self) -> DataLoader:
        # Shuffling draws from torch's global RNG, which seed_everything fixes.
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True,
                          num_workers=self.hparams.num_workers)

    def val_dataloader(self) -> DataLoader:
        # One batch: val_ppl = exp(mean loss) exactly, not a mean of per-batch exps.
        return DataLoader(self.val_set, batch_size=len(self.val_set), num_workers=self.hparams.num_workers)
