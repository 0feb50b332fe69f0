"""MNIST's raw IDX files, read only after their header and size are checked.

An IDX file is a big-endian header (a magic number that says the type and
the number of dimensions, then each dimension's size) followed by the data,
one unsigned byte per pixel or label.  A truncated, over-long, empty or
swapped file is a :class:`DataFormatError` that names it and says what to
do, not a silent wrong data set.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["DataFormatError", "bad_file", "check_idx", "idx_data"]

IMAGE_SHAPE = (28, 28)  # the only image size the book's data sets have

# IDX magic numbers of unsigned-byte files: 0x0000_08_<number of dimensions>
_IMAGES_MAGIC = 0x00000803
_LABELS_MAGIC = 0x00000801


class DataFormatError(ValueError):
    """A raw data file is on disk but damaged, or is not the file its name says."""


def bad_file(path: Path, expected: str, found: str) -> DataFormatError:
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


def check_idx(path: Path, kind: str) -> int:
    """Check a raw IDX file's header and size against its name; return its number of items.

    Reads the header (at most 16 bytes) and the file's size, never the data.
    """
    magic, ndim, what = (_IMAGES_MAGIC, 3, "images") if kind == "images" else (_LABELS_MAGIC, 1, "labels")
    expected = f"an IDX {what} file (magic number 0x{magic:08x})"
    size = path.stat().st_size
    if size == 0:
        raise bad_file(path, expected, "an empty file (0 bytes)")
    header_size = 4 + 4 * ndim
    with path.open("rb") as f:
        head = f.read(header_size)
    if head[:4] != magic.to_bytes(4, "big"):
        raise bad_file(path, expected, _describe_magic(head))
    if len(head) < header_size:
        raise bad_file(path, f"{expected} with a {header_size}-byte header", f"only {size} bytes")
    dims = struct.unpack(f">{ndim}I", head[4:])
    count = dims[0]
    if kind == "images" and dims[1:] != IMAGE_SHAPE:
        raise bad_file(path, "images of 28x28 pixels", f"images of {dims[1]}x{dims[2]} pixels")
    if count == 0:
        raise bad_file(path, f"at least one item in {expected}", f"a header that says it holds 0 {what}")
    promised = header_size + math.prod(dims)
    shape = "x".join(map(str, dims))
    if size < promised:
        raise bad_file(
            path,
            f"{promised:,} bytes, as its header says ({header_size}-byte header + {shape} bytes of {what})",
            f"{size:,} bytes: the file is truncated (an interrupted download or copy?)",
        )
    if size > promised:
        raise bad_file(
            path,
            f"{promised:,} bytes, as its header says ({header_size}-byte header + {shape} bytes of {what})",
            f"{size:,} bytes: {size - promised:,} trailing bytes after the data",
        )
    return count


def idx_data(path: Path, header_size: int) -> Tensor:
    """The bytes of a checked IDX file after its header, as a uint8 tensor."""
    return torch.frombuffer(bytearray(path.read_bytes()[header_size:]), dtype=torch.uint8)
