"""MNIST and Fashion-MNIST as tensors, loaded once, served as index slices.

torchvision downloads the files (with internet access, on first use);
vaelib reads them itself, which spares every process the second it takes to
import torchvision.  Each split is read once per process and kept as one uint8 tensor ``[N, 784]``;
every :func:`load` converts it to float32 pixels in [0, 1], so each caller
gets tensors of its own that the cache never sees.  A batch is an index slice
of that tensor (:func:`vaelib.batched.batches`).  There is no per-image
``Dataset``/PIL transform on the hot path, which is what makes small-model
training fast on a CPU.  Before a raw file is read, its IDX header and size
are checked (:mod:`vaelib.idx`).  :func:`flatten_images`, :func:`check_images`
and :func:`check_labels` are the checks of what a batch of images and labels
is, for every module.

Where the files live: an explicit ``root`` argument, else ``$VAELIB_DATA``,
else a per-user cache folder (``~/.cache/vaelib/data``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ._validate import is_int
from .idx import IMAGE_SHAPE, DataFormatError, bad_file, check_idx, idx_data

__all__ = [
    "DATASETS",
    "DataFormatError",
    "DataNotFoundError",
    "ImageSet",
    "check_images",
    "check_labels",
    "data_root",
    "flatten_images",
    "load",
    "user_cache_folder",
]

IMAGE_DIM = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]


@dataclass(frozen=True)
class _Source:
    folder: str  # torchvision's folder under the root
    torchvision_class: str
    title: str
    classes: tuple[str, ...]  # the label names, as torchvision gives them


DATASETS = {
    "mnist": _Source(
        "MNIST",
        "MNIST",
        "MNIST",
        (
            "0 - zero",
            "1 - one",
            "2 - two",
            "3 - three",
            "4 - four",
            "5 - five",
            "6 - six",
            "7 - seven",
            "8 - eight",
            "9 - nine",
        ),
    ),
    "fashion-mnist": _Source(
        "FashionMNIST",
        "FashionMNIST",
        "Fashion-MNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
}

_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DataNotFoundError(FileNotFoundError):
    """The data set's files are not on disk and could not be downloaded."""


def _pixel_range_problem(x: Tensor) -> str | None:
    """Why floating-point pixels ``x`` are not all in [0, 1], or None if they are."""
    if not x.numel():
        return None
    low, high = torch.aminmax(x)  # one pass; NaN propagates into both
    if low >= 0 and high <= 1:
        return None
    if torch.isnan(low) or torch.isnan(high):
        return "contains NaN values"
    return (
        f"must hold pixels in [0, 1], got values from {low.item():.3g} to {high.item():.3g}; "
        "were the images normalized (x - mean) / std, or left in 0..255?"
    )


