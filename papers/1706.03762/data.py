"""Attention Is All You Need (1706.03762): the data.

Written by `repro new` as a TOY STAND-IN: each of `num_classes` classes is a mixture of
`clusters_per_class` Gaussian blobs in `input_dim` dimensions (so a linear model does worse
than a small MLP), generated in memory (no download), so that `repro run` works at once.
Replace it with the paper's data (or a stated proxy: say so in paper.yaml, `proxy:`),
keeping the contract: exactly one LightningDataModule, __init__ keyword arguments are the
keys under `data:` in configs/*.yaml, deterministic after lightning.seed_everything(seed).
"""

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset


class PaperData(L.LightningDataModule):
    def __init__(
        self,
        input_dim: int = 16,         # features per example
        num_classes: int = 4,
        num_samples: int = 2048,     # train + validation
        clusters_per_class: int = 3, # blobs per class; 1 = linearly separable
        noise: float = 3.0,          # std of each blob; larger = harder task
        val_fraction: float = 0.25,
        batch_size: int = 64,
        data_seed: int = 0,          # the dataset itself; the run's seed only shuffles
        num_workers: int = 0,
    ):
        super().__init__()
        self.save_hyperparameters()

    def setup(self, stage=None):
        hp = self.hparams
        # Same data for every run seed: its own generator, not the global one.
        g = torch.Generator().manual_seed(hp.data_seed)
        k = hp.num_classes * hp.clusters_per_class
        centers = 3.0 * torch.randn(k, hp.input_dim, generator=g)                # (K, D)
        blob = torch.randint(0, k, (hp.num_samples,), generator=g)              # (N,)
        y = blob % hp.num_classes                                               # (N,) class of each blob
        x = centers[blob] + hp.noise * torch.randn(hp.num_samples, hp.input_dim, generator=g)  # (N, D)
        n_val = max(1, int(hp.num_samples * hp.val_fraction))
        self.train_set = TensorDataset(x[n_val:], y[n_val:])
        self.val_set = TensorDataset(x[:n_val], y[:n_val])

    def train_dataloader(self):
        # Shuffling draws from torch's global RNG, which seed_everything fixes.
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True,
                          num_workers=self.hparams.num_workers)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size,
                          num_workers=self.hparams.num_workers)
