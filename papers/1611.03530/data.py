"""scikit-learn's handwritten digits with the randomization tests of Zhang et al. (2017),
"Understanding deep learning requires rethinking generalization" (arXiv:1611.03530).

The proxy for CIFAR10: 1797 greyscale 8x8 digits (ships with scikit-learn, no download),
split once into 1437 training and 360 test images. The paper's corruptions (Section 2.1):

    none             the true labels
    random_labels    every training label replaced by a uniformly random class
    partial_labels   each training label, with probability corrupt_fraction, replaced by a
                     uniformly random class (it may land on the true class: 0.9 p change)
    shuffled_pixels  one random permutation of the 64 pixels, applied to every image (train
                     and test alike)
    random_pixels    a different random permutation for each image (train and test)
    gaussian         every image replaced by Gaussian noise with the dataset's mean and std

Labels are corrupted on the training set only: test accuracy is always measured against the
true test labels, which is what makes it fall to chance (0.1) when nothing can generalise.

Determinism: the split depends only on `split_seed`, so every config and seed sees the same
test images. The corruption is drawn from a generator seeded by (`corruption_seed`, run seed);
the run seed is the one `lightning.seed_everything` was called with (it records it in
PL_GLOBAL_SEED), so each seed gets its own, reproducible, random labelling.

Data augmentation (`augment`) is the digits analogue of the paper's random crop: each
training image is shifted by up to one pixel in each direction, zeros filling the border.
"""

from __future__ import annotations

import os
from functools import partial

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

CORRUPTIONS = ("none", "random_labels", "partial_labels", "shuffled_pixels", "random_pixels", "gaussian")
N_CLASSES = 10
SIDE = 8  # digits are 8x8


def corrupt(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, kind: str, fraction: float,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply one of the paper's corruptions. x: (N, 64), y: (N,), x_test: (M, 64)."""
    x, y, x_test = x.copy(), y.copy(), x_test.copy()
    if kind == "random_labels":
        y = rng.integers(0, N_CLASSES, size=len(y))
    elif kind == "partial_labels":
        flip = rng.random(len(y)) < fraction                          # (N,) which labels to redraw
        y[flip] = rng.integers(0, N_CLASSES, size=int(flip.sum()))
    elif kind == "shuffled_pixels":
        perm = rng.permutation(x.shape[1])                            # one permutation for all
        x, x_test = x[:, perm], x_test[:, perm]
    elif kind == "random_pixels":
        x = np.take_along_axis(x, rng.permuted(np.tile(np.arange(x.shape[1]), (len(x), 1)), axis=1), axis=1)
        x_test = np.take_along_axis(
            x_test, rng.permuted(np.tile(np.arange(x.shape[1]), (len(x_test), 1)), axis=1), axis=1)
    elif kind == "gaussian":
        mean, std = x.mean(), x.std()                                 # matching mean and variance
        x = rng.normal(mean, std, size=x.shape)
        x_test = rng.normal(mean, std, size=x_test.shape)
    return x.astype(np.float32), y.astype(np.int64), x_test.astype(np.float32)


def shift_batch(batch: list[tuple[torch.Tensor, torch.Tensor]], fill: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Collate with augmentation: shift each image by -1..1 pixels in x and y (a random crop of
    the image padded with the background value `fill`). Uses torch's global RNG, which the
    runner seeds and checkpoints."""
    x = torch.stack([b[0] for b in batch])                            # (B, 64)
    y = torch.stack([b[1] for b in batch])                            # (B,)
    img = torch.nn.functional.pad(x.view(-1, 1, SIDE, SIDE), (1, 1, 1, 1), value=fill)  # (B, 1, 10, 10)
    rows = torch.randint(0, 3, (len(x), 1)) + torch.arange(SIDE)      # (B, 8) top row 0..2
    cols = torch.randint(0, 3, (len(x), 1)) + torch.arange(SIDE)      # (B, 8) left column 0..2
    out = img[torch.arange(len(x))[:, None, None], 0, rows[:, :, None], cols[:, None, :]]  # (B, 8, 8)
    return out.reshape(len(x), SIDE * SIDE), y                        # (B, 64)


class CorruptedDigits(L.LightningDataModule):
    def __init__(self, corruption: str = "none", corrupt_fraction: float = 0.0,
                 corruption_seed: int = 0, split_seed: int = 0, n_test: int = 360,
                 batch_size: int = 128, augment: bool = False) -> None:
        super().__init__()
        if corruption not in CORRUPTIONS:
            raise ValueError(f"data.corruption must be one of {', '.join(CORRUPTIONS)}, not {corruption!r}")
        if not 0.0 <= corrupt_fraction <= 1.0:
            raise ValueError(f"data.corrupt_fraction must be in [0, 1], not {corrupt_fraction}")
        if corruption == "partial_labels" and corrupt_fraction == 0.0:
            raise ValueError("corruption: partial_labels needs corrupt_fraction > 0")
        if not 10 <= n_test <= 1000:
            raise ValueError(f"data.n_test must be between 10 and 1000 (digits has 1797 images), not {n_test}")
        self.corruption, self.corrupt_fraction = corruption, corrupt_fraction
        self.corruption_seed, self.split_seed, self.n_test = corruption_seed, split_seed, n_test
        self.batch_size, self.augment = batch_size, augment
        # The seed lightning.seed_everything was called with (0 when it was not called).
        self.run_seed = int(os.environ.get("PL_GLOBAL_SEED", "0"))

    def setup(self, stage: str | None = None) -> None:
        if hasattr(self, "train_set"):
            return
        from sklearn.datasets import load_digits  # only when data is actually built

        x, y = load_digits(return_X_y=True)                           # x: (1797, 64) in [0, 16]
        order = np.random.default_rng(self.split_seed).permutation(len(y))
        test_idx, train_idx = order[: self.n_test], order[self.n_test:]
        # Standardise with the training set's overall mean and std (one scalar each, so a
        # shifted image is still an image; the paper whitens each image).
        mean, std = x[train_idx].mean(), x[train_idx].std()
        x = (x - mean) / std                                          # (1797, 64), ~zero mean
        self.background = float(-mean / std)                          # a blank pixel
        rng = np.random.default_rng([self.corruption_seed, self.run_seed])
        x_tr, y_tr, x_te = corrupt(x[train_idx], y[train_idx], x[test_idx],
                                   self.corruption, self.corrupt_fraction, rng)
        self.train_set = TensorDataset(torch.from_numpy(x_tr), torch.from_numpy(y_tr))
        self.test_set = TensorDataset(torch.from_numpy(x_te), torch.from_numpy(y[test_idx].astype(np.int64)))
        # How many training labels differ from the truth (0.9 p expected for partial_labels).
        self.label_noise = float((y_tr != y[train_idx]).mean())

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True,
                          collate_fn=partial(shift_batch, fill=self.background) if self.augment else None)

    def val_dataloader(self) -> list[DataLoader]:
        # [0]: the (corrupted) training set, no augmentation, in eval mode: the paper's
        # "training accuracy"; [1]: the test set with its true labels.
        return [DataLoader(self.train_set, batch_size=2048), DataLoader(self.test_set, batch_size=2048)]