@dataclass(frozen=True)
class ImageSet:
    """One split of an image data set, as tensors.

    ``x``: float pixels in [0, 1], ``[N, 784]``; ``y``: int64 labels ``[N]``,
    each an index into ``classes``, the label names.  Anything else is refused
    when the set is made, with a ``TypeError`` or ``ValueError`` naming the field.
    """

    x: Tensor
    y: Tensor
    classes: tuple[str, ...]
    name: str
    split: str

    def __post_init__(self) -> None:
        x, y = self.x, self.y
        if not isinstance(x, Tensor):
            raise TypeError(f"ImageSet.x must be a torch.Tensor of images, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(
                f"ImageSet.x must hold floating-point pixels in [0, 1], got dtype {x.dtype}; "
                "convert uint8 images with x.float() / 255"
            )
        if x.dim() != 2 or x.shape[1] != IMAGE_DIM:
            raise ValueError(
                f"ImageSet.x must have shape [N, {IMAGE_DIM}] (flattened 28x28 images), got {tuple(x.shape)}"
            )
        problem = _pixel_range_problem(x)
        if problem:
            raise ValueError(f"ImageSet.x {problem}")
        if not isinstance(y, Tensor):
            raise TypeError(f"ImageSet.y must be a torch.Tensor of labels, got {type(y).__name__}")
        if y.dtype != torch.int64:
            raise TypeError(f"ImageSet.y must hold int64 labels, got dtype {y.dtype}; convert with y.long()")
        if y.dim() != 1:
            raise ValueError(f"ImageSet.y must have shape [N], one label per image, got {tuple(y.shape)}")
        if len(x) != len(y):
            raise ValueError(
                f"ImageSet.x and ImageSet.y must have the same length, got {len(x)} images and {len(y)} labels"
            )
        if x.device != y.device:
            raise ValueError(f"ImageSet.x and ImageSet.y must be on one device, got {x.device} and {y.device}")
        if not (isinstance(self.classes, tuple) and all(isinstance(c, str) for c in self.classes)):
            raise TypeError(f"ImageSet.classes must be a tuple of label names (str), got {self.classes!r}")
        if len(y):
            low, high = torch.aminmax(y)
            if low < 0 or high >= len(self.classes):
                raise ValueError(
                    f"ImageSet.y must hold labels from 0 to {len(self.classes) - 1} (indices into "
                    f"ImageSet.classes, {len(self.classes)} names), got labels from {low.item()} to {high.item()}"
                )
        for field in ("name", "split"):
            if not isinstance(getattr(self, field), str):
                raise TypeError(f"ImageSet.{field} must be a str, got {type(getattr(self, field)).__name__}")

    def __len__(self) -> int:
        return len(self.x)


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder that holds ``MNIST/raw`` and ``FashionMNIST/raw``.

    ``root`` if given, else ``$VAELIB_DATA``, else ``$XDG_CACHE_HOME/vaelib/data``
    (``~/.cache/vaelib/data`` by default).
    """
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be a folder path (str or os.PathLike), got {type(root).__name__}")
        return Path(root).expanduser()
    env = os.environ.get("VAELIB_DATA")
    if env:
        return Path(env).expanduser()
    return user_cache_folder() / "data"


def user_cache_folder() -> Path:
    """vaelib's per-user folder, ``$XDG_CACHE_HOME/vaelib`` (``~/.cache/vaelib``):
    the data's default home, and the model cache's (:mod:`vaelib.cache`)."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "vaelib"


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


def _check_raw_files(name: str, split: str, root: Path) -> None:
    """Check the header and size of both raw files of a split before they are read."""
    raw = root / DATASETS[name].folder / "raw"
    images_file, labels_file = (raw / f for f in _FILES[split])
    n_images = check_idx(images_file, "images")
    n_labels = check_idx(labels_file, "labels")
    if n_images != n_labels:
        other = "t10k" if split == "train" else "train"
        raise DataFormatError(
            f"The raw files {images_file.name} and {labels_file.name} in {raw} do not match: expected "
            f"one label per image, found {n_images:,} images and {n_labels:,} labels. One of them is "
            f"probably another split's file (the {other}-* files) or from another data set. Delete both "
            "and load again with download=True to fetch fresh copies, or point load(..., root=...) or "
            "VAELIB_DATA at a folder with good files."
        )


