"""MNIST and Fashion-MNIST as tensors, loaded once, served as index slices.

torchvision downloads the files (with internet access, on first use);
vaelib reads them itself, which spares every process the second it takes to
import torchvision.  Each split is read once per process and kept as one uint8 tensor ``[N, 784]``;
every :func:`load` converts it to float32 pixels in [0, 1], so each caller
gets tensors of its own that the cache never sees.  A batch is an index slice
of that tensor.  There is no per-image ``Dataset``/PIL transform on the hot
path, which is what makes small-model training fast on a CPU.

Before a raw file is read, its IDX header and size are checked against what
the file's name promises: a truncated, over-long, empty or swapped file is a
:class:`DataFormatError` that names it, not a silent wrong data set.

Where the files live: an explicit ``root`` argument, else ``$VAELIB_DATA``,
else a per-user cache folder (``~/.cache/vaelib/data``).
"""

from __future__ import annotations

import functools
import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ._validate import is_int

__all__ = [
    "DATASETS",
    "DataFormatError",
    "DataNotFoundError",
    "ImageSet",
    "batch_tensors",
    "batches",
    "check_labels",
    "data_root",
    "flatten_images",
    "load",
    "user_cache_folder",
]

IMAGE_SHAPE = (28, 28)
IMAGE_DIM = 28 * 28


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

# IDX magic numbers of unsigned-byte files: 0x0000_08_<number of dimensions>
_IMAGES_MAGIC = 0x00000803
_LABELS_MAGIC = 0x00000801


class DataNotFoundError(FileNotFoundError):
    """The data set's files are not on disk and could not be downloaded."""


class DataFormatError(ValueError):
    """A raw data file is on disk but damaged, or is not the file its name says."""


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


def _bad_file(path: Path, expected: str, found: str) -> DataFormatError:
    return DataFormatError(
        f"The raw file {path.name} in {path.parent} is damaged or is the wrong file: "
        f"expected {expected}, found {found}. Delete {path} and load again with download=True "
        "to fetch a fresh copy, or point load(..., root=...) or VAELIB_DATA at a folder with good files."
    )


def _describe_magic(head: bytes) -> str:
    """What the first bytes of a file say it is, for an error message."""
    if head[:2] == b"\x1f\x8b":
        return "a gzip-compressed file (unpack it, or delete it so that it is extracted again)"
    if len(head) < 4:
        return f"only {len(head)} bytes, too short for an IDX header"
    magic = int.from_bytes(head[:4], "big")
    if magic == _IMAGES_MAGIC:
        return f"an IDX images file (magic number 0x{magic:08x})"
    if magic == _LABELS_MAGIC:
        return f"an IDX labels file (magic number 0x{magic:08x})"
    return f"magic number 0x{magic:08x}, which is not an MNIST IDX file"


def _check_idx(path: Path, kind: str) -> int:
    """Check a raw IDX file's header and size against its name; return its number of items.

    Reads the header (at most 16 bytes) and the file's size, never the data.
    """
    magic, ndim, what = (_IMAGES_MAGIC, 3, "images") if kind == "images" else (_LABELS_MAGIC, 1, "labels")
    expected = f"an IDX {what} file (magic number 0x{magic:08x})"
    size = path.stat().st_size
    if size == 0:
        raise _bad_file(path, expected, "an empty file (0 bytes)")
    header_size = 4 + 4 * ndim
    with path.open("rb") as f:
        head = f.read(header_size)
    if head[:4] != magic.to_bytes(4, "big"):
        raise _bad_file(path, expected, _describe_magic(head))
    if len(head) < header_size:
        raise _bad_file(path, f"{expected} with a {header_size}-byte header", f"only {size} bytes")
    dims = struct.unpack(f">{ndim}I", head[4:])
    count = dims[0]
    if kind == "images" and dims[1:] != IMAGE_SHAPE:
        raise _bad_file(path, "images of 28x28 pixels", f"images of {dims[1]}x{dims[2]} pixels")
    if count == 0:
        raise _bad_file(path, f"at least one item in {expected}", f"a header that says it holds 0 {what}")
    promised = header_size + math.prod(dims)
    shape = "x".join(map(str, dims))
    if size < promised:
        raise _bad_file(
            path,
            f"{promised:,} bytes, as its header says ({header_size}-byte header + {shape} bytes of {what})",
            f"{size:,} bytes: the file is truncated (an interrupted download or copy?)",
        )
    if size > promised:
        raise _bad_file(
            path,
            f"{promised:,} bytes, as its header says ({header_size}-byte header + {shape} bytes of {what})",
            f"{size:,} bytes: {size - promised:,} trailing bytes after the data",
        )
    return count


