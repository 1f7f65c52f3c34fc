"""Labelled images (families `resnet` and `mlp`).

One key picks the data, `dataset:`

  - "synthetic" (the smoke run; nothing downloaded): `num_classes` fixed random templates
    of shape (channels, image_size, image_size), each example a template plus Gaussian
    noise: the shapes of the real dataset, learnable in seconds.
  - "mnist", "cifar10", "cifar100": torchvision's dataset read from `root` (download=False:
    fetch it once yourself with torchvision, then point root at it).
  - "imagefolder": ImageNet-style folders root/train/<class>/*.jpeg and root/val/<class>/*,
    resized to image_size (random-resized crops and flips for training).
  - "tensors": torch.save({"train": (x, y), "val": (x, y)}, root) with x float (N, C, H, W).

Deterministic given `data_seed` (the synthetic data) and seed_everything(seed) (the order).
"""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

STATS = {"mnist": ((0.1307,), (0.3081,)), "cifar10": ((0.491, 0.482, 0.447), (0.247, 0.243, 0.262)),
         "cifar100": ((0.507, 0.487, 0.441), (0.267, 0.256, 0.276)),
         "imagefolder": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))}


def synthetic_images(n: int, num_classes: int, channels: int, size: int, noise: float,
                     g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n images (n, C, S, S) and labels (n,): a class template plus noise."""
    templates = torch.randn(num_classes, channels, size, size, generator=g)     # (K, C, S, S)
    y = torch.randint(0, num_classes, (n,), generator=g)                        # (n,)
    x = templates[y]
    return x + noise * torch.randn(x.shape, generator=g), y


class PaperData(L.LightningDataModule):
    def __init__(
        self,
        dataset: str = "synthetic",    # "synthetic" | "mnist" | "cifar10" | "cifar100" | "imagefolder" | "tensors"
        root: str | None = None,       # where the real dataset lies
        num_classes: int = 10,         # must equal model.num_classes
        channels: int = 3,
        image_size: int = 32,
        noise: float = 1.0,
        n_train: int = 2048,
        n_val: int = 512,
        augment: bool = False,         # random crop (padding 4) + horizontal flip, real data only
        batch_size: int = 64,
        data_seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        known = ("synthetic", "mnist", "cifar10", "cifar100", "imagefolder", "tensors")
        if dataset not in known:
            raise ValueError(f"dataset must be one of {known}, not {dataset!r}")
        if dataset != "synthetic" and not root:
            raise ValueError(f"dataset: {dataset} needs root: (where the dataset lies; nothing is downloaded)")
        self.save_hyperparameters()

    def _torchvision(self):
        import torchvision
        from torchvision import transforms as T

        hp = self.hparams
        norm = T.Normalize(*STATS[hp.dataset])
        if hp.dataset == "imagefolder":
            train_tf = T.Compose([T.RandomResizedCrop(hp.image_size), T.RandomHorizontalFlip(), T.ToTensor(), norm])
            val_tf = T.Compose([T.Resize(int(hp.image_size * 8 / 7)), T.CenterCrop(hp.image_size), T.ToTensor(), norm])
            return (torchvision.datasets.ImageFolder(f"{hp.root}/train", train_tf),
                    torchvision.datasets.ImageFolder(f"{hp.root}/val", val_tf))
        aug = [T.RandomCrop(hp.image_size, padding=4), T.RandomHorizontalFlip()] if hp.augment else []
        cls = {"mnist": torchvision.datasets.MNIST, "cifar10": torchvision.datasets.CIFAR10,
               "cifar100": torchvision.datasets.CIFAR100}[hp.dataset]
        return (cls(hp.root, train=True, download=False, transform=T.Compose(aug + [T.ToTensor(), norm])),
                cls(hp.root, train=False, download=False, transform=T.Compose([T.ToTensor(), norm])))

    def setup(self, stage: str | None = None) -> None:
        hp = self.hparams
        if hp.dataset == "synthetic":
            g = torch.Generator().manual_seed(hp.data_seed)
            x, y = synthetic_images(hp.n_train + hp.n_val, hp.num_classes, hp.channels, hp.image_size, hp.noise, g)
            self.train_set = TensorDataset(x[hp.n_val:], y[hp.n_val:])
            self.val_set = TensorDataset(x[: hp.n_val], y[: hp.n_val])
        elif hp.dataset == "tensors":
            blob = torch.load(hp.root)
            self.train_set, self.val_set = TensorDataset(*blob["train"]), TensorDataset(*blob["val"])
        else:
            self.train_set, self.val_set = self._torchvision()

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True,
                          num_workers=self.hparams.num_workers)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size, num_workers=self.hparams.num_workers)
