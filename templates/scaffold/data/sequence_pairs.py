"""Pairs of token sequences for the encoder-decoder Transformer (family `transformer`).

One key picks the data, `dataset:`

  - "synthetic" (the smoke run; nothing downloaded): a generated "translation" task over
    `vocab_size` ids. The source is `src_len` random words; the target is the source read
    backwards through a fixed random word-for-word table, so the decoder must learn an
    alignment (position S-1-i) and a lexicon. Shapes and vocabulary match the real setting.
  - "tensors": the real corpus, already tokenised by you (e.g. WMT'14 En-De with a shared
    BPE/word-piece vocabulary), saved with torch.save({"train": (src, tgt), "val": (src, tgt)},
    path): LongTensors (N, S) and (N, T), padded with 0, tgt[:, 0] = 1 (<bos>), 2 = <eos>.

Ids: 0 <pad>, 1 <bos>, 2 <eos>, 3.. words. Deterministic given `data_seed` (the data) and
lightning.seed_everything(seed) (the batch order).
"""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

SPECIAL = 3  # <pad>, <bos>, <eos>


def synthetic_pairs(n: int, vocab_size: int, src_len: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n (source, target) pairs: (n, src_len) and (n, src_len + 1) with <bos> first."""
    words = vocab_size - SPECIAL
    lexicon = torch.randperm(words, generator=g) + SPECIAL               # (words,) word -> word
    src = torch.randint(SPECIAL, vocab_size, (n, src_len), generator=g)  # (n, S)
    tgt = lexicon[src.flip(1) - SPECIAL]                                 # (n, S) reversed + translated
    bos = torch.ones(n, 1, dtype=torch.long)
    return src, torch.cat([bos, tgt], dim=1)                             # (n, S), (n, S+1)


class PaperData(L.LightningDataModule):
    def __init__(
        self,
        dataset: str = "synthetic",    # "synthetic" | "tensors"
        path: str | None = None,       # dataset: tensors -> the torch.save'd file
        vocab_size: int = 64,          # must equal model.vocab_size
        src_len: int = 8,
        n_train: int = 2048,
        n_val: int = 256,
        batch_size: int = 64,
        data_seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if dataset not in ("synthetic", "tensors"):
            raise ValueError(f"dataset must be 'synthetic' or 'tensors', not {dataset!r}")
        if dataset == "tensors" and not path:
            raise ValueError("dataset: tensors needs path: (a torch.save'd {'train': ..., 'val': ...})")
        self.save_hyperparameters()

    def setup(self, stage: str | None = None) -> None:
        hp = self.hparams
        if hp.dataset == "tensors":
            blob = torch.load(hp.path)
            self.train_set, self.val_set = TensorDataset(*blob["train"]), TensorDataset(*blob["val"])
            return
        g = torch.Generator().manual_seed(hp.data_seed)  # the data depends on data_seed only
        src, tgt = synthetic_pairs(hp.n_train + hp.n_val, hp.vocab_size, hp.src_len, g)
        self.train_set = TensorDataset(src[hp.n_val:], tgt[hp.n_val:])
        self.val_set = TensorDataset(src[: hp.n_val], tgt[: hp.n_val])

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True,
                          num_workers=self.hparams.num_workers)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size, num_workers=self.hparams.num_workers)
