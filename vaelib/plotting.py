"""Every figure of the book.  Each function returns a matplotlib ``Figure``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Polygon
from torch import Tensor

from .data import IMAGE_SHAPE

__all__ = [
    "autoencoder_diagram",
    "error_histograms",
    "image_grid",
    "image_rows",
    "latent_scatter",
    "loss_curves",
    "reconstructions",
]


def _as_images(images: Tensor) -> np.ndarray:
    """``[N, 784]``, ``[N, 28, 28]`` or ``[N, 1, 28, 28]`` -> numpy ``[N, 28, 28]``."""
    images = torch.as_tensor(images).detach().cpu().float()
    return images.reshape(len(images), *IMAGE_SHAPE).numpy()


def image_grid(images: Tensor, ncols: int = 10, title: str | None = None, scale: float = 0.9) -> Figure:
    """A grid of grayscale images, ``ncols`` per row."""
    images = _as_images(images)
    nrows = max(1, -(-len(images) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * scale, nrows * scale), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image in zip(axes.flat, images):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
    if title:
        fig.suptitle(title)
    fig.tight_layout(pad=0.2)
    return fig


def image_rows(rows: Mapping[str, Tensor], scale: float = 0.9, title: str | None = None) -> Figure:
    """Rows of images, each row labelled: e.g. noisy / denoised / clean."""
    rows = {name: _as_images(images) for name, images in rows.items()}
    ncols = max(len(images) for images in rows.values())
    fig, axes = plt.subplots(
        len(rows), ncols, figsize=(ncols * scale + 1.2, len(rows) * scale), squeeze=False
    )
    for r, (name, images) in enumerate(rows.items()):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(images):
                ax.imshow(images[c], cmap="gray_r", vmin=0, vmax=1)
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout(pad=0.2)
    return fig


def reconstructions(originals: Tensor, reconstructed: Tensor, n: int = 10) -> Figure:
    """Originals on the top row, their reconstructions on the bottom row."""
    return image_rows({"original": originals[:n], "reconstruction": reconstructed[:n]})


def loss_curves(history, part: str = "loss", ylabel: str = "loss (nats per image)") -> Figure:
    """Train and test loss per epoch from a :class:`vaelib.train.History`."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    epochs = np.arange(1, len(history.train) + 1)
    ax.plot(epochs, history.curve(part, "train"), "o-", label="train")
    if history.test:
        ax.plot(epochs, history.curve(part, "test"), "s--", label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def latent_scatter(
    z: Tensor, labels: Tensor, class_names: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """2-D codes ``[N, 2]`` as points coloured by label."""
    z = torch.as_tensor(z).detach().cpu().numpy()
    labels = torch.as_tensor(labels).cpu().numpy()
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"latent_scatter draws 2-D codes, [N, 2]; got shape {z.shape}")
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    cmap = plt.get_cmap("tab10")
    for k in np.unique(labels):
        pick = labels == k
        name = class_names[k] if class_names is not None else str(k)
        ax.scatter(z[pick, 0], z[pick, 1], s=3, alpha=0.6, color=cmap(int(k) % 10), label=name)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.legend(markerscale=4, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def error_histograms(errors: Mapping[str, Tensor], title: str | None = None, bins: int = 60) -> Figure:
    """Overlaid histograms of per-image errors (positive), one per named set.

    The x axis is logarithmic: errors of images unlike the training data can
    be ten or a hundred times those of typical ones.
    """
    fig, ax = plt.subplots(figsize=(6, 3.2))
    values = {name: torch.as_tensor(e).cpu().numpy() for name, e in errors.items()}
    everything = np.concatenate(list(values.values()))
    if (everything <= 0).any():
        raise ValueError("error_histograms draws positive errors on a log scale")
    edges = np.geomspace(everything.min(), everything.max(), bins + 1)
    for name, v in values.items():
        ax.hist(v, bins=edges, alpha=0.55, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("reconstruction error (nats per image, log scale)")
    ax.set_ylabel("images")
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def autoencoder_diagram(
    input_dim: int = 784, hidden_dims: Sequence[int] = (512, 256), latent_dim: int = 16
) -> Figure:
    """The encoder-decoder architecture, each layer a bar as tall as its width.

    Heights are on a square-root scale so that the bottleneck stays visible.
    """
    sizes = [input_dim, *hidden_dims, latent_dim, *reversed(hidden_dims), input_dim]
    n = len(sizes)
    mid = n // 2
    fig, ax = plt.subplots(figsize=(9, 3.8))
    height = lambda size: 2.6 * np.sqrt(size / input_dim) + 0.15  # noqa: E731
    xs = np.arange(n) * 1.25
    colors = ["#4C72B0"] * mid + ["#DD8452"] + ["#55A868"] * mid
    for i, (x, size) in enumerate(zip(xs, sizes)):
        h = height(size)
        ax.add_patch(plt.Rectangle((x - 0.18, -h / 2), 0.36, h, color=colors[i], alpha=0.9))
        ax.text(x, -h / 2 - 0.18, f"{size}", ha="center", va="top", fontsize=9)
        if i < n - 1:  # the layer between this bar and the next
            h2 = height(sizes[i + 1])
            ax.add_patch(
                Polygon(
                    [(x + 0.18, h / 2), (xs[i + 1] - 0.18, h2 / 2), (xs[i + 1] - 0.18, -h2 / 2), (x + 0.18, -h / 2)],
                    color=colors[i] if i < mid else colors[i + 1], alpha=0.15,
                )
            )
    ax.text(xs[0], 1.75, "input $x$\n(784 pixels)", ha="center", fontsize=10)
    ax.text(xs[mid], 1.75, "code $z$\n(the bottleneck)", ha="center", fontsize=10, color="#B0501A")
    ax.text(xs[-1], 1.75, r"output $\hat{x}$" "\n(logits)", ha="center", fontsize=10)
    for (a, b, label) in [(0, mid, "encoder"), (mid, n - 1, "decoder")]:
        ax.add_patch(FancyArrowPatch((xs[a], -2.0), (xs[b], -2.0), arrowstyle="-|>", mutation_scale=14, color="0.3"))
        ax.text((xs[a] + xs[b]) / 2, -2.3, label, ha="center", va="top", fontsize=11)
    ax.set_xlim(xs[0] - 0.8, xs[-1] + 0.8)
    ax.set_ylim(-2.8, 2.4)
    ax.axis("off")
    fig.tight_layout()
    return fig
