"""Token sequences with a class label (family `encoder_classifier`).

One key picks the data, `dataset:`

  - "synthetic" (the smoke run; nothing downloaded): `seq_len` random ids after a <cls>
    (id 1); each class owns a few "cue" words and every sequence holds `cues` of its own
    class's, so the label is readable anywhere in the sequence, as in sentence tasks.
  - "tensors": a real task (e.g. a GLUE task) tokenised by you and saved with
    torch.save({"train": (ids, y), "val": (ids, y)}, path): ids (N, T) long with
    ids[:, 0] = 1 (<cls>) and 0 padding, y (N,) long.

Deterministic given `data_seed` (the data) and lightning.seed_everything(seed) (the order).
"""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

SPECIAL = 2  # <pad>, <cls>


def synthetic_labelled(n: int, vocab_size: int, num_classes: int, seq_len: int, cues: int,
                       g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, seq_len + 1) ids with <cls> first, and (n,) labels."""
    per_class = 3
    cue_words = SPECIAL + torch.randperm(vocab_size - SPECIAL, generator=g)[: num_classes * per_class]
    cue_words = cue_words.view(num_classes, per_class)                           # (K, 3)
    y = torch.randint(0, num_classes, (n,), generator=g)                         # (n,)
    ids = torch.randint(SPECIAL, vocab_size, (n, seq_len), generator=g)          # (n, T)
    where = torch.rand(n, seq_len, generator=g).argsort(dim=1)[:, :cues]          # (n, cues) positions
    which = cue_words[y[:, None], torch.randint(0, per_class, (n, cues), generator=g)]
    ids.scatter_(1, where, which)
    return torch.cat([torch.ones(n, 1, dtype=torch.long), ids], dim=1), y


class PaperData(L.LightningDataModule):
    def __init__(
        self,
        dataset: str = "synthetic",    # "synthetic" | "tensors"
        path: str | None = None,
        vocab_size: int = 64,          # must equal model.vocab_size
        num_classes: int = 2,          # must equal model.num_classes
        seq_len: int = 31,             # + <cls> <= model.max_len
        cues: int = 2,
        n_train: int = 2048,
        n_val: int = 512,
        batch_size: int = 64,
        data_seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if dataset not in ("synthetic", "tensors"):
            raise ValueError(f"dataset must be 'synthetic' or 'tensors', not {dataset!r}")
        if dataset == "tensors" and not path:
            raise ValueError("dataset: tensors needs path: (a torch.save'd {'train': (ids, y), 'val': (ids, y)})")
        self.save_hyperparameters()

    def setup(self, stage: str | None = None) -> None:
        hp = self.hparams
        if hp.dataset == "tensors":
            blob = torch.load(hp.path)
            self.train_set, self.val_set = TensorDataset(*blob["train"]), TensorDataset(*blob["val"])
            return
        g = torch.Generator().manual_seed(hp.data_seed)
        ids, y = synthetic_labelled(hp.n_train + hp.n_val, hp.vocab_size, hp.num_classes, hp.seq_len, hp.cues, g)
        self.train_set = TensorDataset(ids[hp.n_val:], y[hp.n_val:])
        self.val_set = TensorDataset(ids[: hp.n_val], y[: hp.n_val])

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True,
                          num_workers=self.hparams.num_workers)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size, num_workers=self.hparams.num_workers)
