"""Token streams for language modelling (families `decoder_lm` and `rnn`).

One key picks the data, `dataset:`

  - "synthetic" (the smoke run; nothing downloaded): text from a fixed random sparse
    Markov chain over `vocab_size` ids (each word has `branching` likely successors), so a
    model can learn it and the best achievable perplexity is about `branching`.
  - "tensors": the real corpus (Penn Treebank, WikiText-2/103, ...) tokenised by you and
    saved with torch.save({"train": ids, "val": ids}, path): two 1-D LongTensors.

Either way the stream is cut into windows of seq_len + 1 ids: a batch is (B, seq_len + 1).
Deterministic given `data_seed` (the data) and lightning.seed_everything(seed) (the order).
"""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset


def markov_stream(n_tokens: int, vocab_size: int, branching: int, g: torch.Generator) -> torch.Tensor:
    """(n_tokens,) ids: next word = one of `branching` fixed successors of the current word."""
    succ = torch.randint(0, vocab_size, (vocab_size, branching), generator=g)   # (V, k)
    pick = torch.randint(0, branching, (n_tokens,), generator=g)                 # (n,)
    out = torch.empty(n_tokens, dtype=torch.long)
    w = 0
    for i in range(n_tokens):
        w = int(succ[w, pick[i]])
        out[i] = w
    return out


def windows(stream: torch.Tensor, seq_len: int) -> torch.Tensor:
    n = (len(stream) - 1) // seq_len
    return torch.stack([stream[i * seq_len: i * seq_len + seq_len + 1] for i in range(n)])  # (n, seq_len+1)


class PaperData(L.LightningDataModule):
    def __init__(
        self,
        dataset: str = "synthetic",    # "synthetic" | "tensors"
        path: str | None = None,       # dataset: tensors -> the torch.save'd file
        vocab_size: int = 64,          # must equal model.vocab_size
        seq_len: int = 32,             # window length (<= model.max_len)
        branching: int = 3,
        n_train_tokens: int = 32768,
        n_val_tokens: int = 4096,
        batch_size: int = 32,
        data_seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if dataset not in ("synthetic", "tensors"):
            raise ValueError(f"dataset must be 'synthetic' or 'tensors', not {dataset!r}")
        if dataset == "tensors" and not path:
            raise ValueError("dataset: tensors needs path: (a torch.save'd {'train': ids, 'val': ids})")
        self.save_hyperparameters()

    def setup(self, stage: str | None = None) -> None:
        hp = self.hparams
        if hp.dataset == "tensors":
            blob = torch.load(hp.path)
            train, val = blob["train"], blob["val"]
        else:
            g = torch.Generator().manual_seed(hp.data_seed)
            stream = markov_stream(hp.n_train_tokens + hp.n_val_tokens, hp.vocab_size, hp.branching, g)
            train, val = stream[hp.n_val_tokens:], stream[: hp.n_val_tokens]
        self.train_set = TensorDataset(windows(train, hp.seq_len))
        self.val_set = TensorDataset(windows(val, hp.seq_len))

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True,
                          num_workers=self.hparams.num_workers)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size, num_workers=self.hparams.num_workers)
