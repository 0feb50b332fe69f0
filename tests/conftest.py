"""Shared fixtures: tiny data made in the test, never a download."""

from __future__ import annotations

import gzip
import os
import shutil
import struct
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]

# Headless Chromium for the browser checks (tests/test_book.py, tests/test_jupyterlab.py):
# Debian's package, started once per session and shared.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        message = "no chromium on this machine: install Debian's `chromium` to run the browser checks"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (under CI this is a failure, not a skip)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def write_idx(path: Path, tensor: torch.Tensor, compress: bool = False) -> None:
    """Write a uint8 tensor in the IDX format of the MNIST files."""
    data = tensor.to(torch.uint8).contiguous()
    header = struct.pack(">HBB", 0, 0x08, data.dim()) + b"".join(struct.pack(">I", n) for n in data.shape)
    payload = header + data.numpy().tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        payload = gzip.compress(payload)
    path.write_bytes(payload)


def make_fake_mnist(root: Path, folder: str = "MNIST", n_train: int = 60, n_test: int = 20) -> Path:
    """A tiny data set in torchvision's layout: ``root/<folder>/raw/*-ubyte``."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    for prefix, n in [("train", n_train), ("t10k", n_test)]:
        write_idx(raw / f"{prefix}-images-idx3-ubyte", torch.randint(0, 256, (n, 28, 28), generator=g))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", torch.arange(n) % 10)
    return root


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    """A data root holding a tiny fake MNIST and Fashion-MNIST."""
    make_fake_mnist(tmp_path, "MNIST")
    make_fake_mnist(tmp_path, "FashionMNIST")
    return tmp_path


@pytest.fixture
def images() -> torch.Tensor:
    """Eight random "images", pixels in [0, 1], ``[8, 784]``."""
    return torch.rand(8, 784, generator=torch.Generator().manual_seed(0))