def _check_raw_files(name: str, split: str, root: Path) -> None:
    """Check the header and size of both raw files of a split before they are read."""
    raw = root / DATASETS[name].folder / "raw"
    images_file, labels_file = (raw / f for f in _FILES[split])
    n_images = _check_idx(images_file, "images")
    n_labels = _check_idx(labels_file, "labels")
    if n_images != n_labels:
        other = "t10k" if split == "train" else "train"
        raise DataFormatError(
            f"The raw files {images_file.name} and {labels_file.name} in {raw} do not match: expected "
            f"one label per image, found {n_images:,} images and {n_labels:,} labels. One of them is "
            f"probably another split's file (the {other}-* files) or from another data set. Delete both "
            "and load again with download=True to fetch fresh copies, or point load(..., root=...) or "
            "VAELIB_DATA at a folder with good files."
        )


def _idx_data(path: Path, header_size: int) -> Tensor:
    """The bytes of a checked IDX file after its header, as a uint8 tensor."""
    return torch.frombuffer(bytearray(path.read_bytes()[header_size:]), dtype=torch.uint8)


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
    images = _idx_data(images_file, 16).reshape(-1, IMAGE_DIM)  # uint8 [N, 784]
    labels = _idx_data(labels_file, 8).to(torch.int64)  # [N]
    classes = source.classes
    if len(labels) and labels.max() >= len(classes):
        raise _bad_file(
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
    pixels in [0, 1]; anything else is a ``TypeError`` or ``ValueError`` that
    says what was wrong.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"expected a torch.Tensor of images, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"expected floating-point pixels in [0, 1], got dtype {x.dtype}; convert uint8 images with x.float() / 255"
        )
    if x.dim() < 2 or x[0].numel() != dim:
        raise ValueError(f"expected a batch of images of {dim} pixels each ([B, {dim}]), got shape {tuple(x.shape)}")
    x = x.reshape(len(x), dim)  # [B, dim]
    problem = _pixel_range_problem(x)
    if problem:
        raise ValueError(f"the image batch {problem}")
    return x


def batches(
    x: Tensor,
    batch_size: int = 128,
    *,
    labels: Tensor | None = None,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor] | Iterator[tuple[Tensor, Tensor]]:
    """Yield batches of ``x`` (``[N, ...]``) as index slices, ``[batch_size, ...]``.

    With ``labels`` (``[N]``, one per image) each batch is a pair ``(x_batch,
    y_batch)``, the labels sliced with the same indices; without, the images
    alone, as the unconditional chapters use it.  With ``shuffle`` the order
    is a fresh permutation (from ``generator``) on every pass; the last batch
    may be smaller.  The arguments are checked at the call, before the first
    batch: ``x`` must be a tensor holding at least one image, ``labels`` a
    tensor of the same length, and ``batch_size`` a positive int.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor of images [N, ...], got {type(x).__name__}")
    if x.dim() == 0:
        raise ValueError("x must be a batch of images [N, ...], got a 0-dimensional tensor")
    if len(x) == 0:
        raise ValueError(f"x holds no images (shape {tuple(x.shape)}); there is nothing to batch")
    if labels is not None:
        check_labels("labels", labels, len(x))
        if labels.device != x.device:
            raise ValueError(f"labels and x must be on one device, got {labels.device} and {x.device}")
    if not is_int(batch_size):
        raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__} {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return _batches(x, labels, int(batch_size), bool(shuffle), generator)


def batch_tensors(batch: Tensor | tuple[Tensor, Tensor], device: torch.device | str) -> tuple[Tensor, ...]:
    """A batch of :func:`batches` on ``device``, as a tuple: ``(x,)``, or ``(x, y)`` for a labelled one,
    ready to be passed on as ``f(model, *batch_tensors(batch, device))``."""
    return tuple(t.to(device) for t in batch) if isinstance(batch, tuple) else (batch.to(device),)


def check_labels(name: str, labels: object, n: int) -> None:
    """Refuse labels that are not one int per image of ``n``, naming ``name`` (e.g. ``train_y``)."""
    if not isinstance(labels, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of int labels [N], got {type(labels).__name__}")
    if labels.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8, torch.int8):
        raise TypeError(f"{name} must hold integer labels, got dtype {labels.dtype}; convert with .long()")
    if labels.dim() != 1 or len(labels) != n:
        raise ValueError(f"{name} must hold one label per image, shape [{n}], got {tuple(labels.shape)}")


def _batches(
    x: Tensor, labels: Tensor | None, batch_size: int, shuffle: bool, generator: torch.Generator | None
) -> Iterator[Tensor] | Iterator[tuple[Tensor, Tensor]]:
    n = len(x)
    if shuffle:
        order = torch.randperm(n, generator=generator).to(x.device)
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size] if shuffle else slice(start, start + batch_size)
        yield x[rows] if labels is None else (x[rows], labels[rows])
