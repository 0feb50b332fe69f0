"""Run-wide settings: fast mode, a course's settings, the compute device, and seeding.

Every chapter asks this module, in one call, for the settings that cost time
(epochs, how many images to train on, how many samples to draw).  With the
environment variable ``VAELIB_FAST=1`` (set by ``make test`` and CI) they
shrink so that each chapter runs in seconds; without it they are the full
settings a reader of the online book sees.  A teacher can cap them for the
whole book with a course file (:func:`course`): ``course.toml`` beside the
book's ``_config.yml`` (or the file ``$VAELIB_COURSE`` names), e.g.::

    [settings]
    max_epochs = 3          # every chapter trains for at most 3 epochs
    max_train_size = 20000  # on at most 20,000 training images
    max_test_size = 5000
    max_samples = 1000

Notebooks never read environment variables or files themselves.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

__all__ = ["Budget", "budget", "course", "device", "fast_mode", "flush_denormals", "seed_everything"]

_TRUE = {"1", "true", "yes", "on"}

# The caps fast mode applies.  Small enough that a chapter runs in seconds on
# two CPU cores, large enough that every experiment still has data to show.
FAST_EPOCHS = 1
FAST_TRAIN_SIZE = 2_000
FAST_TEST_SIZE = 1_000
FAST_SAMPLES = 16

# The width of a printed line in the book: what fits the code column of a
# page at a laptop width.  Budget.describe(), the progress bar, the exercise
# checks' messages and the model cache's notes wrap or stop there.
PAGE_WIDTH = 75


def fast_mode() -> bool:
    """True when ``VAELIB_FAST`` is set to 1/true/yes/on."""
    return os.environ.get("VAELIB_FAST", "").strip().lower() in _TRUE


#: What a course file may cap, under its ``[settings]`` table.
COURSE_SETTINGS = ("max_epochs", "max_train_size", "max_test_size", "max_samples")


def course_file() -> Path | None:
    """The course file in use: ``$VAELIB_COURSE``, else ``course.toml`` in the working
    folder or the one above it (a chapter runs in ``book/``, the file sits beside
    ``_config.yml``), else None."""
    named = os.environ.get("VAELIB_COURSE", "").strip()
    if named:
        path = Path(named)
        if not path.is_file():
            raise FileNotFoundError(f"VAELIB_COURSE names {named}, which is not a file")
        return path
    here = Path.cwd()
    for folder in (here, here.parent):
        if (folder / "course.toml").is_file():
            return folder / "course.toml"
    return None


def course() -> dict[str, int]:
    """A course's caps on the costly settings (``{"max_epochs": 3, ...}``), or ``{}``.

    Read from :func:`course_file`'s ``[settings]`` table; a key it does not
    know, or a value that is not a positive integer, is a ValueError that
    names the file.
    """
    path = course_file()
    if path is None:
        return {}
    try:
        import tomllib
    except ModuleNotFoundError as err:  # Python 3.10
        raise RuntimeError(f"reading {path} needs Python 3.11 or newer (tomllib)") from err
    table = tomllib.loads(path.read_text()).get("settings", {})
    unknown = sorted(set(table) - set(COURSE_SETTINGS))
    if unknown:
        raise ValueError(f"{path}: [settings] knows {', '.join(COURSE_SETTINGS)}; not {', '.join(unknown)}")
    for name, value in table.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{path}: {name} must be a positive integer, got {value!r}")
    return dict(table)


@dataclass(frozen=True)
class Budget:
    """How much work a chapter does: the settings that cost time.

    ``train_size`` and ``test_size`` of ``None`` mean the whole split.
    """

    epochs: int
    train_size: int | None
    test_size: int | None
    n_samples: int
    fast: bool
    course: bool = False  # capped by a course file (:func:`course`)

    def describe(self, *used: str) -> str:
        """One line for the reader: which mode, and what it costs.

        ``used`` names the settings the chapter uses (``"epochs"``,
        ``"train_size"``, ``"test_size"``, ``"n_samples"``); by default, all
        of them.  A chapter that trains nothing should not announce epochs.
        """
        names = ("epochs", "train_size", "test_size", "n_samples")
        unknown = [name for name in used if name not in names]
        if unknown:
            raise ValueError(f"unknown settings {unknown}; choose from {names}")

        def size(n: int | None) -> str:
            return "all" if n is None else f"{n:,}"

        parts = {
            "epochs": f"{self.epochs} epoch" + ("" if self.epochs == 1 else "s"),
            "train_size": f"{size(self.train_size)} training images",
            "test_size": f"{size(self.test_size)} test images",
            "n_samples": f"{self.n_samples:,} samples",
        }
        mode = "fast mode (VAELIB_FAST=1)" if self.fast else "full settings"
        if self.course:
            mode += ", capped by the course file"
        line = f"{mode}: " + ", ".join(parts[name] for name in (used or names))
        if len(line) <= PAGE_WIDTH:
            return line
        return f"{mode}:\n  " + ", ".join(parts[name] for name in (used or names))


def budget(
    epochs: int = 10,
    train_size: int | None = None,
    test_size: int | None = None,
    n_samples: int = 1_000,
) -> Budget:
    """The chapter's costly settings, capped by a course file and shrunk in fast mode.

    Pass the full settings.  A course file (:func:`course`) caps them for the
    whole book; in fast mode each is capped further (one epoch, a few
    thousand images, a few samples), so every notebook runs in seconds.

    >>> budget(epochs=10).epochs  # doctest: +SKIP
    10
    """
    for name, value in [("epochs", epochs), ("n_samples", n_samples)]:
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    for name, value in [("train_size", train_size), ("test_size", test_size)]:
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be None or a positive integer, got {value!r}")

    def cap(value: int | None, limit: int | None) -> int | None:
        if limit is None:
            return value
        return limit if value is None else min(value, limit)

    caps = course()
    capped = Budget(
        epochs=cap(epochs, caps.get("max_epochs")),
        train_size=cap(train_size, caps.get("max_train_size")),
        test_size=cap(test_size, caps.get("max_test_size")),
        n_samples=cap(n_samples, caps.get("max_samples")),
        fast=False,
        course=bool(caps),
    )
    if not fast_mode():
        return capped
    return Budget(
        epochs=min(capped.epochs, FAST_EPOCHS),
        train_size=cap(capped.train_size, FAST_TRAIN_SIZE),
        test_size=cap(capped.test_size, FAST_TEST_SIZE),
        n_samples=min(capped.n_samples, FAST_SAMPLES),
        fast=True,
        course=bool(caps),
    )


def device(prefer: str | None = None) -> torch.device:
    """The device to compute on: ``prefer`` or ``$VAELIB_DEVICE`` if given,
    else CUDA, else Apple's MPS, else the CPU."""
    name = prefer or os.environ.get("VAELIB_DEVICE")
    if name:
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a CPU generator seeded the same.

    With a fixed seed, a notebook run twice on one machine gives the same
    numbers and figures.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS
    return torch.Generator().manual_seed(seed)


