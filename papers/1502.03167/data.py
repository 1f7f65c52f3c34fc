"""scikit-learn's handwritten digits (8x8, 1797 images) as the proxy for MNIST in section 4.1 of
Ioffe & Szegedy (2015), "Batch Normalization".

The split depends only on `split_seed`, so every training seed and every config sees the same
train/test images; what changes with `lightning.seed_everything(seed)` is the initialisation
and the batch order. Pixels are scaled to [0, 1] and not standardised: the paper's point is
what happens to the inputs of *inner* layers, and MNIST pixels were fed as they are.

`passes_per_epoch` makes one Lightning epoch several shuffled passes over the training set,
so the GPU-scale set's 50,000 steps are 100 epochs rather than thousands.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler, TensorDataset


class DigitsData(L.LightningDataModule):
    def __init__(self, n_train: int = 1000, n_test: int = 797, batch_size: int = 60,
                 split_seed: int = 0, passes_per_epoch: int = 1, num_workers: int = 0) -> None:
        super().__init__()
        if n_train < 10 or n_test < 10 or n_train + n_test > 1797:
            raise ValueError(f"n_train + n_test must be at most 1797 (digits has 1797 images), "
                             f"each at least 10; got {n_train} + {n_test}")
        if passes_per_epoch < 1:
            raise ValueError(f"passes_per_epoch must be at least 1, got {passes_per_epoch}")
        self.n_train, self.n_test, self.passes_per_epoch = n_train, n_test, passes_per_epoch
        self.batch_size, self.split_seed, self.num_workers = batch_size, split_seed, num_workers

    def setup(self, stage: str | None = None) -> None:
        from sklearn.datasets import load_digits  # sklearn only when data is actually built

        x, y = load_digits(return_X_y=True)                     # x: (1797, 64) in [0, 16]
        x = (x / 16.0).astype(np.float32)                       # pixels in [0, 1], like MNIST
        order = np.random.default_rng(self.split_seed).permutation(len(y))
        test_idx = order[: self.n_test]
        train_idx = order[self.n_test: self.n_test + self.n_train]
        self.train_set = TensorDataset(torch.from_numpy(x[train_idx]), torch.from_numpy(y[train_idx]))
        self.test_set = TensorDataset(torch.from_numpy(x[test_idx]), torch.from_numpy(y[test_idx]))

    def train_dataloader(self) -> DataLoader:
        # Without replacement: `passes_per_epoch` back-to-back permutations of the training set,
        # drawn from torch's global generator (seeded by lightning.seed_everything).
        sampler = RandomSampler(self.train_set, num_samples=len(self.train_set) * self.passes_per_epoch)
        return DataLoader(self.train_set, batch_size=self.batch_size, sampler=sampler,
                          num_workers=self.num_workers)

    def val_dataloader(self) -> list[DataLoader]:
        # [0]: the training set again, evaluated in eval mode (BN uses its population
        # statistics, as at inference); [1]: the held-out test set.
        big = 1024
        return [DataLoader(self.train_set, batch_size=big), DataLoader(self.test_set, batch_size=big)]
