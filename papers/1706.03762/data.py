"""A synthetic sequence-transduction task standing in for WMT 2014 English-German.

No download: every pair is generated in memory. A fixed random "language" defines the task:

  - a source sentence is `seq_len` tokens drawn from `vocab_size` words, word k with
    probability proportional to (k + 1)^-zipf (zipf 0: uniform; natural text is Zipfian, so a
    few words are common and many rare);
  - the target word at position i is a fixed random two-word "phrase table" lookup,
    y_i = T[x_{a(i)}, x_{b(i)}], where a(i) = seq_len-1-i (the sentence is reversed, a
    long-range reordering) and b(i) = (i + shift) mod seq_len (a second, differently aligned
    source word). T is a vocab_size x vocab_size table of target words, by `rule`:
    "random", any word for any pair; or "either", the translation of one of the pair's two
    words, A[u] or B[v], which one being a fixed random choice per pair (an idiom table).

So each target word depends on two source words at two positions that move with i: the
decoder must find and combine two alignments per output position, which is what several
attention heads (or several layers) make easy and one head makes hard. Under "either" each
source word alone already says the target half of the time, so both alignments are found
early and reliably; what remains is learning which word of each pair wins, a table of
vocab_size^2 choices that Zipfian words fill unevenly (rare pairs are seen rarely), which is
learned gradually. A fraction `noise` of target words is replaced by a random word
(translation ambiguity), so no model reaches 100% token accuracy and label smoothing has
something to be unsure about.

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


def make_table(vocab_size: int, rule: str, g: torch.Generator) -> torch.Tensor:
    """The task's fixed (V, V) table of target words, T[u, v] for source words u, v."""
    if rule == "random":                                                   # any word for any pair
        return torch.randint(0, vocab_size, (vocab_size, vocab_size), generator=g)
    # "either": the pair's target is the translation of one of its two words, A[u] or B[v],
    # which one being a fixed random choice per pair.
    a = torch.randint(0, vocab_size, (vocab_size,), generator=g)           # (V,) translations of u
    b = torch.randint(0, vocab_size, (vocab_size,), generator=g)           # (V,) translations of v
    pick = torch.rand(vocab_size, vocab_size, generator=g) < 0.5           # (V, V)
    return torch.where(pick, a[:, None].expand(-1, vocab_size), b[None, :].expand(vocab_size, -1))


def make_pairs(n: int, vocab_size: int, seq_len: int, shift: int, noise: float,
               table: torch.Tensor, g: torch.Generator, zipf: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """n generated (source, target) pairs, each (n, seq_len) long tensors of word ids."""
    if zipf == 0.0:                                                        # uniform words
        src = torch.randint(0, vocab_size, (n, seq_len), generator=g)      # (n, L)
    else:                                                                  # word k: p ~ (k + 1)^-zipf
        p = torch.arange(1, vocab_size + 1, dtype=torch.float64) ** -zipf  # (V,)
        src = torch.multinomial(p / p.sum(), n * seq_len, replacement=True, generator=g).view(n, seq_len)
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
                 batch_size: int = 64, data_seed: int = 0, num_workers: int = 0,
                 rule: str = "random", zipf: float = 0.0) -> None:
        super().__init__()
        if vocab_size < 2 or seq_len < 2:
            raise ValueError(f"vocab_size and seq_len must be at least 2, got {vocab_size}, {seq_len}")
        if not 0.0 <= noise < 1.0:
            raise ValueError(f"noise must be in [0, 1), got {noise}")
        if rule not in ("random", "either"):
            raise ValueError(f"rule must be 'random' or 'either', not {rule!r}")
        if zipf < 0.0:
            raise ValueError(f"zipf must be >= 0, got {zipf}")
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
        table = make_table(hp.vocab_size, hp.rule, g)                      # (V, V)
        src, tgt = make_pairs(hp.n_train + hp.n_val, hp.vocab_size, hp.seq_len, hp.shift,
                              hp.noise, table, g, hp.zipf)
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
