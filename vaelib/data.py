"""MNIST and Fashion-MNIST as tensors, loaded once, served as index slices.

torchvision reads (and, with internet access, downloads) the files.  Each
split is read once per process into one tensor, converted once to float32
pixels in [0, 1] and flattened to ``[N, 784]``; a batch is an index slice of
that tensor.  There is no per-image ``Dataset``/PIL transform on the hot path,
which is what makes small-model training fast on a CPU.

Where the files live: an explicit ``root`` argument, else ``$VAELIB_DATA``,
else a per-user cache folder (``~/.cache/vaelib/data``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

__all__ = [
    "DATASETS",
    "DataNotFoundError",
    "ImageSet",
    "batches",
    "binarize",
    "data_root",
    "flatten_images",
    "load",
]

IMAGE_SHAPE = (28, 28)
IMAGE_DIM = 28 * 28


@dataclass(frozen=True)
class _Source:
    folder: str  # torchvision's folder under the root
    torchvision_class: str
    title: str


DATASETS = {
    "mnist": _Source("MNIST", "MNIST", "MNIST"),
    "fashion-mnist": _Source("FashionMNIST", "FashionMNIST", "Fashion-MNIST"),
}

_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DataNotFoundError(FileNotFoundError):
    """The data set's files are not on disk and could not be downloaded."""


@dataclass(frozen=True)
class ImageSet:
    """One split of an image data set, as tensors.

    ``x``: float32 pixels in [0, 1], ``[N, 784]``; ``y``: int64 labels ``[N]``;
    ``classes``: the label names.
    """

    x: Tensor
    y: Tensor
    classes: tuple[str, ...]
    name: str
    split: str

    def __len__(self) -> int:
        return len(self.x)

    def to(self, device: torch.device | str) -> ImageSet:
        """The same split with ``x`` and ``y`` on ``device`` (moved once)."""
        return ImageSet(self.x.to(device), self.y.to(device), self.classes, self.name, self.split)


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder that holds ``MNIST/raw`` and ``FashionMNIST/raw``.

    ``root`` if given, else ``$VAELIB_DATA``, else ``$XDG_CACHE_HOME/vaelib/data``
    (``~/.cache/vaelib/data`` by default).
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("VAELIB_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "vaelib" / "data"


def _missing_files(name: str, split: str, root: Path) -> list[Path]:
    raw = root / DATASETS[name].folder / "raw"
    return [raw / f for f in _FILES[split] if not (raw / f).is_file()]


def _not_found_message(name: str, split: str, root: Path, reason: str) -> str:
    source = DATASETS[name]
    raw = root / source.folder / "raw"
    missing = ", ".join(p.name for p in _missing_files(name, split, root))
    return (
        f"{source.title} ({split} split) is not on disk: missing {missing} in {raw}. "
        f"{reason} Put the files there (torchvision's layout: "
        f"<root>/{source.folder}/raw/), or point vaelib at a folder that has them "
        f"with load(..., root=...) or the environment variable VAELIB_DATA."
    )


@functools.lru_cache(maxsize=8)
def _read(name: str, split: str, root: str, download: bool) -> tuple[Tensor, Tensor, tuple[str, ...]]:
    """Read one split once per process: float32 ``[N, 784]``, labels ``[N]``."""
    import torchvision  # imported here: importing vaelib stays fast

    path = Path(root)
    if _missing_files(name, split, path):
        if not download:
            raise DataNotFoundError(_not_found_message(name, split, path, "Downloading is off."))
        try:
            getattr(torchvision.datasets, DATASETS[name].torchvision_class)(
                root, train=(split == "train"), download=True
            )
        except Exception as err:  # offline, read-only folder, server down, ...
            reason = f"Downloading them failed ({type(err).__name__}: {err})."
            raise DataNotFoundError(_not_found_message(name, split, path, reason)) from err
    dataset = getattr(torchvision.datasets, DATASETS[name].torchvision_class)(
        root, train=(split == "train"), download=False
    )
    images = dataset.data  # uint8 [N, 28, 28]
    x = images.reshape(len(images), IMAGE_DIM).to(torch.float32).div_(255.0)  # [N, 784]
    return x, dataset.targets.to(torch.int64), tuple(dataset.classes)


def load(
    name: str = "mnist",
    split: str = "train",
    *,
    root: str | os.PathLike | None = None,
    size: int | None = None,
    download: bool = True,
    seed: int = 0,
) -> ImageSet:
    """Load one split of ``"mnist"`` or ``"fashion-mnist"`` as an :class:`ImageSet`.

    ``size`` keeps a random subset of that many images, the same for a given
    ``seed``.  The files are read once per process; later calls reuse them.
    Raises :class:`DataNotFoundError` naming the missing files and the folder
    they belong in when they are absent and cannot be downloaded.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(DATASETS)}")
    if split not in _FILES:
        raise ValueError(f"unknown split {split!r}; choose 'train' or 'test'")
    x, y, classes = _read(name, split, str(data_root(root).resolve()), download)
    if size is not None:
        if not 1 <= size <= len(x):
            raise ValueError(f"size must be between 1 and {len(x)}, got {size}")
        keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:size]
        x, y = x[keep], y[keep]
    return ImageSet(x, y, classes, name, split)


def flatten_images(x: Tensor, dim: int = IMAGE_DIM) -> Tensor:
    """Check an image batch and return it as ``[B, dim]``.

    Accepts ``[B, dim]``, ``[B, 28, 28]`` or ``[B, 1, 28, 28]`` floating-point
    pixels in [0, 1]; anything else is a ``TypeError`` or ``ValueError`` that
    says what was wrong.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"expected a torch.Tensor of images, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"expected floating-point pixels in [0, 1], got dtype {x.dtype}; "
            "convert uint8 images with x.float() / 255"
        )
    if x.dim() < 2 or x[0].numel() != dim:
        raise ValueError(
            f"expected a batch of images of {dim} pixels each ([B, {dim}]), got shape {tuple(x.shape)}"
        )
    x = x.reshape(len(x), dim)  # [B, dim]
    if len(x):
        low, high = torch.aminmax(x)  # one pass; NaN propagates into both
        if not (low >= 0 and high <= 1):
            if torch.isnan(low) or torch.isnan(high):
                raise ValueError("the image batch contains NaN values")
            raise ValueError(
                f"pixels must lie in [0, 1], got values from {low.item():.3g} to {high.item():.3g}; "
                "were the images normalized (x - mean) / std, or left in 0..255?"
            )
    return x


def binarize(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Dynamic binarization: each pixel is 1 with probability equal to its value."""
    return torch.bernoulli(x, generator=generator)


def batches(
    x: Tensor,
    batch_size: int = 128,
    *,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
    binarize_each: bool = False,
) -> Iterator[Tensor]:
    """Yield batches of ``x`` (``[N, ...]``) as index slices, ``[batch_size, ...]``.

    With ``shuffle`` the order is a fresh permutation (from ``generator``) on
    every call; the last batch may be smaller.  With ``binarize_each`` every
    batch is binarized anew (dynamic binarization).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = len(x)
    if shuffle:
        order = torch.randperm(n, generator=generator).to(x.device)
    for start in range(0, n, batch_size):
        batch = x[order[start : start + batch_size]] if shuffle else x[start : start + batch_size]
        yield torch.bernoulli(batch) if binarize_each else batch