def flush_denormals() -> None:
    """Round denormal floats to zero in CPU computations, for speed.

    Training drives some gradients below about 1.2e-38, the smallest normal
    float32 (2.2e-308 for float64), into the "denormal" numbers, where many
    x86 CPUs compute dozens of times slower: on an Intel machine chapter 1's
    epochs grew from 2.2 s to 3.4 s without flushing (on the AMD EPYC that
    builds the book, the difference is within the noise).  With flushing,
    such numbers become 0, which changes a result completely where it is
    then divided by or logged (log 0 is -inf): that is why the book computes
    such quantities in log space (logsumexp).  A GPU does not flush.  The
    chapters that train call this in their setup cell; nothing in vaelib
    calls it for you.

    The setting belongs to each CPU thread: it applies to the calling thread
    and to the worker threads PyTorch starts after it, at its first parallel
    computation.  Call it before any tensor computation (choosing the device
    and seeding are fine), or only the calling thread flushes.  Undo it with
    ``torch.set_flush_denormal(False)``, which reaches the calling thread
    only.
    """
    # NumPy (before 2.1) measures each float type's limits once, when first
    # asked, and warns if it finds the smallest subnormal to be zero, as it
    # would under flushing: ask first, so that no later import warns.
    for dtype in (np.float16, np.float32, np.float64, np.longdouble):
        np.finfo(dtype)
    torch.set_flush_denormal(True)