@functools.lru_cache(maxsize=8)
def _read(name: str, split: str, root: str, download: bool) -> tuple[Tensor, Tensor, tuple[str, ...]]:
    """Read one split once per process: uint8 pixels ``[N, 784]``, int64 labels ``[N]``, class names.

    The cached tensors are never handed out: :func:`load` copies them.
    """
    source = DATASETS[name]
    path = Path(root)
    if _missing_files(name, split, path):
        if not download:
            raise DataNotFoundError(_not_found_message(name, split, path, "Downloading is off."))
        import torchvision  # imported only to download: it takes about a second

        try:
            getattr(torchvision.datasets, source.torchvision_class)(root, train=(split == "train"), download=True)
        except Exception as err:  # offline, read-only folder, server down, ...
            reason = f"Downloading them failed ({type(err).__name__}: {err})."
            raise DataNotFoundError(_not_found_message(name, split, path, reason)) from err
    _check_raw_files(name, split, path)
    raw = path / source.folder / "raw"
    images_file, labels_file = (raw / f for f in _FILES[split])
    images = idx_data(images_file, 16).reshape(-1, IMAGE_DIM)  # uint8 [N, 784]
    labels = idx_data(labels_file, 8).to(torch.int64)  # [N]
    classes = source.classes
    if len(labels) and labels.max() >= len(classes):
        raise bad_file(
            labels_file,
            f"labels from 0 to {len(classes) - 1} ({source.title} has {len(classes)} classes)",
            f"labels up to {labels.max().item()}",
        )
    return images, labels, classes


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
    ``seed``.  The files are read once per process; later calls reuse them,
    and every call returns tensors of its own (changing them in place changes
    no other set).  Raises :class:`DataNotFoundError` naming the missing files
    and the folder they belong in when they are absent and cannot be
    downloaded, and :class:`DataFormatError` naming a raw file that is
    damaged (truncated, over-long, empty) or is the wrong file.
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(DATASETS)}")
    if not isinstance(split, str) or split not in _FILES:
        raise ValueError(f"unknown split {split!r}; choose 'train' or 'test'")
    if size is not None and not is_int(size):
        raise TypeError(f"size must be an int (a number of images) or None, got {type(size).__name__} {size!r}")
    if not is_int(seed):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {type(download).__name__} {download!r}")
    pixels, y, classes = _read(name, split, str(data_root(root).resolve()), download)
    if size is None:
        y = y.clone()
    else:
        if not 1 <= size <= len(pixels):
            raise ValueError(f"size must be between 1 and {len(pixels)}, got {size}")
        keep = torch.randperm(len(pixels), generator=torch.Generator().manual_seed(int(seed)))[: int(size)]
        pixels, y = pixels[keep], y[keep]  # indexing copies
    x = pixels.to(torch.float32).div_(255.0)  # a new tensor: [N, 784] in [0, 1]
    return ImageSet(x, y, classes, name, split)


def flatten_images(x: Tensor, dim: int = IMAGE_DIM) -> Tensor:
    """Check an image batch and return it as ``[B, dim]``.

    Accepts ``[B, dim]``, ``[B, 28, 28]`` or ``[B, 1, 28, 28]`` floating-point
    pixels in [0, 1], at least one image; anything else is a ``TypeError`` or
    ``ValueError`` that says what was wrong (:func:`check_images`).
    """
    check_images("the image batch", x)
    if not x.is_floating_point():
        raise TypeError(
            f"expected floating-point pixels in [0, 1], got dtype {x.dtype}; convert uint8 images with x.float() / 255"
        )
    if x[0].numel() != dim:
        raise ValueError(f"expected a batch of images of {dim} pixels each ([B, {dim}]), got shape {tuple(x.shape)}")
    x = x.reshape(len(x), dim)  # [B, dim]
    problem = _pixel_range_problem(x)
    if problem:
        raise ValueError(f"the image batch {problem}")
    return x


def check_images(name: str, x: object) -> None:
    """Refuse anything but a batch of at least one image, a tensor ``[N, ...]``, naming ``name``.

    The one rule of vaelib for a batch: the wrong type is a ``TypeError``;
    no batch dimension, or no image in it, a ``ValueError``.  An empty batch
    is refused everywhere: a mean over no images is no number.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of images [N, ...], got {type(x).__name__}")
    if x.dim() < 2:
        raise ValueError(f"{name} must be a batch of images [N, ...], got shape {tuple(x.shape)}")
    if len(x) == 0:
        raise ValueError(f"{name} holds no images (shape {tuple(x.shape)}): a batch needs at least one")


def check_labels(name: str, labels: object, n: int) -> None:
    """Refuse labels that are not one int per image of ``n``, naming ``name`` (e.g. ``train_y``)."""
    if not isinstance(labels, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of int labels [N], got {type(labels).__name__}")
    if labels.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8, torch.int8):
        raise TypeError(f"{name} must hold integer labels, got dtype {labels.dtype}; convert with .long()")
    if labels.dim() != 1 or len(labels) != n:
        raise ValueError(f"{name} must hold one label per image, shape [{n}], got {tuple(labels.shape)}")
